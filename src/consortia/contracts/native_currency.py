"""The chain's native currency: genesis allocation, transfer and balance.

A system contract named ``currency``. Its state is the account record (nonce and balance) under
``a`` + address, which the executor also uses for the nonce.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from consortia.codec import encode
from consortia.errors import ConsortiaError, InsufficientBalance, InvalidCall
from consortia.execution.accounts import (
    MAX_AMOUNT,
    Account,
    account_key,
    decode_account,
    encode_account,
    with_balance,
)
from consortia.execution.context import CallContext, TxState

NAME = "currency"
TRANSFER = "transfer"


def encode_transfer_args(to: bytes, amount: int) -> bytes:
    return encode([to, amount])


_ARGS = msgspec.msgpack.Decoder(tuple[bytes, int])


def decode_transfer_args(args: bytes) -> tuple[bytes, int]:
    """Arguments of ``transfer``: a 20-byte address and a positive amount that fits 64 bits."""
    try:
        to, amount = _ARGS.decode(args)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise InvalidCall(f"transfer takes [to: 20-byte address, amount: int]: {exc}") from None
    if encode([to, amount]) != args:
        raise InvalidCall("transfer arguments are not canonically encoded")
    if len(to) != 20:
        raise InvalidCall(f"transfer recipient must be a 20-byte address, got {len(to)} bytes")
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidCall(f"transfer amount must be between 1 and {MAX_AMOUNT}, got {amount}")
    return to, amount


def decode_call(method: str, args: bytes) -> tuple[bytes, int]:
    """The recipient and amount of a call to this contract; InvalidCall for anything else."""
    if method != TRANSFER:
        raise InvalidCall(f"contract {NAME!r} has no method {method!r}; methods: ['transfer']")
    return decode_transfer_args(args)


class OverflowBalance(ConsortiaError):
    code = "balance_overflow"


class NativeCurrency:
    """Moves native units between accounts."""

    name = NAME

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        to, amount = decode_call(method, args)
        self.transfer(ctx, to, amount)

    @staticmethod
    def precheck(method: str, args: bytes) -> int:
        """Admission's stateless check of a call: the units it spends, or the typed error."""
        return decode_call(method, args)[1]

    @staticmethod
    def transfer(ctx: CallContext, to: bytes, amount: int) -> None:
        move(ctx, ctx.sender, to, amount)


def balance_of(state_get: Callable[[bytes], bytes | None], address: bytes) -> int:
    raw = state_get(account_key(address))
    return decode_account(raw).balance if raw is not None else 0


def debit(state: TxState, address: bytes, amount: int) -> None:
    """Take ``amount`` from ``address``'s balance, or raise InsufficientBalance (nothing changes)."""
    key = account_key(address)
    raw = state.get(key)
    account = decode_account(raw) if raw is not None else Account(0, 0)
    if account.balance < amount:
        raise InsufficientBalance(
            f"balance of 0x{address.hex()} is {account.balance}, less than the amount {amount}",
            balance=account.balance,
            amount=amount,
        )
    state.set(key, encode_account(with_balance(account, account.balance - amount)))


def credit(state: TxState, address: bytes, amount: int) -> None:
    """Add ``amount`` to ``address``'s balance (an account record is created if needed)."""
    key = account_key(address)
    raw = state.get(key)
    account = decode_account(raw) if raw is not None else Account(0, 0)
    if account.balance + amount > MAX_AMOUNT:
        raise OverflowBalance(f"balance of 0x{address.hex()} would exceed {MAX_AMOUNT}")
    state.set(key, encode_account(with_balance(account, account.balance + amount)))


def move(ctx: CallContext, frm: bytes, to: bytes, amount: int) -> None:
    """Move ``amount`` from ``frm`` to ``to`` and emit ``currency.Transfer [from, to, amount]``.
    No policy here: callers on permissioned chains check the regulator's rules first."""
    debit(ctx.state, frm, amount)
    credit(ctx.state, to, amount)
    ctx.emit(NAME, "Transfer", encode([frm, to, amount]))
