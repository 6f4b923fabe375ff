"""Supply-chain finance and shared credit records from Python (issue 11, decisions/0017).

    with Client("http://127.0.0.1:8700") as client:
        bank = ScfWallet(Wallet(load_key_file(Path("net/orgs/bank-a/admin.key")), client))
        bank.set_line(core, 5_000_000)
        tier1 = ScfWallet(Wallet(load_key_file(Path("tier1.key")), client))
        digest = tier1.register_invoice(core, "INV-001", 1_000_000, "2025-03-01")
        core_wallet.confirm(tier1.address, 1_000_000, maturity_ms, [digest])   # -> payable id
        part = tier1.transfer(payable_id, tier2.address, 400_000)              # -> the part moved
        offer = tier2.finance(part, bank.address, 400_000, rate_bps=450)       # -> offered part, price
        bank.finance_accept(offer["part"])                                     # DvP
        core_wallet.settle(payable_id)                                         # every holder paid
        ScfQueries(client).parts_of(payable_id)

Every argument is checked before anything is signed (:mod:`consortia.client.arguments`); every
action is one transaction that waits for finality; a refusal raises
:class:`~consortia.client.cbdc.ContractRefused` with the contract's code (``not_holder``,
``invoice_already_financed``, ``no_consent``, ...) and message. Reads go through the node's
contract views (``/v1/contracts/<name>/view/<method>``, also under ``/v1/scf``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consortia.apps.privacy import sdk as privacy
from consortia.apps.scf import sdk as apps
from consortia.client import contracts as sdk
from consortia.client.arguments import (
    InvalidArgument,
    check_address_arg,
    check_amount,
    check_bps,
    check_digest,
    check_flag,
    check_id,
    check_list,
    is_int,
)
from consortia.client.bills import check_timestamp
from consortia.client.cbdc import ContractRefused, app_refusal
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.client.privacy import PrivacyClient
from consortia.crypto.keys import KeyPair
from consortia.errors import NotFound

__all__ = ["ContractRefused", "ScfQueries", "ScfWallet", "check_credit_limit", "check_scope"]


def check_credit_limit(value: object) -> int:
    if not is_int(value) or not 0 <= value < 2**64:  # type: ignore[operator]
        raise InvalidArgument(f"a credit limit is a whole amount from 0 to 2**64 - 1, got {value!r:.40}")
    assert isinstance(value, int)
    return value


def check_scope(value: object) -> str:
    if value not in apps.SCOPES:
        raise InvalidArgument(f"the consent's scope is one of {list(apps.SCOPES)}, got {value!r:.40}")
    return str(value)


def _event(receipt: sdk.ContractReceipt, contract: str, name: str) -> dict[str, Any]:
    for event in receipt.events:
        if event.contract == contract and event.name == name:
            return event.fields
    raise InvalidArgument(f"call 0x{receipt.tx_hash.hex()} emitted no {contract}.{name} event")


class ScfWallet(PermWallet):
    """A key's actions on payables, invoices and credit records (core enterprise, supplier,
    bank, lender, borrower, regulator); each waits for finality and raises the typed refusal."""

    def _app(self, call: apps.AppCall) -> sdk.ContractReceipt:
        receipt = sdk.send(
            self.wallet,
            call.contract,
            call.method,
            call.args,
            timeout=self.timeout,
            check=False,
            value=call.value,
        )
        if not receipt.ok:
            raise app_refusal(receipt)
        return receipt

    # credit lines and invoices
    def set_line(self, core: bytes | str, limit: int) -> dict[str, Any]:
        core_address = check_address_arg(core, "core enterprise")
        receipt = self._app(apps.set_line(core_address, check_credit_limit(limit)))
        return _event(receipt, apps.SCF, "LineSet")

    def register_invoice(self, buyer: bytes | str, number: str, amount: int, date: str) -> bytes:
        """Register this key's invoice to ``buyer`` by the hash of its normalised fields; the hash."""
        to = check_address_arg(buyer, "buyer")
        digest = apps.invoice_hash(self.address, to, number, check_amount(amount), date)
        self._app(apps.register_invoice(digest, to, amount))
        return digest

    def register_sealed_invoice(self, buyer: bytes | str, number: str, amount: int, date: str,
                                lines: Sequence[str] = (), note: str = "") -> dict[str, Any]:  # fmt: skip
        """Register this key's invoice with its contents sealed to the seller, the buyer and the
        supervisor (apps/privacy): the hash and the contents' reference on chain, the ciphertext
        and envelopes handed to this client's node and the other concerned organisations' stores."""
        to = check_address_arg(buyer, "buyer")
        units = check_amount(amount)
        digest = apps.invoice_hash(self.address, to, number, units, date)
        contents = apps.invoice_contents(self.address, to, number, units, date, lines, note)
        reads = PrivacyClient(self.wallet.client)
        sealed = reads.seal(privacy.SCF_INVOICE, digest, contents, [self.address, to])
        receipt = self._app(apps.register_invoice(digest, to, units, sealed.ref))
        stored = reads.store(privacy.SCF_INVOICE, digest, sealed)
        return {"hash": "0x" + digest.hex(), "content": "0x" + sealed.ref.hex(), "stores": stored["stores"],
                "no_store": stored["no_store"], "tx_hash": "0x" + receipt.tx_hash.hex(),
                "height": receipt.height}

    def confirm_invoice(self, digest: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.confirm_invoice(check_digest(digest, "invoice hash")))

    def dispute_invoice(self, digest: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.dispute_invoice(check_digest(digest, "invoice hash")))

    # payables
    def confirm(self, supplier: bytes | str, amount: int, maturity_ms: int,
                invoices: Sequence[bytes | str]) -> int:  # fmt: skip
        """Confirm a payable to ``supplier`` on this core's credit line; the payable's id (which
        is also the id of its first part, held by the supplier)."""
        invoices = check_list(invoices, "the invoices", 1, apps.MAX_INVOICES)
        call = apps.confirm(
            check_address_arg(supplier, "supplier"),
            check_amount(amount),
            check_timestamp(maturity_ms, "the maturity"),
            [check_digest(i, "invoice hash") for i in invoices],
        )
        return int(_event(self._app(call), apps.SCF, "PayableConfirmed")["id"])

    def transfer(self, part_id: int, to: bytes | str, amount: int) -> int:
        """Pass ``amount`` of a part to ``to``; the id of the part ``to`` now holds."""
        call = apps.transfer(
            check_id(part_id, "part id"), check_address_arg(to, "recipient"), check_amount(amount)
        )
        return int(_event(self._app(call), apps.SCF, "PartTransferred")["moved"])

    def finance(self, part_id: int, bank: bytes | str, amount: int, rate_bps: int,
                recourse: bool = False) -> dict[str, Any]:  # fmt: skip
        """Offer ``amount`` of a part to ``bank``; the offered part's id, days, interest and price."""
        call = apps.finance(
            check_id(part_id, "part id"),
            check_address_arg(bank, "bank"),
            check_amount(amount),
            check_bps(rate_bps, apps.MAX_RATE_BPS, "rate"),
            check_flag(recourse, "recourse"),
        )
        fields = _event(self._app(call), apps.SCF, "FinanceOffered")
        return {k: fields[k] for k in ("part", "amount", "days", "interest", "price", "rate_bps", "recourse")}

    def finance_accept(self, part_id: int, price: int | None = None) -> dict[str, Any]:
        """The bank pays the price and takes the part in one transaction. Without ``price`` it
        attaches the price at today's date or tomorrow's, whichever is more (the excess returns)."""
        part_id = check_id(part_id, "part id")
        if price is None:
            queries = ScfQueries(self.client)
            part = queries.part(part_id)
            offer = part["offer"]
            if not offer:
                raise ContractRefused(f"part {part_id} has no financing offer", "no_finance_offer")
            maturity = int(queries.payable(int(part["payable"]))["maturity"])
            head = queries.head_time()
            price = max(
                apps.finance_terms(int(part["amount"]), int(offer["rate_bps"]), at, maturity)[2]
                for at in (head, head + apps.DAY_MS)
            )
        receipt = self._app(apps.finance_accept(part_id, check_amount(price, "price")))
        return _event(receipt, apps.SCF, "PartFinanced")

    def finance_cancel(self, part_id: int) -> sdk.ContractReceipt:
        return self._app(apps.finance_cancel(check_id(part_id, "part id")))

    def settle(self, payable_id: int) -> list[dict[str, Any]]:
        """Pay every holder of every part (the payable's amount read from the chain); the payments."""
        payable_id = check_id(payable_id, "payable id")
        amount = int(ScfQueries(self.client).payable(payable_id)["amount"])
        receipt = self._app(apps.settle(payable_id, amount))
        return [e.fields for e in receipt.events if e.contract == apps.SCF and e.name == "PartPaid"]

    def default(self, payable_id: int) -> sdk.ContractReceipt:
        return self._app(apps.default(check_id(payable_id, "payable id")))

    def claim_pay(self, part_id: int) -> sdk.ContractReceipt:
        part_id = check_id(part_id, "part id")
        claim = ScfQueries(self.client).part(part_id)["claim"]
        if not claim:
            raise ContractRefused(f"part {part_id} has no open recourse claim", "no_claim")
        return self._app(apps.claim_pay(part_id, check_amount(int(claim["amount"]))))

    # credit records
    def record_loan(self, borrower: bytes | str, commitment: bytes | str, amount: int, start_ms: int,
                    due_ms: int) -> int:  # fmt: skip
        call = apps.record_loan(
            check_address_arg(borrower, "borrower"),
            check_digest(commitment, "commitment"),
            check_amount(amount),
            check_timestamp(start_ms, "the start"),
            check_timestamp(due_ms, "the due time"),
        )
        return int(_event(self._app(call), apps.CREDIT, "LoanRecorded")["id"])

    def repay(self, loan_id: int) -> sdk.ContractReceipt:
        return self._app(apps.repay(check_id(loan_id, "loan id")))

    def default_loan(self, loan_id: int) -> sdk.ContractReceipt:
        return self._app(apps.default_loan(check_id(loan_id, "loan id")))

    def write_off(self, loan_id: int) -> sdk.ContractReceipt:
        return self._app(apps.write_off(check_id(loan_id, "loan id")))

    def consent(self, lender: bytes | str, until_ms: int, scope: str = "loans") -> sdk.ContractReceipt:
        call = apps.consent(
            check_address_arg(lender, "lender"),
            check_scope(scope),
            check_timestamp(until_ms, "the consent's end"),
        )
        return self._app(call)

    def revoke_consent(self, lender: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.revoke(check_address_arg(lender, "lender")))

    def query_credit(self, borrower: bytes | str) -> dict[str, Any]:
        """A logged credit query (needs the borrower's consent, or the regulator's key): the
        borrower's outstanding and overdue totals across lenders (and its loans, by scope)."""
        receipt = self._app(apps.query(check_address_arg(borrower, "borrower")))
        return _event(receipt, apps.CREDIT, "CreditQueried")


