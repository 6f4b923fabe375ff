"""The monetary base: reserve accounts, issuance, redemption, funding and the supply records.

Methods of the ``currency`` system contract (dispatched by
:class:`~consortia.contracts.permissioned.currency.GuardedCurrency`; arguments are one canonical
MessagePack list, encoders below):

* ``issue [bank: str, amount: int]`` — an active admin of an active ``central-bank``
  organisation credits ``amount`` to the reserve of ``bank`` (an active ``bank`` organisation).
  Event ``currency.Issued [bank, amount, by]``.
* ``redeem [amount: int]`` — an active admin of a ``bank`` burns ``amount`` from its own
  organisation's reserve. Event ``currency.Redeemed [bank, amount, by]``.
* ``fund [address: bytes20, amount: int]`` — an active admin of a ``bank`` or ``central-bank``
  moves ``amount`` from its organisation's reserve to ``address`` (the recipient rules of a
  payment apply, see :func:`~.policy.check_transfer`). Events ``currency.Transfer [reserve, address,
  amount]`` and ``currency.Funded [bank, address, amount]``.

Each organisation has a **reserve account** at :func:`reserve_address` (nobody holds its key:
only its organisation's admins move money out of it, by these methods). Money supply is created
and destroyed only here; balances change only through
:func:`~consortia.contracts.native_currency.debit` / ``credit`` / ``move``. Invariant:
``issued - redeemed == sum of all balances`` (reserves and contract accounts included), where
genesis allocations count as issuance.
"""

from __future__ import annotations

import hashlib

import msgspec

from consortia.codec import encode
from consortia.contracts.native_currency import NAME, balance_of, credit, debit
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.directory import org, require_admin
from consortia.contracts.permissioned.errors import (
    AccountFrozen,
    NotIssuer,
    NotOperatorBank,
    SupplyOverflow,
    UnknownBank,
)
from consortia.contracts.permissioned.limits import MAX_NAME, MAX_SUPPLY
from consortia.contracts.permissioned.policy import pay
from consortia.contracts.permissioned.records import (
    ACTIVE,
    BANK,
    CENTRAL_BANK,
    Org,
    OrgIndex,
    SupplyTotals,
)
from consortia.contracts.permissioned.regulator import is_frozen
from consortia.contracts.permissioned.store import StateGet, decode_args, read, write
from consortia.errors import InsufficientBalance, InvalidCall
from consortia.execution.accounts import MAX_AMOUNT
from consortia.execution.context import CallContext, TxState

ISSUE = "issue"
REDEEM = "redeem"
FUND = "fund"
METHODS = (ISSUE, REDEEM, FUND)
GENESIS = "genesis"
"""The supply attribution of a genesis allocation held by neither an identity nor a reserve."""
RESERVE_DOMAIN = b"consortia/reserve\x00"


# --- reserve accounts -----------------------------------------------------------------------------


def reserve_address(org_name: str) -> bytes:
    """The account of organisation ``org_name``'s reserve: SHA-256("consortia/reserve\\0" || name)[:20]."""
    return hashlib.sha256(RESERVE_DOMAIN + org_name.encode()).digest()[:20]


def open_reserve(state: TxState, org_name: str) -> bytes:
    """Write the reverse record of ``org_name``'s reserve (its account record is the caller's)."""
    address = reserve_address(org_name)
    write(state, keys.reserve(address), org_name)
    return address


def reserve_owner(state_get: StateGet, address: bytes) -> str | None:
    """The organisation whose reserve ``address`` is, or None."""
    return read(state_get, keys.reserve(address), str)


def is_reserve(state_get: StateGet, address: bytes) -> bool:
    return state_get(keys.reserve(address)) is not None


# --- argument encoders and shape checks -----------------------------------------------------------


def encode_issue_args(bank: str, amount: int) -> bytes:
    return encode([bank, amount])


def encode_redeem_args(amount: int) -> bytes:
    return encode([amount])


def encode_fund_args(address: bytes, amount: int) -> bytes:
    return encode([address, amount])


def _check_amount(method: str, amount: int) -> int:
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidCall(f"{method} amount must be between 1 and {MAX_AMOUNT}, got {amount}")
    return amount


def decode_issue_args(args: bytes) -> tuple[str, int]:
    bank, amount = decode_args(args, tuple[str, int], "[bank: str, amount: int]")
    if not 1 <= len(bank) <= MAX_NAME:
        raise InvalidCall(
            f"issue: bank must be an organisation name of 1-{MAX_NAME} characters, got {len(bank)}"
        )
    return bank, _check_amount(ISSUE, amount)


def decode_redeem_args(args: bytes) -> int:
    (amount,) = decode_args(args, tuple[int], "[amount: int]")
    return _check_amount(REDEEM, amount)


def decode_fund_args(args: bytes) -> tuple[bytes, int]:
    address, amount = decode_args(args, tuple[bytes, int], "[address: bytes20, amount: int]")
    if len(address) != 20:
        raise InvalidCall(f"fund: address must be 20 bytes, got {len(address)}")
    return address, _check_amount(FUND, amount)


def precheck(method: str, args: bytes) -> int:
    """Admission's stateless check of ``issue`` / ``redeem`` / ``fund``: the units they spend of
    the *sender's* balance (none: they move reserve money), or InvalidCall."""
    if method == ISSUE:
        decode_issue_args(args)
    elif method == REDEEM:
        decode_redeem_args(args)
    elif method == FUND:
        decode_fund_args(args)
    else:
        raise InvalidCall(f"{method!r} is not a monetary method; methods: {list(METHODS)}")
    return 0


