"""Admission and ordering of transactions waiting for a block.

Admission runs in two phases so that the expensive part can run off the event loop and on all
cores:

1. :meth:`Mempool.prepare` — stateless: size, canonical decoding, chain id, key shape, and the
   signature (batched over every core). Touches no shared state; safe in a worker thread.
2. :meth:`Mempool.admit` — stateful, on the node's thread: duplicate, expiry, known sender,
   nonce (exactly the next one after the committed nonce and this sender's waiting
   transactions), balance for transfers, and the pool's capacity. An accepted transaction is
   in the pool; a rejected one changed nothing.

Transactions stay in the pool until their block is committed (``in_flight`` once proposed), so
the next nonce a sender may use is always: committed nonce + number of its pooled transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from consortia.contracts import native_currency
from consortia.crypto.suites import Suite
from consortia.errors import (
    BadSignature,
    ConsortiaError,
    DuplicateTx,
    FutureNonce,
    InsufficientBalance,
    MempoolFull,
    StaleNonce,
    TxExpired,
    UnknownSender,
)
from consortia.execution.accounts import account_key, decode_account
from consortia.execution.state_view import StateReader
from consortia.execution.tx_decode import CheckedTx, decode_tx, verify_signatures
from consortia.execution.tx_policy import TxPolicy
from consortia.types.genesis import ChainParams

if TYPE_CHECKING:
    from consortia.ledger.chain_store import StateSnapshot


@dataclass(slots=True)
class Admitted:
    """The outcome for one submitted transaction: its hash, or the error that refused it."""

    tx_hash: bytes | None
    error: ConsortiaError | None = None


@dataclass(slots=True)
class _SenderQueue:
    """A sender's pooled transactions in nonce order, each with the amount it moves."""

    txs: list[tuple[CheckedTx, int]] = field(default_factory=list)
    pending_out: int = 0


def _transfer_amount(tx: CheckedTx) -> int:
    call = tx.body.call
    if call.contract == native_currency.NAME and call.method == native_currency.TRANSFER:
        try:
            return native_currency.decode_transfer_args(call.args)[1]
        except ConsortiaError:
            return 0
    return 0


