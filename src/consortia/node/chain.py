"""The ledger side of a node: executes, validates and commits blocks; owns the mempool.

Consensus decides *which* block is next; this class knows *what* a block means. It keeps the
blocks that are executed but not yet final (``pending``), each on top of its parent's writes, so
a leader can propose the next block before the previous one is committed (pipelining).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from consortia.codec import encode
from consortia.consensus.block_meta import genesis_qc
from consortia.contracts.composition import contract_host_for, prechecks_of, system_contracts_for
from consortia.contracts.permissioned import read_params
from consortia.crypto.suites import Suite, get_suite
from consortia.errors import ConfigError, ConsortiaError, NotFound
from consortia.execution.context import BlockContext
from consortia.execution.executor import Excluded, Executor, InvalidBlock
from consortia.execution.state_view import Overlay, StateReader
from consortia.execution.tx_decode import CheckedTx, decode_tx, verify_signatures
from consortia.execution.tx_policy import TxPolicy
from consortia.invariant import invariant
from consortia.ledger.chain_store import ChainStore, Head, StateSnapshot
from consortia.ledger.merkle import merkle_root
from consortia.limits import item_bytes
from consortia.mempool.pool import Mempool
from consortia.node.evidence_book import EvidenceBook
from consortia.node.genesis import NULL_QC, genesis_hash
from consortia.node.genesis_state import genesis_writes
from consortia.state.merkle_tree import MerkleTree
from consortia.types.block import Block, CommittedBlock, Header
from consortia.types.block import block_id as hash_block_id
from consortia.types.consensus import QuorumCert, TimeoutCert
from consortia.types.genesis import ChainParams, Genesis
from consortia.types.receipt import Receipt

EMPTY_STATE_ROOT = b"\x00" * 32


@dataclass(slots=True)
class ExecutedBlock:
    """A block with everything its execution produced, ready to commit."""

    block: Block
    block_id: bytes
    txs: list[CheckedTx]
    receipts: list[Receipt]
    writes: dict[bytes, bytes | None]
    new_nodes: dict[bytes, bytes]
    parent: ExecutedBlock | None  # None: the parent is the committed head

    @property
    def header(self) -> Header:
        return self.block.header


CommitListener = Callable[[ExecutedBlock, CommittedBlock], None]


def block_bytes(block: Block) -> int:
    """What a block's size limit counts: its transactions and evidence, with their framing."""
    return sum(item_bytes(t) for t in block.txs) + sum(item_bytes(e) for e in block.evidence)


def block_id_of(suite: Suite, header: Header) -> bytes:
    return hash_block_id(suite.hash, header)


