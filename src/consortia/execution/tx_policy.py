"""Who may send what: the identity and regulator rules applied to every transaction.

The same checks run at admission (the mempool) and at execution (the executor), so no rule
lives only in the API or the CLI: a hand-crafted transaction sent straight to a node meets
exactly the same refusals. On a chain whose genesis names no organisations (an open dev chain)
there is nothing to check.
"""

from __future__ import annotations

from consortia.contracts.native_currency import decode_call
from consortia.contracts.permissioned import (
    SENDER_REFUSING_EVENTS,
    check_sender_and_call,
    permissioned,
)
from consortia.contracts.permissioned.policy import admission_checks
from consortia.contracts.python.api import address_of
from consortia.execution.state_view import StateReader
from consortia.types.receipt import Receipt
from consortia.types.transaction import Call


class TxPolicy:
    def applies(self, state: StateReader) -> bool:
        """Whether this chain has organisations (then every sender needs an identity)."""
        return permissioned(state.get)

    def check(self, state: StateReader, sender: bytes, call: Call, height: int) -> None:
        """Raise the typed refusal (unknown or revoked identity, frozen account, role) or pass."""
        check_sender_and_call(state.get, sender, call.contract, call.method, height)

    def admit(self, state: StateReader, sender: bytes, call: Call, height: int) -> str:
        """At admission: :meth:`check`, then refuse a payment the regulator's rules refuse on
        the committed state — a native transfer, or value attached to a contract call
        (recipient active and not frozen, asset not frozen, the sender's per-payment limit, the
        recipient's balance cap and this one payment against the daily limit; the running
        daily total depends on the block's day, the executor checks it in full). The sender's
        organisation (for the pool's per-organisation bound)."""
        if call.contract == "currency" and call.method == "transfer":
            payment: tuple[bytes, int] | None = decode_call(call.method, call.args)
        elif call.value:  # a deployed contract's call: admission refused value to system ones first
            payment = address_of(call.contract), call.value
        else:
            payment = None
        return admission_checks(state.get, sender, call.contract, call.method, payment)

    def may_refuse_senders(self, receipts: list[Receipt]) -> bool:
        """Whether a block with these receipts may have made pooled senders unacceptable
        (a freeze, a revocation, a closed proposal that may have removed an organisation)."""
        return any(
            (event.contract, event.name) in SENDER_REFUSING_EVENTS
            for receipt in receipts
            for event in receipt.events
        )
