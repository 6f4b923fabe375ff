"""Industrial traceability from Python (issue 18, decisions/0021).

    with Client("http://127.0.0.1:8700") as client:
        mill = TraceWallet(Wallet(load_key_file(Path("mill.key")), client))
        mill.register("urn:epc:class:lgtin:9506000.013436.COIL-88", "hot-rolled coil", public=["product"])
        mill.handover(coil, to=parts_maker)            # pending until the receiver confirms
        TraceWallet(Wallet(parts_key, client)).receive(coil)
        TraceQueries(client).provenance(machine)       # from the node's SQL index

Item ids may be given as EPC URIs, GS1 Digital Links or industrial-internet ids; they are
checked (GS1 check digits included) and made canonical before anything is signed
(:mod:`consortia.apps.trace.identifiers`). Every action is one transaction that waits for
finality; a refusal raises the typed error of its receipt — the contract's codes
(``not_holder``, ``handover_pending``, ``recalled``, ...) as :class:`ContractRefused`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from consortia.apps.notary.receipts import DocumentReceipt, verify_receipt
from consortia.apps.trace import epcis
from consortia.apps.trace import sdk as apps
from consortia.apps.trace.identifiers import canonical
from consortia.client import contracts as sdk
from consortia.client.arguments import InvalidArgument, check_address_arg, check_digest, check_text
from consortia.client.cbdc import ContractRefused, app_refusal
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.types.genesis import Genesis

__all__ = [
    "ContractRefused",
    "ImportResult",
    "TraceQueries",
    "TraceWallet",
    "anchor_of",
    "canonical",
    "report_hash",
]


# --- argument checks ----------------------------------------------------------------------------


def check_items(items: Sequence[str], what: str) -> list[str]:
    if not isinstance(items, list | tuple) or not 1 <= len(items) <= apps.MAX_ITEMS:
        raise InvalidArgument(f"{what} lists 1 to {apps.MAX_ITEMS} item ids, got {items!r:.80}")
    found = [canonical(i) for i in items]
    if len(set(found)) != len(found):
        raise InvalidArgument(f"{what} names an item twice: {found!r:.200}")
    return found


def check_public(fields: Sequence[str]) -> list[str]:
    if not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields):
        raise InvalidArgument(f"public fields are a list of names, got {fields!r:.80}")
    found = [f.strip() for f in fields if f.strip()]
    wrong = [f for f in found if f not in apps.PUBLIC_FIELDS]
    if wrong or len(set(found)) != len(found):
        raise InvalidArgument(
            f"public fields are distinct names among {', '.join(apps.PUBLIC_FIELDS)}; got {found!r:.120}"
        )
    return found


def check_inspection_result(result: str) -> str:
    if result not in apps.RESULTS:
        raise InvalidArgument(f"an inspection's result is pass or fail, got {result!r:.20}")
    return result


def text(value: str, what: str, *, empty: bool = False) -> str:
    """Printable text of up to 200 characters (the contract's rule), empty only where allowed."""
    if empty and value == "":
        return ""
    found = check_text(value, what, apps.MAX_TEXT)
    if any(ord(c) < 32 or ord(c) == 127 for c in found):
        raise InvalidArgument(f"{what} must be printable text (no control characters)")
    return found


def anchor_of(receipt: DocumentReceipt, report: bytes, genesis: Genesis) -> bytes:
    """The notary root that stamped the report whose SHA-256 is ``report``: the receipt is
    checked against ``genesis`` (the Merkle path, the anchoring transaction's proof) first."""
    return verify_receipt(receipt, genesis, report).root


def report_hash(report: bytes) -> bytes:
    """The SHA-256 of an inspection report's bytes: what the chain records (and what a
    notarisation receipt of the report proves)."""
    return hashlib.sha256(report).digest()


# --- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one EPCIS event of an imported document did: its receipt, or the refusal."""

    index: int
    action: str
    item: str
    status: str
    message: str
    tx_hash: str | None


class TraceWallet(PermWallet):
    """A key's actions on traced items; each waits for finality and raises the typed refusal."""

    def _app(self, call: apps.AppCall) -> sdk.ContractReceipt:
        receipt = sdk.send(self.wallet, call.contract, call.method, call.args, timeout=self.timeout,
                           check=False, value=call.value)  # fmt: skip
        if not receipt.ok:
            raise app_refusal(receipt)
        return receipt

    def register(self, item: str, product: str, public: Sequence[str] = ()) -> sdk.ContractReceipt:
        return self._app(apps.register(canonical(item), text(product, "product"), check_public(public)))

    def observe(self, item: str, where: str, reading: str = "") -> sdk.ContractReceipt:
        return self._app(
            apps.observe(canonical(item), text(where, "where"), text(reading, "reading", empty=True))
        )

    def aggregate(self, parent: str, children: Sequence[str]) -> sdk.ContractReceipt:
        return self._app(apps.aggregate(canonical(parent), check_items(children, "children")))

    def disaggregate(self, parent: str) -> sdk.ContractReceipt:
        return self._app(apps.disaggregate(canonical(parent)))

    def transform(
        self, inputs: Sequence[str], outputs: Sequence[str], product: str = ""
    ) -> sdk.ContractReceipt:
        return self._app(
            apps.transform(
                check_items(inputs, "inputs"),
                check_items(outputs, "outputs"),
                text(product, "product", empty=True),
            )
        )

    def handover(self, item: str, to: bytes | str) -> sdk.ContractReceipt:
        return self._app(apps.handover(canonical(item), check_address_arg(to, "receiver")))

    def cancel_handover(self, item: str) -> sdk.ContractReceipt:
        return self._app(apps.cancel_handover(canonical(item)))

    def receive(self, item: str) -> sdk.ContractReceipt:
        return self._app(apps.receive(canonical(item)))

    def certify(self, item: str, result: str, report: bytes, anchor: bytes = b"") -> sdk.ContractReceipt:
        """An inspection: ``report`` is the report's SHA-256 (:func:`report_hash`), ``anchor`` the
        notary root that stamped it (from its receipt) or empty."""
        return self._app(
            apps.certify(
                canonical(item),
                check_inspection_result(result),
                check_digest(report, "report hash"),
                b"" if anchor == b"" else check_digest(anchor, "anchor"),
            )
        )

    def recall(self, item: str, reason: str) -> sdk.ContractReceipt:
        return self._app(apps.recall(canonical(item), text(reason, "reason")))

    def lift_recall(self, item: str, reason: str) -> sdk.ContractReceipt:
        return self._app(apps.lift_recall(canonical(item), text(reason, "reason")))

    def import_document(self, document: Any, *, stop_on_refusal: bool = True) -> list[ImportResult]:
        """Validate an EPCIS 2.0 document and sign its events as this key's calls, in order;
        each event's outcome (by default the import stops at the first refusal)."""
        calls = epcis.import_document(document)
        out: list[ImportResult] = []
        for index, call in enumerate(calls):
            app = epcis.app_call(call)
            receipt = sdk.send(self.wallet, app.contract, app.method, app.args, timeout=self.timeout,
                               check=False, value=app.value)  # fmt: skip
            out.append(ImportResult(index, call.action, call.item or ",".join(call.outputs), receipt.status,
                                    receipt.error, "0x" + receipt.tx_hash.hex()))  # fmt: skip
            if not receipt.ok and stop_on_refusal:
                break
        return out


# --- queries ------------------------------------------------------------------------------------


class TraceQueries:
    """Reads through a node's REST API (``/v1/trace``): the contract's record of an item, and
    the SQL index's answers (status, provenance, where-used, public view, EPCIS export)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _get(self, what: str, item: str) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/trace/{what}", id=canonical(item)))

    def item(self, item: str) -> dict[str, Any]:
        """The contract's record (committed state), addresses as 0x text."""
        return dict(self._get("item", item)["item"])

    def status(self, item: str) -> dict[str, Any]:
        return self._get("status", item)

    def provenance(self, item: str) -> dict[str, Any]:
        return self._get("provenance", item)

    def where_used(self, item: str) -> dict[str, Any]:
        return self._get("where-used", item)

    def public(self, item: str) -> dict[str, Any]:
        return self._get("public", item)

    def export(self, item: str) -> dict[str, Any]:
        """An EPCIS 2.0 document of every event of the item and of everything upstream."""
        return dict(self._get("export", item)["document"])
