"""Policy hooks the mempool and the executor call; pure functions of state (and the block).

* :func:`check_sender_identity` — every transaction, at admission *and* at execution: the sender is an
  enrolled, active identity of an active organisation and not frozen.
* :func:`check_call` — every transaction, before its contract runs: role rules that do not live
  inside a contract (the regulator's staff cannot call money-moving methods).
* :func:`check_transfer` — inside the currency's ``transfer`` (and any asset contract's), *before*
  moving value: recipient active and not frozen, asset not frozen, KYC tier limits. Records the
  sender's running daily total, so it must run in the same transaction context as the transfer.
* :func:`observe_transfer` — *after* the value moved: alert rules (large amount, structuring,
  velocity); alerts are written and emitted with the transaction.
* :func:`pay` — the three around a native move, the payer's activity read and written once.

Parties: a payment may only go to (or come from) an enrolled, active, unfrozen identity, or the
account of an organisation's reserve or of a deployed contract that is not frozen
(decisions/0011). Those accounts have no tier: no tier limits apply to them.
Tier limits: ``per_payment`` and ``daily`` are those of the sender's tier; ``balance`` is the
recipient's tier limit on its balance after the payment. The day is the
UTC day of the *block timestamp* (``timestamp_ms // 86_400_000``).
"""

from __future__ import annotations

from msgspec.structs import replace

from consortia.contracts.native_currency import move
from consortia.contracts.permissioned import alerting, keys
from consortia.contracts.permissioned.activity import read_activity, write_activity
from consortia.contracts.permissioned.directory import check_active
from consortia.contracts.permissioned.directory import identity as identity_record
from consortia.contracts.permissioned.directory import org as org_record
from consortia.contracts.permissioned.errors import (
    AccountFrozen,
    AssetFrozen,
    LimitExceeded,
    OrganisationRemoved,
    RegulatorCannotTransfer,
)
from consortia.contracts.permissioned.limits import DAY_MS
from consortia.contracts.permissioned.records import ACTIVE, REGULATOR, Activity, Identity, Org, TierLimits
from consortia.contracts.permissioned.regulator import is_asset_frozen, is_frozen, limits
from consortia.contracts.permissioned.store import StateGet, read
from consortia.contracts.python.host import FunctionReader
from consortia.contracts.python.layout import contract_at
from consortia.execution.accounts import account_key, decode_account
from consortia.execution.context import CallContext

NATIVE = "native"
MONEY_METHODS: frozenset[tuple[str, str]] = frozenset({("currency", "transfer")})
"""(contract, method) pairs that move value; extend when asset contracts are added."""


def permissioned(state_get: StateGet) -> bool:
    """True when genesis set up the permission layer (``perm/cfg`` exists). A chain without it
    (no ``orgs`` in genesis) runs open: callers should then skip these hooks."""
    return state_get(keys.CONFIG) is not None


SENDER_REFUSING_EVENTS: frozenset[tuple[str, str]] = frozenset({
    ("regulator", "Frozen"),
    ("identity", "Revoked"),
    ("governance", "Closed"),  # an approved remove-org revokes its members
})
"""Events after which senders admitted earlier may now be refused (the pool re-checks them)."""


def check_sender_identity(state_get: StateGet, sender: bytes, height: int) -> None:
    """Refuse a transaction whose sender is unknown, revoked, of a removed org, or frozen.

    ``height`` is the height the transaction is admitted for / executed at (reserved for rules
    with an effective height; today every change takes effect at once).
    """
    _active_unfrozen(state_get, sender, "sender")


def check_sender_and_call(
    state_get: StateGet, sender: bytes, contract: str, method: str, height: int
) -> None:
    """:func:`check_call` and :func:`check_sender_identity` together, each record read once
    (what every transaction meets at admission, proposal and execution)."""
    ident, owner = _records(state_get, sender)
    _refuse_regulator(owner, sender, contract, method, MONEY_METHODS)
    _active_unfrozen(state_get, sender, "sender", (ident, owner))


Records = tuple[Identity | None, Org | None]


def _records(state_get: StateGet, address: bytes) -> Records:
    """The identity at ``address`` and its organisation (None where there is none)."""
    ident = identity_record(state_get, address)
    return ident, (org_record(state_get, ident.org) if ident is not None else None)