class ScfQueries:
    """Read-only views of ``scf`` and ``credit`` on a node's committed state (bytes stay bytes)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _view(self, call: apps.ViewCall) -> Any:
        return sdk.view(self.client, call.contract, call.method, *call.args)

    def line(self, core: bytes | str) -> dict[str, Any]:
        return dict(self._view(apps.line(check_address_arg(core, "core enterprise"))))

    def payable(self, payable_id: int) -> dict[str, Any]:
        return dict(self._view(apps.payable(check_id(payable_id, "payable id"))))

    def part(self, part_id: int) -> dict[str, Any]:
        return dict(self._view(apps.part(check_id(part_id, "part id"))))

    def parts_of(self, payable_id: int) -> list[dict[str, Any]]:
        return list(self._view(apps.parts_of(check_id(payable_id, "payable id"))))

    def invoice(self, digest: bytes | str) -> dict[str, Any]:
        return dict(self._view(apps.invoice(check_digest(digest, "invoice hash"))))

    def invoice_contents(self, digest: bytes | str, key: KeyPair) -> dict[str, Any]:
        """The sealed contents of an invoice, opened with a party's or the supervisor's ``key``
        and checked against the registry's hash (:class:`NotARecipient` for anyone else)."""
        invoice = check_digest(digest, "invoice hash")
        ref = self.invoice(invoice).get("content")
        if not ref:
            raise NotFound(f"invoice 0x{invoice.hex()} was registered without sealed contents")
        kind, object_id, plaintext = PrivacyClient(self.client).open(bytes(ref), key)
        if (kind, object_id) != (privacy.SCF_INVOICE, invoice):
            raise InvalidArgument(f"content 0x{bytes(ref).hex()} belongs to {kind} 0x{object_id.hex()}, "
                                  f"not to invoice 0x{invoice.hex()}")
        return {"hash": "0x" + invoice.hex(), "content": "0x" + bytes(ref).hex(),
                **apps.check_invoice_contents(plaintext, invoice)}

    def held_by(
        self, holder: bytes | str, start: int = 0, limit: int = apps.MAX_LIST
    ) -> list[dict[str, Any]]:
        return list(self._view(apps.held_by(check_address_arg(holder, "holder"), start, limit)))

    def payables(self, start: int = 1, limit: int = apps.MAX_LIST) -> list[dict[str, Any]]:
        return list(self._view(apps.payables_list(start, limit)))

    def loan(self, loan_id: int) -> dict[str, Any]:
        return dict(self._view(apps.loan(check_id(loan_id, "loan id"))))

    def query_log(
        self, borrower: bytes | str, start: int = 0, limit: int = apps.MAX_LIST
    ) -> list[dict[str, Any]]:
        return list(self._view(apps.query_log(check_address_arg(borrower, "borrower"), start, limit)))

    def head_time(self) -> int:
        """The timestamp of the node's latest block."""
        return int(self.client.get("/v1/status")["timestamp_ms"])
