"""The deterministic executor: a block's transactions in, receipts and state writes out.

Pure with respect to I/O: it reads through a :class:`StateReader` and returns a dict of writes.
Same transactions on the same state give the same receipts and writes on every node. A
transaction that fails inside its contract keeps its nonce bump and gets a failed receipt; its
own writes are dropped. A transaction that should never have been proposed (expired, unknown
sender, wrong nonce) makes the whole block invalid.

A leader builds with :meth:`Executor.propose` instead: a transaction that could not be in the
block is left out (and reported, with whether it can ever be valid), never allowed to make the
block invalid — validity at inclusion, not at admission, is what counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from consortia.errors import (
    ConsortiaError,
    ExpiryTooFar,
    FutureNonce,
    InvalidCall,
    StaleNonce,
    TxExpired,
    UnknownSender,
)
from consortia.execution.accounts import Account, account_key, decode_account, encode_account, with_nonce
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.execution.state_view import BlockView, StateReader
from consortia.execution.tx_decode import CheckedTx
from consortia.execution.tx_policy import TxPolicy
from consortia.types.receipt import STATUS_OK, Receipt


class InvalidBlock(ConsortiaError):
    code = "invalid_block"


class NativeContract(Protocol):
    name: str

    def call(self, ctx: CallContext, method: str, args: bytes) -> None: ...


class ContractHost(Protocol):
    """Runs contracts deployed on chain, by name."""

    def call_contract(self, ctx: CallContext, contract: str, method: str, args: bytes) -> None: ...


class EndBlock(Protocol):
    """Work the chain does after a block's transactions (scheduled contract calls): writes go
    into ``writes`` (the block's write set under ``view``), one receipt per piece of work."""

    def __call__(
        self, view: StateReader, writes: dict[bytes, bytes | None], block: BlockContext
    ) -> list[Receipt]: ...


@dataclass(frozen=True, slots=True)
class BlockOutcome:
    receipts: list[Receipt]
    writes: dict[bytes, bytes | None]


@dataclass(frozen=True, slots=True)
class Excluded:
    """A transaction a leader left out of its block, and why.

    ``never``: it cannot be valid in any later block either (expired, unknown or refused
    sender), so the pool should drop it; otherwise (a nonce that does not follow the parent
    block's state) it may fit a later block and waits.
    """

    tx: CheckedTx
    error: ConsortiaError
    never: bool


@dataclass(frozen=True, slots=True)
class Proposed:
    outcome: BlockOutcome
    included: list[CheckedTx]
    excluded: list[Excluded]


def check_expiry(expiry: int, height: int, max_expiry_window: int | None) -> None:
    """The expiry rule, one copy for admission (``height`` = the next block) and inclusion: not
    passed, and not further ahead than the chain's window (None: no window)."""
    if expiry < height:
        raise TxExpired(
            f"transaction expired at height {expiry}; the block is {height}",
            expiry=expiry,
            next_height=height,
        )
    if max_expiry_window is not None and expiry > height + max_expiry_window:
        raise ExpiryTooFar(
            f"expiry {expiry} is more than the chain's window of {max_expiry_window} blocks after "
            f"block {height}; use an expiry of at most {height + max_expiry_window}",
            expiry=expiry,
            max_expiry=height + max_expiry_window,
        )


def check_inclusion(
    state: StateReader, tx: CheckedTx, height: int, max_expiry_window: int | None = None
) -> Account:
    """The rules every included transaction must meet at its height — not expired, an expiry
    within the chain's window, a known account, the account's next nonce; the sender's
    account. (Who the sender is — identity, freeze — is the permission policy's: ``TxPolicy``
    / ``check_sender_identity``.)"""
    body = tx.body
    check_expiry(body.expiry, height, max_expiry_window)
    raw = state.get(account_key(tx.sender))
    if raw is None:
        raise UnknownSender(f"sender 0x{tx.sender.hex()} has no account on this chain")
    account = decode_account(raw)
    if body.nonce < account.nonce:
        raise StaleNonce(f"nonce {body.nonce} does not match the account's next nonce {account.nonce}")
    if body.nonce > account.nonce:
        raise FutureNonce(f"nonce {body.nonce} does not match the account's next nonce {account.nonce}")
    return account


class Executor:
    def __init__(
        self,
        contracts: Mapping[str, NativeContract],
        fallback: ContractHost | None = None,
        policy: TxPolicy | None = None,
        end_block: EndBlock | None = None,
    ) -> None:
        """``contracts``: system contracts by name; ``fallback`` runs every other name
        (the host of contracts deployed on chain), or None for "no such contract";
        ``policy``: the identity and regulator rules every sender must meet; ``end_block``:
        what runs after the transactions (receipts follow the transactions' receipts)."""
        self.contracts = dict(contracts)
        self.fallback = fallback
        self.policy = policy
        self.end_block = end_block

    def execute(
        self, base: StateReader, block: BlockContext, txs: Sequence[CheckedTx]
    ) -> BlockOutcome:
        writes: dict[bytes, bytes | None] = {}
        view = BlockView(base, writes)
        receipts: list[Receipt] = []
        policy = self.policy if self.policy is not None and self.policy.applies(base) else None
        for tx in txs:
            try:
                account = check_inclusion(view, tx, block.height, block.max_expiry_window)
            except ConsortiaError as exc:
                raise InvalidBlock(
                    f"transaction 0x{tx.hash.hex()} cannot be in block {block.height}: {exc.message}",
                    tx_hash=tx.hash,
                    reason=exc.code,
                ) from None
            writes[account_key(tx.sender)] = encode_account(with_nonce(account, account.nonce + 1))
            receipts.append(self._run(view, writes, block, tx, policy))
        if self.end_block is not None:
            receipts.extend(self.end_block(view, writes, block))
        return BlockOutcome(receipts, writes)

    def propose(self, base: StateReader, block: BlockContext, txs: Sequence[CheckedTx]) -> Proposed:
        """Execute what may be in the block; leave out (and report) what may not.

        The included transactions executed here give exactly what :meth:`execute` gives for
        them, so every validator re-executing the block agrees."""
        writes: dict[bytes, bytes | None] = {}
        view = BlockView(base, writes)
        receipts: list[Receipt] = []
        included: list[CheckedTx] = []
        excluded: list[Excluded] = []
        policy = self.policy if self.policy is not None and self.policy.applies(base) else None
        for tx in txs:
            try:
                account = check_inclusion(view, tx, block.height, block.max_expiry_window)
                if policy is not None:
                    policy.check(view, tx.sender, tx.body.call, block.height)
            except (StaleNonce, FutureNonce) as exc:
                excluded.append(Excluded(tx, exc, never=False))
                continue
            except ConsortiaError as exc:
                excluded.append(Excluded(tx, exc, never=True))
                continue
            writes[account_key(tx.sender)] = encode_account(with_nonce(account, account.nonce + 1))
            # the policy passed just above, on this very view (a nonce bump does not change it)
            receipts.append(self._run(view, writes, block, tx, None, sender_checked=policy is not None))
            included.append(tx)
        if self.end_block is not None:
            receipts.extend(self.end_block(view, writes, block))
        return Proposed(BlockOutcome(receipts, writes), included, excluded)

    def _run(
        self,
        view: StateReader,
        writes: dict[bytes, bytes | None],
        block: BlockContext,
        tx: CheckedTx,
        policy: TxPolicy | None,
        sender_checked: bool = False,
    ) -> Receipt:
        call = tx.body.call
        ctx = CallContext(
            sender=tx.sender, tx_hash=tx.hash, block=block, state=TxState(view), value=call.value,
            sender_checked=sender_checked,
        )
        contract = self.contracts.get(call.contract)
        try:
            if policy is not None and call.method not in getattr(contract, "sender_checked", ()):
                # a freeze or revocation earlier in this block refuses the rest: failed receipt
                # (a system contract listing the method in ``sender_checked`` makes the same
                # checks itself, on the same view, with the same refusals)
                policy.check(view, tx.sender, call, block.height)
            if contract is not None and call.value:
                raise InvalidCall(
                    f"system contract {call.contract!r} takes no attached value (got {call.value}); "
                    "attach value only to calls of deployed contracts"
                )
            if contract is not None:
                contract.call(ctx, call.method, call.args)
            elif self.fallback is not None:
                self.fallback.call_contract(ctx, call.contract, call.method, call.args)
            else:
                raise InvalidCall(f"no contract named {call.contract!r}")
        except ConsortiaError as exc:
            return Receipt(tx.hash, exc.code, exc.message, ctx.steps, [])
        writes.update(ctx.state.writes)
        return Receipt(tx.hash, STATUS_OK, "", ctx.steps, ctx.events)