def _party(state_get: StateGet, address: bytes, who: str, known: Records | None = None) -> Identity | None:
    """The identity behind ``address`` (active and not frozen, or the typed refusal), or None
    for an account that is no one's identity but may hold money — an organisation's reserve
    (the organisation active) or a deployed contract's — checked not frozen. ``known``: the
    address's records when the caller has read them already."""
    ident, owner = known if known is not None else _records(state_get, address)
    if ident is not None:
        return _active_unfrozen(state_get, address, who, (ident, owner))
    reserve_of = read(state_get, keys.reserve(address), str)
    if reserve_of is not None:
        reserve_org = org_record(state_get, reserve_of)
        if reserve_org is None or reserve_org.status != ACTIVE:
            raise OrganisationRemoved(
                f"{who} 0x{address.hex()} is the reserve of {reserve_of!r}, which was removed",
                address=address,
                org=reserve_of,
            )
    elif contract_at(FunctionReader(state_get), address) is None:
        return _active_unfrozen(state_get, address, who, (None, None))  # nobody: the typed refusal
    if is_frozen(state_get, address):
        raise AccountFrozen(f"{who} 0x{address.hex()} is frozen by the regulator", address=address)
    return None


def _active_unfrozen(state_get: StateGet, address: bytes, who: str, known: Records | None = None) -> Identity:
    ident, owner = known if known is not None else _records(state_get, address)
    checked, _ = check_active(ident, owner, address, who)
    if is_frozen(state_get, address):
        raise AccountFrozen(f"{who} 0x{address.hex()} is frozen by the regulator", address=address)
    return checked


def _refuse_regulator(
    owner: Org | None, sender: bytes, contract: str, method: str, money_methods: frozenset[tuple[str, str]]
) -> None:
    if owner is not None and owner.role == REGULATOR and (contract, method) in money_methods:
        raise RegulatorCannotTransfer(
            f"0x{sender.hex()} belongs to the regulator, which cannot move money ({contract}.{method})"
        )


def check_call(
    state_get: StateGet,
    sender: bytes,
    contract: str,
    method: str,
    money_methods: frozenset[tuple[str, str]] = MONEY_METHODS,
) -> None:
    """Role rules outside any contract: regulator identities cannot move money."""
    if (contract, method) in money_methods:
        _refuse_regulator(_records(state_get, sender)[1], sender, contract, method, money_methods)


def check_transfer(
    ctx: CallContext,
    sender: bytes,
    to: bytes,
    amount: int,
    asset: str = NATIVE,
    recipient_balance: int | None = None,
) -> None:
    """Refuse a payment the rules forbid; record the sender's daily total. Call before moving.

    ``recipient_balance``: the recipient's balance of ``asset`` before the payment; read from
    the native account record when ``asset`` is native and it is not given; for other assets the
    balance limit is checked only when it is given.
    """
    counted = _checked(ctx, sender, to, amount, asset, recipient_balance)
    if counted is not None:
        write_activity(ctx.state, sender, counted)


def pay(ctx: CallContext, frm: bytes, to: bytes, amount: int) -> None:
    """Move native ``amount`` from ``frm`` to ``to`` under every rule of money: what
    :func:`check_transfer`, :func:`~consortia.contracts.native_currency.move` and
    :func:`observe_transfer` do one after the other, with the payer's activity (daily total,
    alert windows) read once and written once. The way the currency, funding and contract
    payouts move money on a permissioned chain."""
    counted = _checked(ctx, frm, to, amount, NATIVE, None)
    move(ctx, frm, to, amount)
    act = counted if counted is not None else read_activity(ctx.state.get, frm)
    observed = alerting.apply_rules(ctx, frm, amount, act)
    if observed is not act or counted is not None:
        write_activity(ctx.state, frm, observed)


def _checked(
    ctx: CallContext, sender: bytes, to: bytes, amount: int, asset: str, recipient_balance: int | None
) -> Activity | None:
    """:func:`check_transfer`'s checks; the sender's activity with this payment counted in its
    daily total (not yet written), or None for a sender with no tier (a reserve, a contract)."""
    state_get = ctx.state.get
    sender_records = _records(state_get, sender)
    _refuse_regulator(sender_records[1], sender, "currency", "transfer", MONEY_METHODS)
    if ctx.sender_checked and sender == ctx.sender:
        payer = sender_records[0]  # active and not frozen: the executor checked it on this view
    else:
        payer = _party(state_get, sender, "sender", sender_records)
    payee = _recipient(state_get, to, asset)
    counted = None
    if payer is not None:
        tier = _check_per_payment(state_get, payer, amount)
        counted = _count_daily(ctx, payer, tier, amount)
    _check_balance_cap(state_get, payee, to, amount, asset, recipient_balance)
    return counted


