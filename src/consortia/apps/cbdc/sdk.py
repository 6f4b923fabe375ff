"""Building the calls of ``apps/cbdc`` and reading its views: plain functions a CLI or REST
layer wraps.

A call is an :class:`AppCall` ``(contract, method, args, value)``: put it in a transaction as
``Call(contract, method, encode_args(call), value)``. A view is a :class:`ViewCall`
``(contract, method, args)``; decode what it returns with the matching ``*_from_view``.

    call = escrow_create(payee, releaser, deadline_height=120, amount=500)
    tx_call = Call(call.contract, call.method, encode_args(call), call.value)
    escrow_id = created_id(receipt.events, ESCROW)      # from the EscrowCreated event
    escrow = escrow_from_view(run_view(*escrow_get(escrow_id)))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from consortia.codec import decode_any, encode
from consortia.crypto.sealed import seal_identity
from consortia.errors import DecodeError
from consortia.types.receipt import Event

ESCROW = "escrow"
EARMARK = "earmark"
PAYMENTS = "payments"
RESOLVE = "resolve"

MAX_PAYEES = 32
MAX_INSTALMENTS = 100
MAX_REASON = 512
MAX_ANSWER = 4096

CREATED_EVENTS: dict[str, str] = {
    ESCROW: "EscrowCreated",
    EARMARK: "EarmarkCreated",
    PAYMENTS: "PaymentCreated",
    RESOLVE: "ResolveRequested",
}
"""The event each contract emits when it creates an object (its ``id`` field is the new id)."""

ERROR_CODES: dict[str, tuple[str, ...]] = {
    ESCROW: ("escrow_needs_value", "bad_address", "bad_deadline", "escrow_not_found",
             "escrow_not_releasable", "escrow_not_refundable"),
    EARMARK: ("earmark_needs_value", "bad_address", "too_many_payees", "bad_expiry", "earmark_not_found",
              "not_recipient", "earmark_expired", "payee_not_allowed", "bad_amount", "earmark_insufficient",
              "earmark_not_expirable"),
    PAYMENTS: ("wrong_value", "bad_address", "bad_schedule", "payment_not_found", "instalment_not_due",
               "instalment_not_payable", "not_payer", "payment_not_cancellable"),
    RESOLVE: ("not_regulator", "not_a_wallet", "bad_reason", "bad_regulator_key", "resolve_not_found",
              "not_wallet_bank", "already_answered", "bad_answer", "answer_too_large"),
}
"""The receipt statuses each contract refuses with (besides the chain's own, e.g. rules of money)."""


class AppCall(NamedTuple):
    contract: str
    method: str
    args: list[Any]
    value: int = 0


class ViewCall(NamedTuple):
    contract: str
    method: str
    args: list[Any]


def encode_args(call: AppCall | ViewCall) -> bytes:
    """The ``Call.args`` bytes of ``call`` (one canonical MessagePack list)."""
    return encode(list(call.args))


def created_id(events: Iterable[Event], contract: str) -> int:
    """The id of the object a successful create/request made, from its receipt's events."""
    wanted = CREATED_EVENTS[contract]
    for event in events:
        if event.contract == contract and event.name == wanted:
            fields = decode_any(event.data, dict[str, Any])
            return int(fields["id"])
    raise DecodeError(f"no {contract}.{wanted} event among the receipt's events")


def event_fields(event: Event) -> dict[str, Any]:
    """The decoded fields of an app event."""
    fields: dict[str, Any] = decode_any(event.data, dict[str, Any])
    return fields


# --- escrow ------------------------------------------------------------------------------------


def escrow_create(payee: bytes, releaser: bytes, deadline_height: int, amount: int) -> AppCall:
    """Lock ``amount`` for ``payee``; ``releaser`` releases it up to ``deadline_height``."""
    return AppCall(ESCROW, "create", [payee, releaser, deadline_height], amount)


def escrow_release(escrow_id: int) -> AppCall:
    return AppCall(ESCROW, "release", [escrow_id])


def escrow_refund(escrow_id: int) -> AppCall:
    return AppCall(ESCROW, "refund", [escrow_id])


def escrow_get(escrow_id: int) -> ViewCall:
    return ViewCall(ESCROW, "get", [escrow_id])


@dataclass(frozen=True, slots=True)
class EscrowView:
    id: int
    payer: bytes
    payee: bytes
    releaser: bytes
    amount: int
    deadline: int
    status: str
    """``open``, ``released`` or ``refunded``."""
    created: int
    settled: int
    """Height of the release or refund (0 while open)."""


def escrow_from_view(result: dict[str, Any]) -> EscrowView:
    return _build(EscrowView, result)


# --- earmark -----------------------------------------------------------------------------------


def earmark_create(recipient: bytes, payees: Sequence[bytes], expires_height: int, amount: int) -> AppCall:
    """Earmark ``amount`` for ``recipient`` to spend at ``payees`` (at most 32) before
    ``expires_height``."""
    if not 0 < len(payees) <= MAX_PAYEES:
        raise ValueError(f"an earmark lists 1 to {MAX_PAYEES} payees, got {len(payees)}")
    return AppCall(EARMARK, "create", [recipient, list(payees), expires_height], amount)


def earmark_spend(earmark_id: int, payee: bytes, amount: int) -> AppCall:
    return AppCall(EARMARK, "spend", [earmark_id, payee, amount])


def earmark_expire(earmark_id: int) -> AppCall:
    return AppCall(EARMARK, "expire", [earmark_id])


def earmark_get(earmark_id: int) -> ViewCall:
    return ViewCall(EARMARK, "get", [earmark_id])


def earmark_allowed(earmark_id: int, payee: bytes) -> ViewCall:
    return ViewCall(EARMARK, "allowed", [earmark_id, payee])


@dataclass(frozen=True, slots=True)
class EarmarkView:
    id: int
    issuer: bytes
    recipient: bytes
    payees: list[bytes]
    amount: int
    remaining: int
    expires: int
    status: str
    """``open``, ``spent`` (nothing left) or ``expired`` (the rest returned to the issuer)."""
    created: int
    closed: int


def earmark_from_view(result: dict[str, Any]) -> EarmarkView:
    return _build(EarmarkView, result)


# --- scheduled payments ------------------------------------------------------------------------


def payment_create(payee: bytes, amount: int, first_height: int, count: int, interval: int) -> AppCall:
    """Pay ``payee`` ``amount`` at ``first_height`` and every ``interval`` blocks, ``count``
    times; attaches ``amount * count``."""
    if not 0 < count <= MAX_INSTALMENTS:
        raise ValueError(f"a scheduled payment has 1 to {MAX_INSTALMENTS} instalments, got {count}")
    return AppCall(PAYMENTS, "create", [payee, amount, first_height, count, interval], amount * count)


def payment_pay_instalment(payment_id: int, index: int) -> AppCall:
    """Pay an instalment that is due and was not paid at its height (anyone may)."""
    return AppCall(PAYMENTS, "pay_instalment", [payment_id, index])


def payment_cancel(payment_id: int) -> AppCall:
    return AppCall(PAYMENTS, "cancel", [payment_id])


def payment_get(payment_id: int) -> ViewCall:
    return ViewCall(PAYMENTS, "get", [payment_id])


def payment_instalment(payment_id: int, index: int) -> ViewCall:
    return ViewCall(PAYMENTS, "instalment", [payment_id, index])


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: int
    payer: bytes
    payee: bytes
    amount: int
    first: int
    count: int
    interval: int
    paid_count: int
    status: str
    """``active``, ``completed`` or ``cancelled``."""
    created: int
    closed: int
    refunded: int

    def due_heights(self) -> list[int]:
        return [self.first + i * self.interval for i in range(self.count)]


def payment_from_view(result: dict[str, Any]) -> PaymentView:
    return _build(PaymentView, result)


@dataclass(frozen=True, slots=True)
class InstalmentView:
    index: int
    due: int
    amount: int
    paid_height: int
    """0 while unpaid."""


def instalment_from_view(result: dict[str, Any]) -> InstalmentView:
    return _build(InstalmentView, result)


# --- identity resolution -----------------------------------------------------------------------


def resolve_request(wallet: bytes, reason: str, regulator_key: bytes) -> AppCall:
    """Regulator staff ask the wallet's bank who is behind ``wallet``; the answer will be
    sealed to ``regulator_key`` (see :func:`consortia.crypto.sealed.resolve_public_key`)."""
    if not 0 < len(reason) <= MAX_REASON:
        raise ValueError(f"give a reason of 1 to {MAX_REASON} characters, got {len(reason)}")
    return AppCall(RESOLVE, "request", [wallet, reason, regulator_key])


def resolve_answer(request_id: int, ciphertext: bytes) -> AppCall:
    if len(ciphertext) > MAX_ANSWER:
        raise ValueError(f"the sealed answer is {len(ciphertext)} bytes, above {MAX_ANSWER}")
    return AppCall(RESOLVE, "answer", [request_id, ciphertext])


def resolve_answer_sealed(
    request_id: int, regulator_key: bytes, salt: bytes, personal_data: bytes
) -> AppCall:
    """The bank's answer: the wallet's salt and personal data sealed to the key the request named."""
    return resolve_answer(request_id, seal_identity(regulator_key, salt, personal_data))


def resolve_get(request_id: int) -> ViewCall:
    return ViewCall(RESOLVE, "get", [request_id])


def resolve_count() -> ViewCall:
    return ViewCall(RESOLVE, "count", [])


@dataclass(frozen=True, slots=True)
class ResolveView:
    id: int
    wallet: bytes
    org: str
    """The wallet's bank (when requested)."""
    requested_by: bytes
    requester_org: str
    reason: str
    regulator_key: bytes
    requested: int
    status: str
    """``open`` or ``answered``."""
    answered: int
    answered_by: bytes
    ciphertext: bytes


def resolve_from_view(result: dict[str, Any]) -> ResolveView:
    return _build(ResolveView, result)


def _build(cls: Any, result: dict[str, Any]) -> Any:
    if not isinstance(result, dict):
        raise DecodeError(f"a {cls.__name__} is read from a dict view result, got {type(result).__name__}")
    names = cls.__dataclass_fields__
    missing = [name for name in names if name not in result]
    if missing:
        raise DecodeError(f"the view result has no {', '.join(missing)} for a {cls.__name__}")
    return cls(**{name: result[name] for name in names})
