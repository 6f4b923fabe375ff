"""Admission and ordering of transactions waiting for a block.

Admission runs in two phases so that the expensive part can run off the event loop and on all
cores:

1. :meth:`Mempool.prepare` — stateless: size, canonical decoding, chain id, key shape, and the
   signature (batched over every core). Touches no shared state; safe in a worker thread.
2. :meth:`Mempool.admit` — stateful, on the node's thread: duplicate, expiry (not passed, not
   beyond the chain's expiry window), known sender and the identity/regulator policy, the
   call's own argument check (e.g. a transfer's amount), nonce (exactly the next one after the
   committed nonce and this sender's waiting transactions), balance for payments, and the
   pool's bounds: in total, per sender and per organisation. An accepted transaction is in the
   pool; a rejected one changed nothing.

Transactions stay in the pool until their block is committed (``in_flight`` once proposed), so
the next nonce a sender may use is always: committed nonce + number of its pooled transactions.

What can never be included leaves the pool (and is remembered, with the reason, for status
queries): a transaction whose expiry passed, one made stale by another with the same nonce
committed first, one whose sender was frozen, revoked or removed — and with it every later
transaction of the same sender, which could only follow it. The node removes evicted
transactions from its persisted pool (:meth:`Mempool.drain_evicted`).
"""

from __future__ import annotations

import heapq
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from consortia.crypto.suites import Suite
from consortia.errors import (
    BadSignature,
    ConsortiaError,
    DuplicateTx,
    FutureNonce,
    InsufficientBalance,
    InvalidCall,
    MempoolFull,
    OrgPoolFull,
    SenderPoolFull,
    StaleNonce,
    TxExpired,
    UnknownSender,
)
from consortia.execution.accounts import account_key, decode_account
from consortia.execution.executor import check_expiry
from consortia.execution.state_view import MemoReader, StateReader
from consortia.execution.tx_decode import CheckedTx, decode_tx, verify_signatures
from consortia.execution.tx_policy import TxPolicy
from consortia.limits import item_bytes
from consortia.types.genesis import ChainParams
from consortia.types.transaction import Call

if TYPE_CHECKING:
    from consortia.ledger.chain_store import StateSnapshot

Precheck = Callable[[str, bytes], int]
"""A system contract's stateless check of a call's method and arguments, run at admission:
raises the typed error the call would fail with, or returns the native units it spends."""

MAX_DROPPED_REMEMBERED = 100_000


@dataclass(slots=True)
class Admitted:
    """The outcome for one submitted transaction: its hash, or the error that refused it."""

    tx_hash: bytes | None
    error: ConsortiaError | None = None


@dataclass(slots=True)
class _SenderQueue:
    """A sender's pooled transactions in nonce order, each with the amount it moves."""

    org: str | None
    txs: list[tuple[CheckedTx, int]] = field(default_factory=list)
    pending_out: int = 0


