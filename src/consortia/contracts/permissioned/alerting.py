"""Alerts: rules evaluated on each successful transfer, written append-only and emitted.

Windows count blocks (``window_blocks``: the current block and the ones before it), one bucket
per block, so the tracked record per sender is bounded and exact; both windows live in the
sender's :class:`~.records.Activity` with its daily total, in its account record (one key per
payment; ``activity.py``). When a
structuring or velocity rule fires, that sender's window for the rule starts again empty: a
burst gives one alert, and a further burst gives another.
"""

from __future__ import annotations

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.activity import read_activity, write_activity
from consortia.contracts.permissioned.records import Activity, Alert, Bucket, StructuringRule, VelocityRule
from consortia.contracts.permissioned.rules import LARGE_AMOUNT, STRUCTURING, VELOCITY, read_rules
from consortia.contracts.permissioned.store import StateGet, next_id, read, read_int, write
from consortia.execution.context import CallContext

CONTRACT = "regulator"
EVENT = "Alert"


def raise_alert(ctx: CallContext, rule: str, address: bytes, amount: int, detail: str) -> Alert:
    alert_id = next_id(ctx.state, keys.ALERT_NEXT)
    record = Alert(
        alert_id, rule, address, amount, ctx.block.height, ctx.block.timestamp_ms, ctx.tx_hash, detail
    )
    write(ctx.state, keys.alert(alert_id), record)
    ctx.emit(CONTRACT, EVENT, encode(record))
    return record


def _window(buckets: list[Bucket], height: int, window_blocks: int, amount: int) -> list[Bucket]:
    """A window's buckets with this payment added and buckets older than the window dropped."""
    kept = [b for b in buckets if b.height > height - window_blocks]
    if kept and kept[-1].height == height:
        last = kept[-1]
        kept[-1] = Bucket(height, last.count + 1, last.value + amount)
    else:
        kept.append(Bucket(height, 1, amount))
    return kept


def _just_under(rule: StructuringRule, amount: int) -> bool:
    return amount < rule.threshold and amount * 10_000 >= rule.threshold * (10_000 - rule.margin_bps)


def _structuring(
    ctx: CallContext, rule: StructuringRule, sender: bytes, amount: int, act: Activity
) -> Activity:
    if not _just_under(rule, amount):
        return act
    buckets = _window(act.structuring, ctx.block.height, rule.window_blocks, amount)
    count = sum(b.count for b in buckets)
    if count < rule.min_count:
        return replace(act, structuring=buckets)
    raise_alert(
        ctx, STRUCTURING, sender, amount,
        f"{count} payments just under {rule.threshold} within {rule.window_blocks} blocks",
    )  # fmt: skip
    return replace(act, structuring=[])


def _velocity(ctx: CallContext, rule: VelocityRule, sender: bytes, amount: int, act: Activity) -> Activity:
    buckets = _window(act.velocity, ctx.block.height, rule.window_blocks, amount)
    count = sum(b.count for b in buckets)
    value = sum(b.value for b in buckets)
    too_many = rule.max_count > 0 and count > rule.max_count
    too_much = rule.max_value > 0 and value > rule.max_value
    if not (too_many or too_much):
        return replace(act, velocity=buckets)
    raise_alert(
        ctx, VELOCITY, sender, amount,
        f"{count} payments totalling {value} within {rule.window_blocks} blocks",
    )  # fmt: skip
    return replace(act, velocity=[])


def observe(ctx: CallContext, sender: bytes, amount: int) -> None:
    """Evaluate every enabled rule on one successful payment by ``sender``."""
    act = read_activity(ctx.state.get, sender)
    updated = apply_rules(ctx, sender, amount, act)
    if updated is not act:
        write_activity(ctx.state, sender, updated)


def apply_rules(ctx: CallContext, sender: bytes, amount: int, act: Activity) -> Activity:
    """Evaluate every enabled rule on one successful payment by ``sender`` whose activity is
    ``act``: alerts raised, and the activity with this payment in the rules' windows (``act``
    itself when no window changed). The caller writes it."""
    rules = read_rules(ctx.state.get)
    if rules.large_amount is not None and amount >= rules.large_amount.threshold:
        raise_alert(ctx, LARGE_AMOUNT, sender, amount, f"payment of at least {rules.large_amount.threshold}")
    updated = act
    if rules.structuring is not None:
        updated = _structuring(ctx, rules.structuring, sender, amount, updated)
    if rules.velocity is not None:
        updated = _velocity(ctx, rules.velocity, sender, amount, updated)
    return updated


# --- queries --------------------------------------------------------------------------------------


def alert(state_get: StateGet, alert_id: int) -> Alert | None:
    if not 1 <= alert_id < 2**64:
        return None
    return read(state_get, keys.alert(alert_id), Alert)


def alerts(state_get: StateGet, since_id: int = 0, limit: int = 100) -> list[Alert]:
    """Alerts with id > ``since_id`` in id order, at most ``limit`` (poll with the last id seen)."""
    last = read_int(state_get, keys.ALERT_NEXT, 1) - 1
    out: list[Alert] = []
    for alert_id in range(max(since_id, 0) + 1, min(last, since_id + limit) + 1):
        record = alert(state_get, alert_id)
        if record is not None:
            out.append(record)
    return out
