"""What the simulator checks on every step, from outside the cores.

* Agreement: no two honest instances commit different blocks (or state roots) at one height.
* Monotonic, gap-free commits: each commit extends the instance's own chain by parent links.
* Valid finality proofs: the commit QC certifies the child, with a real quorum (as a light client
  would check it).
* Honest validators never sign two different votes or proposals for one round (across
  restarts too); evidence found against an honest validator is a violation, and every evidence
  must verify.
"""

from __future__ import annotations

from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.certificates import CertificateChecker
from consortia.consensus.config import CoreConfig
from consortia.consensus.effects import Commit
from consortia.consensus.evidence import Evidence, verify_evidence
from consortia.consensus.messages import Message, Proposal
from consortia.consensus.safety_rules import SafetyData
from consortia.sim.keys import SimKeys
from consortia.types.consensus import Vote


class InvariantChecker:
    def __init__(self, config: CoreConfig, keys: SimKeys, check_commit_proofs: bool) -> None:
        self._config = config
        self._keys = keys
        self._proofs = CertificateChecker(config, keys.verify, config.quorum)
        self._check_proofs = check_commit_proofs
        self.chain: dict[int, bytes] = {}
        self.state_roots: dict[int, bytes] = {}
        self._votes: dict[tuple[int, int], bytes] = {}
        self._proposals: dict[tuple[int, int], bytes] = {}
        self.violations: list[str] = []

    def _fail(self, now: int, message: str) -> None:
        self.violations.append(f"t={now}ms: {message}")

    def on_commit(self, now: int, node_id: int, chain: list[BlockMeta], commit: Commit) -> None:
        """Check ``commit`` against ``chain`` (the instance's chain BEFORE applying it)."""
        prev_height = chain[-1].height if chain else 0
        prev_id = chain[-1].id if chain else None
        for block in commit.blocks:
            if block.height != prev_height + 1:
                self._fail(now, f"node {node_id} committed height {block.height} after "
                                f"{prev_height} (must grow by one)")
            if prev_id is not None and block.parent_id != prev_id:
                self._fail(now, f"node {node_id} committed a block at height {block.height} that "
                                "does not extend its previous commit")
            prev_height, prev_id = block.height, block.id
        last, child, qc = commit.blocks[-1], commit.child, commit.commit_qc
        if child.parent_id != last.id or child.round != last.round + 1 or qc.block_id != child.id:
            self._fail(now, f"node {node_id} commit at height {last.height} lacks a two-chain proof")
        if self._check_proofs and not self._proofs.qc_ok(qc):
            self._fail(now, f"node {node_id} commit at height {last.height}: commit QC does not "
                            "verify with a real quorum")

    def on_committed_block(self, now: int, node_id: int, block: BlockMeta, root: bytes) -> None:
        known = self.chain.setdefault(block.height, block.id)
        if known != block.id:
            self._fail(now, f"FORK: node {node_id} committed {block.id.hex()[:12]} at height "
                            f"{block.height}, another honest node committed {known.hex()[:12]}")
        known_root = self.state_roots.setdefault(block.height, root)
        if known_root != root:
            self._fail(now, f"node {node_id} state root differs at height {block.height}")

    def on_send(self, now: int, validator: int, msg: Message) -> None:
        """Record what an honest validator signed; two different things in one round is a bug."""
        if isinstance(msg, Vote):
            key = (validator, msg.round)
            first = self._votes.setdefault(key, msg.block_id)
            if first != msg.block_id:
                self._fail(now, f"honest validator {validator} voted for two blocks in round "
                                f"{msg.round}")
        elif isinstance(msg, Proposal):
            key = (validator, msg.block.round)
            first = self._proposals.setdefault(key, msg.block.id)
            if first != msg.block.id:
                self._fail(now, f"honest validator {validator} proposed two blocks in round "
                                f"{msg.block.round}")

    def on_persist(self, now: int, validator: int, data: SafetyData) -> None:
        """Every vote a core signs is in its persisted ``last_vote``: check it there too."""
        if data.last_vote is not None:
            self.on_send(now, validator, data.last_vote)

    def on_evidence(self, now: int, evidence: Evidence, honest: bool) -> None:
        if not verify_evidence(evidence, self._config.chain_id, self._keys.verify):
            self._fail(now, f"evidence against {evidence.offender} does not verify")
        elif honest:
            self._fail(now, f"evidence against honest validator {evidence.offender} in round "
                            f"{evidence.round}")
