"""What the whole-node simulator checks, from outside the node stacks.

Checked as it happens (every commit, every frame sent, every loop step, every restart):

* **Agreement** — no two honest nodes commit different blocks or state roots at one height
  (block by block through the chain's commit listener, and the head after a snapshot install).
* **Finality proofs** — every block an honest node commits carries a certificate that a quorum
  of the validator set really signed (checked as a light client would, from genesis alone).
* **Durability** — a node's committed head never goes backwards, within an incarnation or
  across a restart, and the block it had committed at that height is still the one it holds.
* **No equivocation** — an honest validator never signs two different proposals or votes for
  one round, across restarts too (from the frames it actually sent, lost ones included).
* **A halted node is silent** — after its driver halted on a storage failure, a node sends no
  consensus message.

Checked when the run ends (after the network healed):

* **Progress** — every honest node's height moved past the highest height at the heal.
* **Every acknowledged transaction is accounted for** — committed; or provably expired (the
  committed head reached its expiry); or provably invalid: its nonce was used by another
  committed transaction, a pool dropped it with a reason (``Mempool.dropped_reason``), or it
  follows an acknowledged transaction of its sender that is itself expired or invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consortia.errors import ConsortiaError
from consortia.ledger.proofs import verify_certified_header
from consortia.node.wire import ProposalMsg, VoteMsg, decode_wire
from consortia.sim.whole_node.net import is_consensus
from consortia.types.block import CommittedBlock
from consortia.types.genesis import Genesis


@dataclass(frozen=True, slots=True)
class AckedTx:
    """A transaction a node acknowledged (``Node.submit`` returned no error for it)."""

    tx_hash: bytes
    sender: bytes
    nonce: int
    expiry: int
    node: int
    at_ms: int
    kind: str


@dataclass(frozen=True, slots=True)
class LedgerView:
    """What the checker may ask about the committed chain of a reference node."""

    height: int
    is_committed: Callable[[bytes], bool]
    committed_nonce: Callable[[bytes], int]
    dropped_reason: Callable[[bytes], str | None]
    in_pool: Callable[[bytes], list[int]]


class WholeNodeChecker:
    def __init__(self, now_ms: Callable[[], int], honest: Iterable[int]) -> None:
        self._now_ms = now_ms
        self.honest = frozenset(honest)
        self.block_at: dict[int, bytes] = {}
        self.root_at: dict[int, bytes] = {}
        self.head_of: dict[int, tuple[int, bytes]] = {}
        self._signed: dict[tuple[str, int, int], bytes] = {}
        self._certified: dict[bytes, bool] = {}
        self._last_payload: bytes | None = None
        self.violations: list[str] = []

    def fail(self, message: str) -> None:
        self.violations.append(f"t={self._now_ms()}ms: {message}")

    # --- agreement and durability ------------------------------------------------------------

    def committed(self, node: int, height: int, block_id: bytes, state_root: bytes) -> None:
        if node not in self.honest:
            return
        known = self.block_at.setdefault(height, block_id)
        if known != block_id:
            self.fail(f"FORK: node {node} committed {block_id.hex()[:12]} at height {height}, "
                      f"another honest node committed {known.hex()[:12]}")
        known_root = self.root_at.setdefault(height, state_root)
        if known_root != state_root:
            self.fail(f"STATE: node {node} has state root {state_root.hex()[:12]} at height "
                      f"{height}, another honest node {known_root.hex()[:12]}")
        head = self.head_of.get(node)
        if head is None or height > head[0]:
            self.head_of[node] = (height, block_id)

    def certified(self, node: int, committed: CommittedBlock, genesis: Genesis) -> None:
        """The block's certificate verifies against the validator set (once per block)."""
        if node not in self.honest:
            return
        qc = committed.qc
        ok = self._certified.get(qc.block_id)
        if ok is None:
            try:
                verify_certified_header(committed.block.header, qc, genesis)
                ok = True
            except ConsortiaError:
                ok = False
            self._certified[qc.block_id] = ok
        if not ok:
            self.fail(f"UNCERTIFIED: node {node} committed {qc.block_id.hex()[:12]} at height "
                      f"{qc.height}, but no quorum of validators signed its certificate")

    def head_seen(self, node: int, height: int, block_id: bytes, state_root: bytes) -> None:
        """The node's current head (polled every step)."""
        head = self.head_of.get(node)
        if head is not None and height < head[0]:
            self.fail(f"LOST: node {node}'s committed head went back from {head[0]} to {height}")
        elif head is None or height > head[0]:
            self.committed(node, height, block_id, state_root)

    def restarted(self, node: int, height: int, block_at: Callable[[int], bytes | None]) -> None:
        """A new incarnation opened its store: everything committed before is still there."""
        head = self.head_of.get(node)
        if head is None:
            return
        if height < head[0]:
            self.fail(f"LOST: node {node} restarted at height {height} but had committed "
                      f"{head[0]}")
            return
        kept = block_at(head[0])
        if kept != head[1]:
            shown = kept.hex()[:12] if kept is not None else "nothing"
            self.fail(f"LOST: node {node} restarted holding {shown} at height {head[0]}, where it "
                      f"had committed {head[1].hex()[:12]}")

    # --- what honest validators sign --------------------------------------------------------

    def sent(self, node: int, validator: int | None, payload: bytes, halted: bool) -> None:
        if node not in self.honest or payload is self._last_payload:
            return
        self._last_payload = payload
        if not is_consensus(payload):
            return
        try:
            msg = decode_wire(payload)
        except ConsortiaError:
            self.fail(f"node {node} sent a frame it cannot decode itself")
            return
        if halted:
            self.fail(f"node {node} sent {type(msg).__name__} after its driver halted")
        if validator is None:
            return
        if isinstance(msg, ProposalMsg):
            self._once("proposal", validator, msg.proposal.block.round, msg.proposal.block.id)
        elif isinstance(msg, VoteMsg):
            self._once("vote", validator, msg.vote.round, msg.vote.block_id)

    def _once(self, what: str, validator: int, round_: int, block_id: bytes) -> None:
        first = self._signed.setdefault((what, validator, round_), block_id)
        if first != block_id:
            self.fail(f"EQUIVOCATION: honest validator {validator} signed a {what} for "
                      f"{block_id.hex()[:12]} in round {round_} after one for {first.hex()[:12]}")

    # --- at the end ---------------------------------------------------------------------------

    def unresolved(self, acked: list[AckedTx], ledger: LedgerView) -> list[str]:
        """Acknowledged transactions neither committed, expired nor provably invalid.

        One that waits behind a nonce no live acknowledged transaction fills (its predecessor
        expired, was refused, or was never acknowledged) can never be included: resolved."""
        by_sender: dict[bytes, list[AckedTx]] = {}
        for tx in acked:
            by_sender.setdefault(tx.sender, []).append(tx)
        problems: list[str] = []
        for sender, txs in by_sender.items():
            nonce = ledger.committed_nonce(sender)
            live = [
                tx for tx in txs
                if not ledger.is_committed(tx.tx_hash) and tx.expiry > ledger.height
                and tx.nonce >= nonce and ledger.dropped_reason(tx.tx_hash) is None
            ]
            filled = {tx.nonce for tx in live}
            for tx in sorted(live, key=lambda t: (t.nonce, t.at_ms)):
                if any(k not in filled for k in range(nonce, tx.nonce)):
                    continue  # waits behind a nonce that nothing acknowledged fills
                pools = ledger.in_pool(tx.tx_hash)
                where = f"still waiting in the pools of nodes {pools}" if pools else "in no pool"
                problems.append(
                    f"{'STUCK' if pools else 'LOST'}: transaction {tx.tx_hash.hex()[:12]} "
                    f"({tx.kind}, nonce {tx.nonce}, expiry {tx.expiry}) acknowledged by node "
                    f"{tx.node} at {tx.at_ms}ms is neither committed by height {ledger.height}, "
                    f"expired nor invalid: {where}")
        return problems
