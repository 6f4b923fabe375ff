"""The native currency with the permission policy wired in: what the executor should run.

:class:`GuardedCurrency` is a drop-in for :class:`~consortia.contracts.native_currency.NativeCurrency`
(same name ``currency``, same ``transfer [to, amount]`` arguments): it moves value with
:func:`~.policy.pay` (the regulator's checks before, the alert rules after), all in the
transaction's context, so a refused payment changes nothing and an alert is recorded
with the payment that raised it.

It also carries the monetary base (:mod:`.monetary`): ``issue [bank, amount]``,
``redeem [amount]`` and ``fund [address, amount]``.
"""

from __future__ import annotations

from consortia.contracts.native_currency import NAME, TRANSFER, NativeCurrency, decode_call
from consortia.contracts.permissioned import monetary
from consortia.contracts.permissioned.policy import pay
from consortia.errors import InvalidCall
from consortia.execution.context import CallContext

METHODS = (TRANSFER, *monetary.METHODS)


def _unknown(method: str) -> InvalidCall:
    return InvalidCall(f"contract {NAME!r} has no method {method!r}; methods: {list(METHODS)}")


class GuardedCurrency:
    name = NAME
    sender_checked = frozenset({TRANSFER})
    """``transfer`` checks its sender (identity, freeze, the regulator's role) in
    :func:`~.policy.check_transfer`: the executor need not check it first."""

    @staticmethod
    def precheck(method: str, args: bytes) -> int:
        """Admission's stateless check: the units a call spends of its sender's balance (a
        transfer's amount; 0 for the monetary methods, which spend reserve money)."""
        if method == TRANSFER:
            return NativeCurrency.precheck(method, args)
        if method in monetary.METHODS:
            return monetary.precheck(method, args)
        raise _unknown(method)

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        if method in monetary.METHODS:
            monetary.call(ctx, method, args)
            return
        if method != TRANSFER:
            raise _unknown(method)
        to, amount = decode_call(method, args)
        pay(ctx, ctx.sender, to, amount)