class Mempool:
    def __init__(
        self,
        chain_id: str,
        suite: Suite,
        params: ChainParams,
        snapshot: Callable[[], StateSnapshot],
        policy: TxPolicy | None = None,
        prechecks: Mapping[str, Precheck] | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.suite = suite
        self.params = params
        self._snapshot = snapshot
        self._policy = policy
        self._prechecks = dict(prechecks or {})
        self._waiting: dict[bytes, CheckedTx] = {}
        self._in_flight: dict[bytes, CheckedTx] = {}
        self._senders: dict[bytes, _SenderQueue] = {}
        self._org_counts: Counter[str] = Counter()
        self._expiries: list[tuple[int, bytes]] = []  # heap of (expiry, tx hash)
        self._dropped: OrderedDict[bytes, str] = OrderedDict()
        self._evicted: list[bytes] = []
        self.head_height = 0

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

    def dropped_reason(self, tx_hash: bytes) -> str | None:
        """Why an accepted transaction left the pool without being committed (recent ones)."""
        return self._dropped.get(tx_hash)

    def drain_evicted(self) -> list[bytes]:
        """Hashes evicted since the last call (to remove from the persisted pool)."""
        out, self._evicted = self._evicted, []
        return out

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
            memo = MemoReader(state)  # one committed state for the whole batch: read records once
            policy = self._policy if self._policy is not None and self._policy.applies(memo) else None
            for item in prepared:
                if isinstance(item, ConsortiaError):
                    results.append(Admitted(None, item))
                    continue
                try:
                    org = None
                    amount = self._spend(item.body.call)  # first: system contracts take no value
                    if policy is not None:
                        org = policy.admit(memo, item.sender, item.body.call, next_height)
                    self._admit_one(state, item, next_height, org, amount)
                except ConsortiaError as exc:
                    results.append(Admitted(item.hash, exc))
                    continue
                results.append(Admitted(item.hash))
        return results

    def _spend(self, call: Call) -> int:
        precheck = self._prechecks.get(call.contract)
        if precheck is None:
            return call.value
        if call.value:
            raise InvalidCall(
                f"system contract {call.contract!r} takes no attached value (got {call.value})"
            )
        return precheck(call.method, call.args)

    def _check_bounds(self, queue: _SenderQueue | None, org: str | None) -> None:
        params = self.params
        if len(self) >= params.mempool_max_txs:
            raise MempoolFull(f"the pool holds its limit of {params.mempool_max_txs}; retry later")
        if queue is not None and len(queue.txs) >= params.mempool_max_per_sender:
            raise SenderPoolFull(
                f"this sender already has {len(queue.txs)} transactions waiting, its limit; "
                "retry once some are committed",
                limit=params.mempool_max_per_sender,
            )
        if org is not None:
            share = max(1, params.mempool_max_txs * params.mempool_org_share_percent // 100)
            if self._org_counts[org] >= share:
                raise OrgPoolFull(
                    f"organisation {org!r} already has {share} transactions waiting, its share of "
                    "the pool; retry later",
                    org=org,
                    limit=share,
                )

    def _admit_one(
        self, state: StateSnapshot, tx: CheckedTx, next_height: int, org: str | None, amount: int
    ) -> None:
        """``amount``: what the transaction spends of its sender's balance (``_spend``)."""
        if tx.hash in self:
            raise DuplicateTx("transaction is already waiting in the pool", tx_hash=tx.hash)
        if state.has_tx(tx.hash):
            raise DuplicateTx("transaction is already committed", tx_hash=tx.hash)
        body = tx.body
        check_expiry(body.expiry, next_height, self.params.max_expiry_window)
        queue = self._senders.get(tx.sender)
        self._check_bounds(queue, org)
        raw_account = state.get(account_key(tx.sender))
        if raw_account is None:
            raise UnknownSender(
                f"sender 0x{tx.sender.hex()} has no account on this chain", sender=tx.sender
            )
        account = decode_account(raw_account)
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
        pending_out = queue.pending_out if queue else 0
        if amount and account.balance < pending_out + amount:
            raise InsufficientBalance(
                f"balance {account.balance} minus {pending_out} pending cannot cover {amount}",
                balance=account.balance,
                pending=pending_out,
                amount=amount,
            )
        if queue is None:
            queue = self._senders[tx.sender] = _SenderQueue(org)
        queue.txs.append((tx, amount))
        queue.pending_out += amount
        if queue.org is not None:
            self._org_counts[queue.org] += 1
        self._waiting[tx.hash] = tx
        heapq.heappush(self._expiries, (body.expiry, tx.hash))
        if len(self._expiries) > 2 * len(self) + 1024:
            self._compact_expiries()

    # --- block building -------------------------------------------------------------------

    def take(
        self, limit: int, max_bytes: int, exclude: frozenset[bytes] = frozenset()
    ) -> list[CheckedTx]:
        """Waiting transactions in arrival order, marked in flight: at most ``limit`` of them and
        ``max_bytes`` as a block counts them (one that would cross it is left for a later block).

        ``exclude``: hashes already in the uncommitted blocks the new block builds on.
        """
        taken: list[CheckedTx] = []
        size = 0
        for tx_hash, tx in self._waiting.items():
            if len(taken) >= limit:
                break
            if tx_hash in exclude:
                continue
            cost = item_bytes(tx.raw)
            if size + cost > max_bytes:
                continue  # a smaller one behind it may still fit
            size += cost
            taken.append(tx)
        for tx in taken:
            del self._waiting[tx.hash]
            self._in_flight[tx.hash] = tx
        return taken

    def mark_in_flight(self, tx_hashes: Iterable[bytes]) -> None:
        """Transactions now in a pending block (e.g. one restored after a restart)."""
        for tx_hash in tx_hashes:
            tx = self._waiting.pop(tx_hash, None)
            if tx is not None:
                self._in_flight[tx_hash] = tx

    def release(self, txs: Iterable[CheckedTx]) -> None:
        """Put transactions of an abandoned proposal back at the front of the queue (those
        expired meanwhile leave the pool)."""
        back: dict[bytes, CheckedTx] = {}
        expired: list[CheckedTx] = []
        for tx in txs:
            if tx.hash not in self._in_flight:
                continue
            if tx.body.expiry <= self.head_height:
                expired.append(tx)  # drop() takes it out of flight
            else:
                back[tx.hash] = self._in_flight.pop(tx.hash)
        if back:
            back.update(self._waiting)
            self._waiting = back
        for tx in expired:
            self.drop(tx, TxExpired.code)

    def drop(self, tx: CheckedTx, reason: str) -> None:
        """Evict a transaction that can never be included, with every later one of its sender."""
        queue = self._senders.get(tx.sender)
        if queue is None:
            self._forget(tx.hash, reason)
            return
        index = next((i for i, (t, _) in enumerate(queue.txs) if t.hash == tx.hash), None)
        if index is None:
            self._forget(tx.hash, reason)
            return
        for later, amount in queue.txs[index:]:
            self._forget(later.hash, reason if later.hash == tx.hash else "follows_dropped")
            queue.pending_out -= amount
        self._shrink(queue, len(queue.txs) - index)
        del queue.txs[index:]
        if not queue.txs:
            del self._senders[tx.sender]

    def _shrink(self, queue: _SenderQueue, count: int) -> None:
        if queue.org is not None and count:
            self._org_counts[queue.org] -= count
            if self._org_counts[queue.org] <= 0:
                del self._org_counts[queue.org]

    def _forget(self, tx_hash: bytes, reason: str) -> None:
        """Remove one transaction from the pool's maps (not from its sender's queue) and
        remember why."""
        found = self._waiting.pop(tx_hash, None) or self._in_flight.pop(tx_hash, None)
        if found is None:
            return
        self._evicted.append(tx_hash)
        self._dropped[tx_hash] = reason
        if len(self._dropped) > MAX_DROPPED_REMEMBERED:
            self._dropped.popitem(last=False)

    # --- commit -------------------------------------------------------------------------

    def committed(self, txs: Iterable[CheckedTx], height: int | None = None) -> None:
        """Forget transactions now in a committed block; drop any of theirs now stale, and every
        waiting transaction whose expiry the next block would pass."""
        touched: set[bytes] = set()
        senders = self._senders
        for tx in txs:
            self._in_flight.pop(tx.hash, None)
            self._waiting.pop(tx.hash, None)
            queue = senders.get(tx.sender)
            if queue is not None and queue.txs and queue.txs[0][0].hash == tx.hash:
                # the usual case: our own oldest transaction of this sender was committed
                queue.pending_out -= queue.txs.pop(0)[1]
                self._shrink(queue, 1)
                if not queue.txs:
                    del senders[tx.sender]
            elif queue is not None:
                touched.add(tx.sender)  # someone else's block: recheck against state
        if touched:
            with self._snapshot() as state:
                for sender in sorted(touched):
                    self._recheck_sender(state, sender)
        if height is not None:
            self.head_height = max(self.head_height, height)
            self._evict_expired()

    def recheck_senders(self, next_height: int) -> None:
        """Re-apply the identity/regulator policy to every pooled sender (after a block that
        froze, revoked or removed someone); drop what is now refused, with its successors."""
        with self._snapshot() as state:
            if self._policy is None or not self._policy.applies(state):
                return
            for sender in sorted(self._senders):
                queue = self._senders.get(sender)
                if queue is None or not queue.txs:
                    continue
                first = queue.txs[0][0]
                try:
                    self._policy.check(state, sender, first.body.call, next_height)
                except ConsortiaError as exc:
                    self.drop(first, exc.code)

    def _compact_expiries(self) -> None:
        """Forget the expiries of transactions no longer pooled (committed or dropped), so the
        heap stays within a small multiple of the pool, however long the node runs."""
        pooled = [(t.body.expiry, h) for h, t in (*self._waiting.items(), *self._in_flight.items())]
        heapq.heapify(pooled)
        self._expiries = pooled

    def _evict_expired(self) -> None:
        heap = self._expiries
        while heap and heap[0][0] <= self.head_height:
            _, tx_hash = heapq.heappop(heap)
            tx = self._waiting.get(tx_hash)
            if tx is not None:  # in flight: dropped on release if its block is abandoned
                self.drop(tx, TxExpired.code)

    def _recheck_sender(self, state: StateReader, sender: bytes) -> None:
        queue = self._senders.get(sender)
        if queue is None:
            return
        raw = state.get(account_key(sender))
        nonce = decode_account(raw).nonce if raw is not None else 0
        stale = [(tx, amount) for tx, amount in queue.txs if tx.body.nonce < nonce]
        for tx, amount in stale:
            self._forget(tx.hash, StaleNonce.code)
            queue.pending_out -= amount
        self._shrink(queue, len(stale))
        queue.txs = queue.txs[len(stale):]
        if not queue.txs:
            del self._senders[sender]