def call(ctx: CallContext, method: str, args: bytes) -> None:
    if method == ISSUE:
        issue(ctx, *decode_issue_args(args))
    elif method == REDEEM:
        redeem(ctx, decode_redeem_args(args))
    elif method == FUND:
        fund(ctx, *decode_fund_args(args))
    else:
        raise InvalidCall(f"{method!r} is not a monetary method; methods: {list(METHODS)}")


# --- methods --------------------------------------------------------------------------------------


def _operator(state_get: StateGet, sender: bytes, method: str, roles: tuple[str, ...]) -> Org:
    _, owner = require_admin(state_get, sender)
    if owner.role not in roles:
        raise NotOperatorBank(
            f"{method}: caller 0x{sender.hex()} is an admin of {owner.name!r} (role {owner.role!r}); "
            f"only admins of an organisation with role {' or '.join(repr(r) for r in roles)} may {method}",
            org=owner.name,
            role=owner.role,
        )
    return owner


def _unfrozen_reserve(state_get: StateGet, org_name: str, what: str) -> bytes:
    address = reserve_address(org_name)
    if is_frozen(state_get, address):
        raise AccountFrozen(
            f"the reserve of {org_name!r} (0x{address.hex()}) is frozen by the regulator: it cannot {what}",
            address=address,
            org=org_name,
        )
    return address


def _covered(state_get: StateGet, org_name: str, reserve: bytes, amount: int, method: str) -> None:
    held = balance_of(state_get, reserve)
    if held < amount:
        raise InsufficientBalance(
            f"{method}: the reserve of {org_name!r} (0x{reserve.hex()}) holds {held}, "
            f"less than the amount {amount}",
            balance=held,
            amount=amount,
            org=org_name,
        )


def issue(ctx: CallContext, bank: str, amount: int) -> None:
    state_get = ctx.state.get
    _, issuer = require_admin(state_get, ctx.sender)
    if issuer.role != CENTRAL_BANK:
        raise NotIssuer(
            f"issue: caller 0x{ctx.sender.hex()} is an admin of {issuer.name!r} (role {issuer.role!r}); "
            f"only admins of a {CENTRAL_BANK!r} organisation issue currency",
            org=issuer.name,
            role=issuer.role,
        )
    target = org(state_get, bank)
    if target is None or target.status != ACTIVE or target.role != BANK:
        found = (
            "no such organisation"
            if target is None
            else f"{target.status} organisation of role {target.role!r}"
        )
        raise UnknownBank(
            f"issue: {bank!r} is not an active organisation with role {BANK!r} ({found})", bank=bank
        )
    reserve = _unfrozen_reserve(state_get, bank, "receive")
    record_supply(ctx.state, bank, issued=amount)
    credit(ctx.state, reserve, amount)
    ctx.emit(NAME, "Issued", encode([bank, amount, ctx.sender]))


def redeem(ctx: CallContext, amount: int) -> None:
    state_get = ctx.state.get
    bank = _operator(state_get, ctx.sender, REDEEM, (BANK,))
    reserve = _unfrozen_reserve(state_get, bank.name, "send")
    _covered(state_get, bank.name, reserve, amount, REDEEM)
    debit(ctx.state, reserve, amount)
    record_supply(ctx.state, bank.name, redeemed=amount)
    ctx.emit(NAME, "Redeemed", encode([bank.name, amount, ctx.sender]))


def fund(ctx: CallContext, address: bytes, amount: int) -> None:
    state_get = ctx.state.get
    bank = _operator(state_get, ctx.sender, FUND, (BANK, CENTRAL_BANK))
    reserve = _unfrozen_reserve(state_get, bank.name, "send")
    _covered(state_get, bank.name, reserve, amount, FUND)
    pay(ctx, reserve, address, amount)
    ctx.emit(NAME, "Funded", encode([bank.name, address, amount]))


# --- supply ---------------------------------------------------------------------------------------


class Supply(msgspec.Struct, frozen=True):
    """The money supply: cumulative issuance and redemption, the difference in circulation,
    and the same per organisation (``"genesis"``: genesis allocations held by neither)."""

    issued: int
    redeemed: int
    in_circulation: int
    by_org: dict[str, SupplyTotals]


def supply_orgs(state_get: StateGet) -> list[str]:
    index = read(state_get, keys.SUPPLY_ORGS, OrgIndex)
    return [] if index is None else list(index.names)


def supply(state_get: StateGet) -> Supply:
    total = read(state_get, keys.SUPPLY, SupplyTotals) or SupplyTotals()
    by_org = {
        name: read(state_get, keys.supply(name), SupplyTotals) or SupplyTotals()
        for name in supply_orgs(state_get)
    }
    return Supply(total.issued, total.redeemed, total.issued - total.redeemed, by_org)


def record_supply(state: TxState, org_name: str, *, issued: int = 0, redeemed: int = 0) -> None:
    """Add to the chain's and ``org_name``'s cumulative issued / redeemed (SupplyOverflow if
    either would exceed ``MAX_SUPPLY``)."""
    total = read(state.get, keys.SUPPLY, SupplyTotals) or SupplyTotals()
    new_total = SupplyTotals(total.issued + issued, total.redeemed + redeemed)
    if new_total.issued > MAX_SUPPLY or new_total.redeemed > MAX_SUPPLY:
        raise SupplyOverflow(
            f"cumulative issuance would be {new_total.issued}, above {MAX_SUPPLY}",
            issued=total.issued,
            amount=issued,
        )
    mine = read(state.get, keys.supply(org_name), SupplyTotals)
    if mine is None:
        mine = SupplyTotals()
        write(state, keys.SUPPLY_ORGS, OrgIndex(sorted([*supply_orgs(state.get), org_name])))
    write(state, keys.SUPPLY, new_total)
    write(state, keys.supply(org_name), SupplyTotals(mine.issued + issued, mine.redeemed + redeemed))
