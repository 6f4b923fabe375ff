"""The native currency with the permission policy wired in: what the executor should run.

:class:`GuardedCurrency` is a drop-in for :class:`~consortia.contracts.native_currency.NativeCurrency`
(same name ``currency``, same ``transfer [to, amount]`` arguments): it calls
:func:`~.policy.check_transfer` before moving value and :func:`~.policy.observe_transfer` after,
all in the transaction's context, so a refused payment changes nothing and an alert is recorded
with the payment that raised it.
"""

from __future__ import annotations

from consortia.contracts.native_currency import NAME, NativeCurrency, decode_call
from consortia.contracts.permissioned.policy import check_transfer, observe_transfer
from consortia.execution.context import CallContext


class GuardedCurrency:
    name = NAME

    precheck = staticmethod(NativeCurrency.precheck)

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        to, amount = decode_call(method, args)
        check_transfer(ctx, ctx.sender, to, amount)
        NativeCurrency.transfer(ctx, to, amount)
        observe_transfer(ctx, ctx.sender, to, amount)
