"""Alert rules: their parameters as the regulator sets them, checked for sane bounds."""

from __future__ import annotations

from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.errors import InvalidRule
from consortia.contracts.permissioned.limits import MAX_WINDOW_BLOCKS
from consortia.contracts.permissioned.records import (
    AlertRules,
    LargeAmountRule,
    StructuringRule,
    VelocityRule,
)
from consortia.contracts.permissioned.store import StateGet, read

LARGE_AMOUNT = "large_amount"
STRUCTURING = "structuring"
VELOCITY = "velocity"
RULE_NAMES = (LARGE_AMOUNT, STRUCTURING, VELOCITY)
_MAX = 2**64


def read_rules(state_get: StateGet) -> AlertRules:
    return read(state_get, keys.RULES, AlertRules) or AlertRules()


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidRule(message)


def build_rule(name: str, params: list[int]) -> LargeAmountRule | StructuringRule | VelocityRule | None:
    """The rule ``name`` with positional ``params``; ``None`` (disabled) for an empty list."""
    _check(name in RULE_NAMES, f"unknown rule {name!r}; rules: {list(RULE_NAMES)}")
    if not params:
        return None
    _check(all(0 <= p < _MAX for p in params), "rule parameters must be integers in [0, 2**64)")
    if name == LARGE_AMOUNT:
        _check(len(params) == 1 and params[0] > 0, "large_amount takes [threshold > 0]")
        return LargeAmountRule(params[0])
    if name == STRUCTURING:
        _check(len(params) == 4, "structuring takes [threshold, margin_bps, min_count, window_blocks]")
        threshold, margin, count, window = params
        _check(
            threshold > 0 and 0 < margin <= 10_000, "structuring needs threshold > 0, 0 < margin_bps <= 10000"
        )
        _check(count >= 2, "structuring needs min_count >= 2")
        _check(1 <= window <= MAX_WINDOW_BLOCKS, f"window_blocks must be 1..{MAX_WINDOW_BLOCKS}")
        return StructuringRule(threshold, margin, count, window)
    _check(len(params) == 3, "velocity takes [max_count, max_value, window_blocks]")
    max_count, max_value, window = params
    _check(max_count > 0 or max_value > 0, "velocity needs max_count or max_value above 0")
    _check(1 <= window <= MAX_WINDOW_BLOCKS, f"window_blocks must be 1..{MAX_WINDOW_BLOCKS}")
    return VelocityRule(max_count, max_value, window)
