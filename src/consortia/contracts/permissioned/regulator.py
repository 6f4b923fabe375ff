"""The ``regulator`` system contract: freezes, tier limits and alert rules, each a transaction.

Callable only by regulator staff (an active ``admin`` or ``auditor`` of an active organisation
whose role is ``regulator``); anyone else gets ``not_regulator``. Every action emits an event
under contract ``regulator`` — with the transaction itself, the regulator's audit trail.

Methods (canonical MessagePack argument lists):

* ``freeze [address]`` / ``unfreeze [address]`` — a frozen account can neither send (refused at
  admission and execution) nor receive.
* ``freeze_asset [asset: str]`` / ``unfreeze_asset [asset]`` — ``"native"`` is the currency.
* ``set_limits [tier: int, per_payment: int|nil, daily: int|nil, balance: int|nil]`` — nil: no limit.
* ``set_rule [rule: str, params: list[int]]`` — an empty list disables the rule:
  ``large_amount [threshold]``; ``structuring [threshold, margin_bps, min_count, window_blocks]``;
  ``velocity [max_count, max_value, window_blocks]`` (0 disables that half).
"""

from __future__ import annotations

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.directory import is_regulator_staff
from consortia.contracts.permissioned.errors import AlreadyFrozen, NotFrozen, NotRegulator
from consortia.contracts.permissioned.limits import MAX_ASSET_NAME, MAX_KYC_TIER
from consortia.contracts.permissioned.records import Freeze, TierLimits
from consortia.contracts.permissioned.rules import build_rule, read_rules
from consortia.contracts.permissioned.store import StateGet, decode_args, read, write
from consortia.errors import InvalidCall
from consortia.execution.context import CallContext

NAME = "regulator"
FREEZE = "freeze"
UNFREEZE = "unfreeze"
FREEZE_ASSET = "freeze_asset"
UNFREEZE_ASSET = "unfreeze_asset"
SET_LIMITS = "set_limits"
SET_RULE = "set_rule"
METHODS = (FREEZE, UNFREEZE, FREEZE_ASSET, UNFREEZE_ASSET, SET_LIMITS, SET_RULE)


def encode_address_args(address: bytes) -> bytes:
    """Arguments of ``freeze`` / ``unfreeze``."""
    return encode([address])


def encode_asset_args(asset: str) -> bytes:
    """Arguments of ``freeze_asset`` / ``unfreeze_asset``."""
    return encode([asset])


def encode_limits_args(tier: int, per_payment: int | None, daily: int | None, balance: int | None) -> bytes:
    return encode([tier, per_payment, daily, balance])


def encode_rule_args(rule: str, params: list[int]) -> bytes:
    return encode([rule, params])


class RegulatorContract:
    name = NAME

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        if method not in METHODS:
            raise InvalidCall(f"contract {NAME!r} has no method {method!r}; methods: {list(METHODS)}")
        if not is_regulator_staff(ctx.state.get, ctx.sender):
            raise NotRegulator(
                f"0x{ctx.sender.hex()} is not an admin or auditor of the regulator organisation",
                method=method,
            )
        if method in (FREEZE, UNFREEZE):
            (address,) = decode_args(args, tuple[bytes], "[address]")
            _freeze_account(ctx, address, method == FREEZE)
        elif method in (FREEZE_ASSET, UNFREEZE_ASSET):
            (asset,) = decode_args(args, tuple[str], "[asset]")
            _freeze_asset(ctx, asset, method == FREEZE_ASSET)
        elif method == SET_LIMITS:
            tier, *values = decode_args(
                args, tuple[int, int | None, int | None, int | None], "[tier, per_payment, daily, balance]"
            )
            _set_limits(ctx, tier, TierLimits(*values))
        else:
            rule, params = decode_args(args, tuple[str, list[int]], "[rule, params]")
            _set_rule(ctx, rule, params)


def _freeze(ctx: CallContext, key: bytes, subject: str, freeze: bool) -> None:
    current = ctx.state.get(key)
    if freeze and current is not None:
        raise AlreadyFrozen(f"{subject} is already frozen")
    if not freeze and current is None:
        raise NotFrozen(f"{subject} is not frozen")
    if freeze:
        write(ctx.state, key, Freeze(ctx.sender, ctx.block.height))
    else:
        ctx.state.set(key, None)


def _freeze_account(ctx: CallContext, address: bytes, freeze: bool) -> None:
    if len(address) != 20:
        raise InvalidCall(f"address must be 20 bytes, got {len(address)}")
    _freeze(ctx, keys.frozen(address), f"account 0x{address.hex()}", freeze)
    ctx.emit(NAME, "Frozen" if freeze else "Unfrozen", encode([address, ctx.sender]))


def _freeze_asset(ctx: CallContext, asset: str, freeze: bool) -> None:
    if not 1 <= len(asset) <= MAX_ASSET_NAME:
        raise InvalidCall(f"asset name must be 1-{MAX_ASSET_NAME} characters")
    _freeze(ctx, keys.asset_frozen(asset), f"asset {asset!r}", freeze)
    ctx.emit(NAME, "AssetFrozen" if freeze else "AssetUnfrozen", encode([asset, ctx.sender]))


def _set_limits(ctx: CallContext, tier: int, record: TierLimits) -> None:
    if not 0 <= tier <= MAX_KYC_TIER:
        raise InvalidCall(f"tier must be between 0 and {MAX_KYC_TIER}, got {tier}")
    for value in (record.per_payment, record.daily, record.balance):
        if value is not None and not 0 <= value < 2**64:
            raise InvalidCall(f"a limit must be nil or an integer in [0, 2**64), got {value}")
    if record == TierLimits():
        ctx.state.set(keys.limits(tier), None)
    else:
        write(ctx.state, keys.limits(tier), record)
    ctx.emit(NAME, "LimitsSet", encode([tier, record.per_payment, record.daily, record.balance, ctx.sender]))


def _set_rule(ctx: CallContext, rule: str, params: list[int]) -> None:
    built = build_rule(rule, params)
    write(ctx.state, keys.RULES, replace(read_rules(ctx.state.get), **{rule: built}))
    ctx.emit(NAME, "RuleSet", encode([rule, params, ctx.sender]))


# --- queries --------------------------------------------------------------------------------------


def freeze_record(state_get: StateGet, address: bytes) -> Freeze | None:
    return read(state_get, keys.frozen(address), Freeze)


def is_frozen(state_get: StateGet, address: bytes) -> bool:
    return state_get(keys.frozen(address)) is not None


def is_asset_frozen(state_get: StateGet, asset: str) -> bool:
    return state_get(keys.asset_frozen(asset)) is not None


def limits(state_get: StateGet, tier: int) -> TierLimits:
    """The limits of KYC ``tier`` (all ``None`` when the regulator set none)."""
    return read(state_get, keys.limits(tier), TierLimits) or TierLimits()