def admission_checks(
    state_get: StateGet, sender: bytes, contract: str, method: str, payment: tuple[bytes, int] | None
) -> str:
    """What admission can tell on the committed state, each record read once: the sender
    (:func:`check_sender_and_call`), and for a ``payment`` (recipient, amount) what
    :func:`check_transfer` would refuse — the regulator's staff, freezes, the recipient, the
    per-payment limit, this one payment against the daily limit (the running total depends on
    the block's day: the executor checks it) and the recipient's balance cap. Writes nothing;
    returns the sender's organisation."""
    ident, owner = _records(state_get, sender)
    _refuse_regulator(owner, sender, contract, method, MONEY_METHODS)
    payer = _active_unfrozen(state_get, sender, "sender", (ident, owner))
    if payment is not None:
        to, amount = payment
        _refuse_regulator(owner, sender, "currency", "transfer", MONEY_METHODS)
        payee = _recipient(state_get, to, NATIVE)
        tier = _check_per_payment(state_get, payer, amount)
        _refuse_over_daily(payer, tier, amount, 0)
        _check_balance_cap(state_get, payee, to, amount, NATIVE, None)
    return payer.org


def _recipient(state_get: StateGet, to: bytes, asset: str) -> Identity | None:
    if is_asset_frozen(state_get, asset):
        raise AssetFrozen(f"asset {asset!r} is frozen by the regulator", asset=asset)
    return _party(state_get, to, "recipient")


def _check_balance_cap(
    state_get: StateGet,
    payee: Identity | None,
    to: bytes,
    amount: int,
    asset: str,
    recipient_balance: int | None,
) -> None:
    if payee is None:  # an account of no identity (a reserve's, a contract's) has no tier
        return
    balance_cap = limits(state_get, payee.kyc_tier).balance
    if balance_cap is None:
        return
    if recipient_balance is None and asset == NATIVE:
        raw = state_get(account_key(to))
        recipient_balance = decode_account(raw).balance if raw is not None else 0
    if recipient_balance is not None and recipient_balance + amount > balance_cap:
        raise LimitExceeded(
            f"recipient's balance would be {recipient_balance + amount}, above the tier "
            f"{payee.kyc_tier} balance limit {balance_cap}",
            limit="balance",
            tier=payee.kyc_tier,
            cap=balance_cap,
        )


def _check_per_payment(state_get: StateGet, payer: Identity, amount: int) -> TierLimits:
    tier = limits(state_get, payer.kyc_tier)
    if tier.per_payment is not None and amount > tier.per_payment:
        raise LimitExceeded(
            f"payment of {amount} is above the tier {payer.kyc_tier} per-payment limit {tier.per_payment}",
            limit="per_payment",
            tier=payer.kyc_tier,
            cap=tier.per_payment,
        )
    return tier


def _refuse_over_daily(payer: Identity, tier: TierLimits, amount: int, spent: int) -> None:
    if tier.daily is not None and spent + amount > tier.daily:
        raise LimitExceeded(
            f"payments today would total {spent + amount}, above the tier {payer.kyc_tier} "
            f"daily limit {tier.daily} (already {spent})",
            limit="daily",
            tier=payer.kyc_tier,
            cap=tier.daily,
        )


def _count_daily(ctx: CallContext, payer: Identity, tier: TierLimits, amount: int) -> Activity:
    """The payer's activity with ``amount`` added to the day's total, or the typed refusal."""
    day = ctx.block.timestamp_ms // DAY_MS
    act = read_activity(ctx.state.get, payer.address)
    spent, count = (act.total, act.count) if act.day == day else (0, 0)
    _refuse_over_daily(payer, tier, amount, spent)
    return replace(act, day=day, total=spent + amount, count=count + 1)


def observe_transfer(ctx: CallContext, sender: bytes, to: bytes, amount: int) -> None:
    """Evaluate the alert rules on a payment that went through. Call after moving value."""
    alerting.observe(ctx, sender, amount)


def daily_total(state_get: StateGet, address: bytes, timestamp_ms: int) -> int:
    """What ``address`` has paid out on the UTC day of ``timestamp_ms``."""
    act = read_activity(state_get, address)
    return act.total if act.day == timestamp_ms // DAY_MS else 0