class Mempool:
    def __init__(
        self,
        chain_id: str,
        suite: Suite,
        params: ChainParams,
        snapshot: Callable[[], StateSnapshot],
        policy: TxPolicy | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.suite = suite
        self.params = params
        self._snapshot = snapshot
        self._policy = policy
        self._waiting: dict[bytes, CheckedTx] = {}
        self._in_flight: dict[bytes, CheckedTx] = {}
        self._senders: dict[bytes, _SenderQueue] = {}

    def __len__(self) -> int:
        return len(self._waiting) + len(self._in_flight)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def pending_count(self, sender: bytes) -> int:
        """How many of ``sender``'s transactions wait in the pool (its next nonce offset)."""
        queue = self._senders.get(sender)
        return len(queue.txs) if queue else 0

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._waiting or tx_hash in self._in_flight

    # --- admission ----------------------------------------------------------------------

    def prepare(
        self, raws: Sequence[bytes], parallel: bool = True
    ) -> list[CheckedTx | ConsortiaError]:
        """Phase 1 (thread-safe): decode and verify signatures of a batch.

        ``parallel`` spreads signature checks over every core; off, they run on this thread.
        """
        out: list[CheckedTx | ConsortiaError] = []
        decoded: list[CheckedTx] = []
        for raw in raws:
            try:
                tx = decode_tx(raw, self.chain_id, self.suite, self.params.max_tx_bytes)
            except ConsortiaError as exc:
                out.append(exc)
                continue
            out.append(tx)
            decoded.append(tx)
        if parallel:
            oks = iter(verify_signatures(self.suite, decoded))
        else:
            verify = self.suite.verify
            oks = iter([verify(t.body.public_key, t.signed_message, t.signature) for t in decoded])
        for i, item in enumerate(out):
            if isinstance(item, CheckedTx) and not next(oks):
                out[i] = BadSignature(
                    "signature does not match the transaction and its public key",
                    tx_hash=item.hash,
                )
        return out

    def admit(self, prepared: Sequence[CheckedTx | ConsortiaError], next_height: int) -> list[Admitted]:
        """Phase 2 (node thread): stateful checks; accepted transactions join the pool."""
        results: list[Admitted] = []
        with self._snapshot() as state:
            policy = self._policy if self._policy is not None and self._policy.applies(state) else None
            for item in prepared:
                if isinstance(item, ConsortiaError):
                    results.append(Admitted(None, item))
                    continue
                try:
                    if policy is not None:
                        policy.check(state, item.sender, item.body.call, next_height)
                    self._admit_one(state, item, next_height)
                except ConsortiaError as exc:
                    results.append(Admitted(item.hash, exc))
                    continue
                results.append(Admitted(item.hash))
        return results

    def _admit_one(self, state: StateSnapshot, tx: CheckedTx, next_height: int) -> None:
        if tx.hash in self:
            raise DuplicateTx("transaction is already waiting in the pool", tx_hash=tx.hash)
        if state.has_tx(tx.hash):
            raise DuplicateTx("transaction is already committed", tx_hash=tx.hash)
        body = tx.body
        if body.expiry < next_height:
            raise TxExpired(
                f"transaction expired at height {body.expiry}; the next block is {next_height}",
                expiry=body.expiry,
                next_height=next_height,
            )
        if len(self) >= self.params.mempool_max_txs:
            raise MempoolFull(f"the pool holds its limit of {self.params.mempool_max_txs}; retry later")
        raw_account = state.get(account_key(tx.sender))
        if raw_account is None:
            raise UnknownSender(
                f"sender 0x{tx.sender.hex()} has no account on this chain", sender=tx.sender
            )
        account = decode_account(raw_account)
        queue = self._senders.get(tx.sender)
        expected = account.nonce + (len(queue.txs) if queue else 0)
        if body.nonce < expected:
            raise StaleNonce(
                f"nonce {body.nonce} is already used; the next nonce is {expected}",
                nonce=body.nonce,
                expected=expected,
            )
        if body.nonce > expected:
            raise FutureNonce(
                f"nonce {body.nonce} leaves a gap; the next nonce is {expected}",
                nonce=body.nonce,
                expected=expected,
            )
        amount = _transfer_amount(tx)
        pending_out = queue.pending_out if queue else 0
        if amount and account.balance < pending_out + amount:
            raise InsufficientBalance(
                f"balance {account.balance} minus {pending_out} pending cannot cover {amount}",
                balance=account.balance,
                pending=pending_out,
                amount=amount,
            )
        if queue is None:
            queue = self._senders[tx.sender] = _SenderQueue()
        queue.txs.append((tx, amount))
        queue.pending_out += amount
        self._waiting[tx.hash] = tx

    # --- block building and commit ------------------------------------------------------

    def take(self, limit: int, exclude: frozenset[bytes] = frozenset()) -> list[CheckedTx]:
        """Up to ``limit`` waiting transactions in arrival order, marked in flight.

        ``exclude``: hashes already in the uncommitted blocks the new block builds on.
        """
        taken: list[CheckedTx] = []
        waiting = self._waiting
        for tx_hash in list(islice(waiting, limit + len(exclude))):
            if len(taken) >= limit:
                break
            if tx_hash in exclude:
                continue
            tx = waiting.pop(tx_hash)
            self._in_flight[tx_hash] = tx
            taken.append(tx)
        return taken

    def mark_in_flight(self, tx_hashes: Iterable[bytes]) -> None:
        """Transactions now in a pending block (e.g. one restored after a restart)."""
        for tx_hash in tx_hashes:
            tx = self._waiting.pop(tx_hash, None)
            if tx is not None:
                self._in_flight[tx_hash] = tx

    def release(self, txs: Iterable[CheckedTx]) -> None:
        """Put transactions of an abandoned proposal back at the front of the queue."""
        back = {tx.hash: tx for tx in txs if self._in_flight.pop(tx.hash, None) is not None}
        if back:
            back.update(self._waiting)
            self._waiting = back

    def committed(self, txs: Iterable[CheckedTx]) -> None:
        """Forget transactions now in a committed block; drop any of theirs now stale."""
        touched: set[bytes] = set()
        senders = self._senders
        for tx in txs:
            self._in_flight.pop(tx.hash, None)
            self._waiting.pop(tx.hash, None)
            queue = senders.get(tx.sender)
            if queue is not None and queue.txs and queue.txs[0][0].hash == tx.hash:
                # the usual case: our own oldest transaction of this sender was committed
                queue.pending_out -= queue.txs.pop(0)[1]
                if not queue.txs:
                    del senders[tx.sender]
            elif queue is not None:
                touched.add(tx.sender)  # someone else's block: recheck against state
        if touched:
            with self._snapshot() as state:
                for sender in sorted(touched):
                    self._recheck_sender(state, sender)

    def _recheck_sender(self, state: StateReader, sender: bytes) -> None:
        queue = self._senders.get(sender)
        if queue is None:
            return
        raw = state.get(account_key(sender))
        nonce = decode_account(raw).nonce if raw is not None else 0
        keep: list[tuple[CheckedTx, int]] = []
        pending_out = 0
        for tx, amount in queue.txs:
            if tx.body.nonce < nonce:
                self._in_flight.pop(tx.hash, None)
                self._waiting.pop(tx.hash, None)
                continue
            keep.append((tx, amount))
            pending_out += amount
        if keep:
            queue.txs = keep
            queue.pending_out = pending_out
        else:
            del self._senders[sender]