class Chain:
    def __init__(self, store: ChainStore, genesis: Genesis) -> None:
        self.store = store
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.params = genesis.params
        self.suite = get_suite(genesis.suite)
        self.hash = self.suite.hash
        self.contract_host = contract_host_for(genesis)
        self._policy = TxPolicy()
        self.executor = Executor(
            system_contracts_for(genesis, self.contract_host),
            fallback=self.contract_host,
            policy=self._policy,
            end_block=self.contract_host.end_block,
        )
        self.evidence = EvidenceBook(
            genesis.chain_id, self.suite, [v.public_key for v in genesis.validators]
        )
        self._pending: dict[bytes, ExecutedBlock] = {}
        self._pending_nodes: dict[bytes, bytes] = {}
        self._node_refs: Counter[bytes] = Counter()
        self.tree = MerkleTree(self._get_node, self.hash)
        self.listeners: list[CommitListener] = []
        stored = store.genesis()
        if stored is None:
            self._commit_genesis()
        elif stored != genesis:
            raise ConfigError(
                "the data directory belongs to another genesis "
                f"(chain {stored.chain_id!r}); use a fresh home or the matching genesis file"
            )
        head = store.head()
        invariant(head is not None, "store has no head after genesis")
        self.head: Head = head  # type: ignore[assignment]
        self.head_header: Header = store.block(self.head.height).block.header
        if genesis.orgs:  # parameters as governance left them
            self.params = read_params(store.state_get, genesis.params)
        self.mempool = self._new_mempool()

    def _new_mempool(self) -> Mempool:
        prechecks = prechecks_of(self.executor.contracts)
        pool = Mempool(self.chain_id, self.suite, self.params, self.store.snapshot, self._policy, prechecks)
        pool.head_height = self.head.height
        return pool

    # --- ids and roots ------------------------------------------------------------------

    def block_id(self, header: Header) -> bytes:
        return block_id_of(self.suite, header)

    def tx_root(self, tx_hashes: Sequence[bytes]) -> bytes:
        return merkle_root(tx_hashes, self.hash)

    def receipts_root(self, receipts: Sequence[Receipt]) -> bytes:
        return merkle_root([encode(r) for r in receipts], self.hash)

    def evidence_root(self, evidence: Sequence[bytes]) -> bytes:
        return merkle_root(evidence, self.hash)

    def _get_node(self, node_hash: bytes) -> bytes | None:
        node = self._pending_nodes.get(node_hash)
        return node if node is not None else self.store.node_get(node_hash)

    # --- genesis ------------------------------------------------------------------------

    def _commit_genesis(self) -> None:
        g = self.genesis
        writes = genesis_writes(g)
        root, nodes = self.tree.update(EMPTY_STATE_ROOT, sorted(writes.items()))
        header = Header(
            chain_id=g.chain_id,
            height=0,
            round=0,
            timestamp_ms=g.timestamp_ms,
            parent_id=genesis_hash(g),
            proposer=0,
            tx_count=0,
            tx_root=self.tx_root([]),
            receipts_root=self.receipts_root([]),
            state_root=root,
            evidence_root=self.evidence_root([]),
            justify=NULL_QC,
        )
        block_id = self.block_id(header)
        committed = CommittedBlock(Block(header, []), genesis_qc(block_id))
        self.store.commit_block(committed, [], [], writes, nodes, genesis=g)

    # --- pending (executed, not final) blocks -------------------------------------------

    def pending(self, block_id: bytes) -> ExecutedBlock | None:
        return self._pending.get(block_id)

    def _params_on(self, state: StateReader) -> ChainParams:
        """The parameters a block on ``state`` (its parent's state) must meet: the same on every
        node for the same parent, whatever each has committed so far. (Open chains: genesis's,
        or what a test set on ``self.params``.)"""
        return read_params(state.get, self.genesis.params) if self.genesis.orgs else self.params

    def _parent(self, parent_id: bytes) -> tuple[ExecutedBlock | None, Header]:
        if parent_id == self.head.block_id:
            return None, self.head_header
        parent = self._pending.get(parent_id)
        if parent is None:
            raise NotFound(f"parent block 0x{parent_id.hex()} is neither the head nor pending")
        return parent, parent.header

    def _reader(self, snapshot: StateSnapshot, parent: ExecutedBlock | None) -> StateReader:
        chain: list[ExecutedBlock] = []
        while parent is not None:
            chain.append(parent)
            parent = parent.parent
        reader: StateReader = snapshot
        for executed in reversed(chain):
            reader = Overlay(reader, executed.writes)
        return reader

    def _execute(
        self,
        parent_id: bytes,
        round_: int,
        proposer: int,
        timestamp_ms: int,
        justify: QuorumCert,
        timeout_cert: TimeoutCert | None,
        txs: list[CheckedTx],
        evidence: list[bytes],
        params: ChainParams,
        proposing: bool = False,
    ) -> tuple[ExecutedBlock, list[Excluded]]:
        """Execute a block on its parent under ``params`` (those of the parent's state).
        ``proposing``: leave out transactions that may not be in it (returned) instead of
        failing with InvalidBlock."""
        parent, parent_header = self._parent(parent_id)
        height = parent_header.height + 1
        excluded: list[Excluded] = []
        with self.store.snapshot() as snapshot:
            reader = self._reader(snapshot, parent)
            ctx = BlockContext(self.chain_id, height, timestamp_ms, proposer, params.max_expiry_window)
            if proposing:
                proposed = self.executor.propose(reader, ctx, txs)
                outcome, txs, excluded = proposed.outcome, proposed.included, proposed.excluded
            else:
                outcome = self.executor.execute(reader, ctx, txs)
            self.evidence.record(Overlay(reader, outcome.writes), outcome.writes, evidence, height)
            root, nodes = self.tree.update(parent_header.state_root, list(outcome.writes.items()))
        header = Header(
            chain_id=self.chain_id,
            height=height,
            round=round_,
            timestamp_ms=timestamp_ms,
            parent_id=parent_id,
            proposer=proposer,
            tx_count=len(txs),
            tx_root=self.tx_root([t.hash for t in txs]),
            receipts_root=self.receipts_root(outcome.receipts),
            state_root=root,
            evidence_root=self.evidence_root(evidence),
            justify=justify,
            timeout_cert=timeout_cert,
        )
        block = Block(header, [t.raw for t in txs], list(evidence))
        executed = ExecutedBlock(
            block, self.block_id(header), txs, outcome.receipts, outcome.writes, nodes, parent
        )
        return executed, excluded

    def _remember(self, executed: ExecutedBlock) -> None:
        if executed.block_id in self._pending:
            return
        self._pending[executed.block_id] = executed
        for node_hash, node in executed.new_nodes.items():
            self._pending_nodes[node_hash] = node
            self._node_refs[node_hash] += 1

    def _forget(self, executed: ExecutedBlock) -> None:
        self._pending.pop(executed.block_id, None)
        for node_hash in executed.new_nodes:
            self._node_refs[node_hash] -= 1
            if self._node_refs[node_hash] <= 0:
                del self._node_refs[node_hash]
                self._pending_nodes.pop(node_hash, None)

    def build_block(
        self,
        parent_id: bytes,
        round_: int,
        proposer: int,
        timestamp_ms: int,
        justify: QuorumCert,
        timeout_cert: TimeoutCert | None = None,
        evidence: Sequence[bytes] = (),
        empty: bool = False,
    ) -> ExecutedBlock:
        """Propose: take waiting transactions from the mempool and execute them.

        Only transactions that may be in the block are in it: one that may not (expired, stale
        or out-of-order nonce on the parent's state, sender refused) is left out — back to the
        pool if it may fit a later block, out of it if it never can. The block's bytes stay
        within ``max_block_bytes``, so it fits a p2p frame.

        ``empty``: a block that only certifies its parent (the end of a validator epoch)."""
        parent, parent_header = self._parent(parent_id)
        parent_executed = parent
        timestamp_ms = max(timestamp_ms, parent_header.timestamp_ms + 1)
        in_ancestors: set[bytes] = set()
        while parent is not None:
            in_ancestors.update(t.hash for t in parent.txs)
            parent = parent.parent
        with self.store.snapshot() as snapshot:
            base = self._reader(snapshot, parent_executed)
            fresh = self.evidence.unrecorded(base, evidence)
            params = self._params_on(base)
        budget = params.max_block_bytes - sum(item_bytes(e) for e in fresh)
        if empty or budget <= 0:
            txs: list[CheckedTx] = []
        else:
            txs = self.mempool.take(params.max_block_txs, budget, frozenset(in_ancestors))
        try:
            executed, excluded = self._execute(
                parent_id, round_, proposer, timestamp_ms, justify, timeout_cert, txs, fresh, params,
                proposing=True,
            )
        except ConsortiaError:
            self.mempool.release(txs)
            raise
        left_out = [e.tx for e in excluded if not e.never]
        self.mempool.release(left_out)
        for e in excluded:
            if e.never:
                self.mempool.drop(e.tx, e.error.code)
        self._forget_evicted()
        self._remember(executed)
        return executed

    def _forget_evicted(self) -> None:
        """Remove what the pool evicted from the saved pool, so a restart does not revive it."""
        evicted = self.mempool.drain_evicted()
        if evicted:
            self.store.pool_remove(evicted)

    def validate_block(self, block: Block) -> ExecutedBlock:
        """Check a proposed block fully: its transactions, then re-execute and compare roots."""
        header = block.header
        block_id = self.block_id(header)
        known = self._pending.get(block_id)
        if known is not None:
            return known
        if header.chain_id != self.chain_id:
            raise InvalidBlock(f"block is for chain {header.chain_id!r}")
        parent, parent_header = self._parent(header.parent_id)
        with self.store.snapshot() as snapshot:
            params = self._params_on(self._reader(snapshot, parent))
        if header.height != parent_header.height + 1:
            raise InvalidBlock(f"height {header.height} does not follow {parent_header.height}")
        if header.timestamp_ms <= parent_header.timestamp_ms:
            raise InvalidBlock("timestamp does not move forward from the parent's")
        if header.tx_count != len(block.txs) or len(block.txs) > params.max_block_txs:
            raise InvalidBlock("transaction count is wrong or over the block limit")
        size = block_bytes(block)
        if size > params.max_block_bytes:
            raise InvalidBlock(
                f"block holds {size} bytes of transactions and evidence; the limit is "
                f"{params.max_block_bytes}"
            )
        txs = self._decode_block_txs(block.txs, params.max_tx_bytes)
        executed, _ = self._execute(
            header.parent_id,
            header.round,
            header.proposer,
            header.timestamp_ms,
            header.justify,
            header.timeout_cert,
            txs,
            list(block.evidence),
            params,
        )
        if executed.block_id != block_id:
            raise InvalidBlock(
                "re-executing the block gives different roots: "
                f"state 0x{executed.header.state_root.hex()} vs 0x{header.state_root.hex()}"
            )
        self._remember(executed)
        return executed

    def _decode_block_txs(self, raws: list[bytes], max_tx_bytes: int) -> list[CheckedTx]:
        txs: list[CheckedTx] = []
        unverified: list[CheckedTx] = []
        seen: set[bytes] = set()
        for raw in raws:
            try:
                tx = decode_tx(raw, self.chain_id, self.suite, max_tx_bytes)
            except ConsortiaError as exc:
                raise InvalidBlock(f"block holds a bad transaction: {exc.message}") from None
            if tx.hash in seen or self.store.has_tx(tx.hash):
                raise InvalidBlock(f"transaction 0x{tx.hash.hex()} is repeated")
            seen.add(tx.hash)
            txs.append(tx)
            if tx.hash not in self.mempool:  # admission already verified the ones we hold
                unverified.append(tx)
        if not all(verify_signatures(self.suite, unverified)):
            raise InvalidBlock("block holds a transaction with a bad signature")
        return txs

    def abandon(self, block_id: bytes) -> None:
        """Drop a pending block that will never commit; its transactions wait again."""
        executed = self._pending.get(block_id)
        if executed is None:
            return
        for child in [b for b in self._pending.values() if b.parent is executed]:
            self.abandon(child.block_id)
        self._forget(executed)
        self.mempool.release(executed.txs)

    # --- snapshots -----------------------------------------------------------------------

    def install_snapshot(self, committed: CommittedBlock, items: list[tuple[bytes, bytes]]) -> None:
        """Adopt a peer's state at a certified block (the caller checked the certificate).

        The state tree is rebuilt from the items; unless its root is the header's state root,
        nothing is written.
        """
        header = committed.block.header
        if header.height <= self.head.height:
            raise InvalidBlock(f"snapshot at {header.height} is not above our head {self.head.height}")
        scratch: dict[bytes, bytes] = {}
        tree = MerkleTree(scratch.get, self.hash)
        root, nodes = tree.update(EMPTY_STATE_ROOT, items)
        if root != header.state_root:
            raise InvalidBlock("the snapshot's state does not match the certified state root")
        for executed in list(self._pending.values()):
            self._forget(executed)
        self.store.install_snapshot(committed, items, nodes)
        self.head = Head((header.height, committed.qc.block_id, header.state_root))
        self.head_header = header
        self.tree = MerkleTree(self._get_node, self.hash)
        if self.genesis.orgs:
            self.params = read_params(self.store.state_get, self.genesis.params)
        self.mempool = self._new_mempool()

    def abandon_all(self) -> None:
        """Drop every pending block; their transactions wait again."""
        for block_id in list(self._pending):
            self.abandon(block_id)

    # --- commit -------------------------------------------------------------------------

    def commit(self, block_id: bytes, qc: QuorumCert) -> ExecutedBlock:
        """Make a pending block final: durably store it with its certificate."""
        executed = self._pending.get(block_id)
        if executed is None:
            raise NotFound(f"block 0x{block_id.hex()} is not pending")
        invariant(qc.block_id == block_id, "certificate is for another block")
        invariant(executed.header.parent_id == self.head.block_id, "commit out of order")
        committed = CommittedBlock(executed.block, qc)
        self.store.commit_block(
            committed,
            [t.hash for t in executed.txs],
            executed.receipts,
            executed.writes,
            executed.new_nodes,
        )
        self.head = Head((executed.header.height, block_id, executed.header.state_root))
        self.head_header = executed.header
        for child in self._pending.values():
            if child.parent is executed:
                child.parent = None
        stale = [
            b for b in self._pending.values()
            if b is not executed and b.header.height <= executed.header.height
        ]
        self._forget(executed)
        for b in stale:
            self.abandon(b.block_id)
        if self.genesis.orgs:  # governance may have changed a parameter in this block
            self.params = read_params(self.store.state_get, self.genesis.params)
            self.mempool.params = self.params
        self.mempool.committed(executed.txs, executed.header.height)
        if self.genesis.orgs and self._policy.may_refuse_senders(executed.receipts):
            self.mempool.recheck_senders(executed.header.height + 1)
        self._forget_evicted()
        for listener in self.listeners:
            listener(executed, committed)
        return executed
