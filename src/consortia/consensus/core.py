"""The consensus core: two-chain HotStuff (Jolteon / DiemBFT v4) as a pure state machine.

``ConsensusCore.step(event) -> list[Effect]`` is the whole interface. The core has no sockets,
no clock and no randomness: time arrives inside events, and timers, messages, persistence,
block building, validation, fetching and commits leave as effects, performed by the node in
list order (see :mod:`consortia.consensus.effects`).

Protocol in one paragraph. Round ``r`` is led by ``leader(r)``: round-robin while every validator
is active, else chosen by reputation from committed history (see
:mod:`consortia.consensus.leader_election`). A node is in round
``max(high_qc.round, high_tc.round) + 1``. The leader proposes a block extending its highest QC
(with the TC for ``r - 1`` when it got there by timeout); replicas validate it, check the safety
rules, and send their vote to every validator; each forms the QC from a quorum of votes and
enters ``r + 1``, whose leader proposes at once (pipelining). (Votes to all rather than to the
next leader only: a dead next leader then costs its own round, never the block voted for.)
A QC for block ``B'`` whose parent ``B`` has ``B'.round == B.round + 1`` commits ``B`` and its
ancestors. A node whose round timer fires broadcasts a timeout vote carrying its highest QC; a
quorum of those forms a TC, which moves everyone to the next round. Timeouts double per round
without a QC, up to a cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.block_tree import BlockTree
from consortia.consensus.certificates import CertificateChecker
from consortia.consensus.collectors import TimeoutCollector, VoteCollector
from consortia.consensus.config import CoreConfig
from consortia.consensus.effects import (
    Broadcast,
    BuildBlock,
    Commit,
    Effect,
    EvidenceFound,
    FetchBlock,
    PersistSafety,
    ScheduleTimer,
    SendTo,
    ValidateBlock,
)
from consortia.consensus.events import (
    BlockBuilt,
    BlockFetched,
    BlockValidated,
    Event,
    ProposalReceived,
    Start,
    SyncReceived,
    TimeoutReceived,
    TimerFired,
    VoteReceived,
)
from consortia.consensus.evidence import Evidence, ProposalEquivocation, SignedProposal
from consortia.consensus.leader_election import LeaderElection
from consortia.consensus.messages import Proposal, SyncInfo, proposal_bytes
from consortia.consensus.pacemaker import round_timeout_ms
from consortia.consensus.safety_rules import SafetyData, SafetyRules
from consortia.invariant import invariant
from consortia.types.consensus import (
    QuorumCert,
    TimeoutCert,
    TimeoutVote,
    Vote,
    timeout_bytes,
    vote_bytes,
)

Sign = Callable[[bytes], bytes]
Verify = Callable[[int, bytes, bytes], bool]

_PROPOSAL_MEMORY_ROUNDS = 64


class ConsensusCore:
    """One validator's consensus state machine.

    Args:
        config: the chain-wide :class:`CoreConfig` (validator count, chain id, timeouts).
        me: this validator's index, ``0 <= me < config.validators``.
        sign: signs bytes with this validator's key (deterministic).
        verify: ``verify(validator, message, signature) -> bool`` for any validator's key.
        safety: the last persisted :class:`SafetyData` (``SafetyData()`` on first start).
        root: the last committed block (the genesis block on first start).
        root_qc: a QC certifying ``root`` (the genesis QC, or ``Commit.child.justify``).
        blocks: blocks the node kept above the root (any order; unknown parents are fetched).
        high_qc: the highest QC the node kept, if any (else the best found in ``blocks``).
        high_tc: the highest TC the node kept, if any.
        history: the latest committed blocks of this validator set, oldest first, ending with
            ``root`` (at least ``leader_election.history_needed(n)`` of them when the chain is
            that long); leaders are elected from it, so a restarted node agrees with its peers.
            Ignored unless its last block is ``root``.

    Feed :class:`Start` once, then every other event; perform the returned effects in order.
    """

    def __init__(
        self,
        config: CoreConfig,
        me: int,
        sign: Sign,
        verify: Verify,
        safety: SafetyData,
        root: BlockMeta,
        root_qc: QuorumCert,
        blocks: Sequence[BlockMeta] = (),
        high_qc: QuorumCert | None = None,
        high_tc: TimeoutCert | None = None,
        history: Sequence[BlockMeta] = (),
    ) -> None:
        invariant(0 <= me < config.validators, "validator index out of range")
        self.config = config
        self.me = me
        self._verify = verify
        quorum = self.quorum_size()
        self.rules = self.make_safety_rules(config.chain_id, me, sign, safety)
        self.certs = CertificateChecker(config, verify, quorum)
        self.certs.trust(root_qc)
        self.tree = BlockTree(root, root_qc, config.max_orphan_blocks)
        ends_at_root = bool(history) and history[-1].id == root.id
        self.election = LeaderElection(config.validators, history if ends_at_root else ())
        self.votes = VoteCollector(quorum)
        self.timeouts = TimeoutCollector(quorum)
        self.high_qc: QuorumCert = root_qc
        self.high_tc: TimeoutCert | None = None
        self.round = 0
        self.started = False
        self._now = 0
        self._effects: list[Effect] = []
        self._proposal_id: bytes | None = None
        self._validated = False
        self._build: BuildBlock | None = None
        self._timed_out = False
        self._wanted: dict[bytes, None] = {}
        self._proposals_seen: dict[tuple[int, int], SignedProposal] = {}
        self._evidence_seen: dict[tuple[str, int, int], None] = {}
        self._last_sync_ms: dict[int, int] = {}
        self._restoring = True
        self._restore(blocks, high_qc, high_tc)
        self._restoring = False

    # ----------------------------------------------------------------------------------------
    # Hooks (tests override these in subclasses to plant bugs the simulator must catch).

    def quorum_size(self) -> int:
        """Votes needed for a QC or TC: ``config.quorum`` (2f+1)."""
        return self.config.quorum

    def make_safety_rules(self, chain_id: str, me: int, sign: Sign, data: SafetyData) -> SafetyRules:
        return SafetyRules(chain_id, me, sign, data)

    def proposal_parent(self) -> tuple[QuorumCert, TimeoutCert | None]:
        """The QC to extend (and the TC to show) when proposing in the current round."""
        tc = None if self.high_qc.round + 1 == self.round else self.high_tc
        return self.high_qc, tc

    # ----------------------------------------------------------------------------------------
    # The interface.

    @property
    def safety_data(self) -> SafetyData:
        return self.rules.data

    @property
    def committed(self) -> BlockMeta:
        """The last committed block."""
        return self.tree.root

    def leader(self, round_: int) -> int:
        """The leader of ``round_`` by reputation over committed history (round-robin when all
        validators are active)."""
        return self.election.leader(round_)

    def sync_info(self) -> SyncInfo:
        return SyncInfo(high_qc=self.high_qc, high_tc=self.high_tc)

    def step(self, event: Event) -> list[Effect]:
        """Apply one event; return the effects to perform, in order."""
        self._effects = []
        invariant(event.now_ms >= 0, "time must not be negative")
        self._now = max(self._now, event.now_ms)
        if isinstance(event, Start):
            self._on_start()
        elif not self.started:
            pass
        elif isinstance(event, TimerFired):
            self._on_timer(event.round)
        elif isinstance(event, ProposalReceived):
            self._on_proposal(event.block, event.signature)
        elif isinstance(event, BlockValidated):
            self._on_validated(event.block_id, event.ok)
        elif isinstance(event, BlockBuilt):
            self._on_built(event.block)
        elif isinstance(event, VoteReceived):
            self._on_vote(event.vote)
        elif isinstance(event, TimeoutReceived):
            self._on_timeout(event.timeout)
        elif isinstance(event, SyncReceived):
            self._on_sync(event.sync, event.sender)
        elif isinstance(event, BlockFetched):
            self._on_fetched(event.block)
        effects, self._effects = self._effects, []
        return effects

    # ----------------------------------------------------------------------------------------
    # Start and restart.

    def _restore(
        self,
        blocks: Sequence[BlockMeta],
        high_qc: QuorumCert | None,
        high_tc: TimeoutCert | None,
    ) -> None:
        for block in sorted(blocks, key=lambda b: (b.height, b.round, b.id)):
            if block.height <= self.tree.root.height or not self.certs.qc_ok(block.justify):
                continue
            self._observe_qc(block.justify)
            tc = block.timeout_cert
            if tc is not None and self.certs.tc_ok(tc):
                self._observe_tc(tc)
            self._insert_block(block)
        if high_qc is not None and self.certs.qc_ok(high_qc):
            self._observe_qc(high_qc)
        if high_tc is not None and self.certs.tc_ok(high_tc):
            self._observe_tc(high_tc)
        self._effects = []  # nothing leaves before Start: fetches and commits are redone then

    def _on_start(self) -> None:
        if self.started:
            return
        self.started = True
        for block_id in self.tree.certs:
            if not self.tree.has(block_id):
                self._want(block_id)
        for qc in sorted(self.tree.certs.values(), key=lambda q: (q.round, q.block_id)):
            self._try_commit(qc)
        self._advance_round()

    # ----------------------------------------------------------------------------------------
    # Rounds and timers.

    def _target_round(self) -> int:
        tc_round = self.high_tc.round if self.high_tc is not None else 0
        return max(self.high_qc.round, tc_round) + 1

    def _advance_round(self) -> None:
        new_round = self._target_round()
        if new_round <= self.round:
            return
        self.round = new_round
        self._proposal_id = None
        self._validated = False
        self._build = None
        self._timed_out = False
        self.votes.prune_up_to(self.high_qc.round)
        self.timeouts.prune_below(new_round)
        horizon = new_round - _PROPOSAL_MEMORY_ROUNDS
        for key in [k for k in self._proposals_seen if k[0] < horizon]:
            del self._proposals_seen[key]
        for ev_key in [k for k in self._evidence_seen if k[2] < horizon]:
            del self._evidence_seen[ev_key]
        self._emit(ScheduleTimer(round=new_round, at_ms=self._now + self.timeout_ms()))
        if self.leader(new_round) == self.me:
            self._try_build()

    def timeout_ms(self) -> int:
        """This round's timeout: base, doubled per round since the last QC, capped."""
        failed = self.round - self.high_qc.round - 1
        return round_timeout_ms(self.config.base_timeout_ms, self.config.max_timeout_ms, failed)

    def _on_timer(self, round_: int) -> None:
        if round_ != self.round:
            return
        for block_id in list(self._wanted):
            self._emit(FetchBlock(block_id=block_id))
        if self.leader(self.round) == self.me and self._build is None:
            self._try_build()
        self._local_timeout()
        self._emit(ScheduleTimer(round=round_, at_ms=self._now + self.timeout_ms()))

    def _local_timeout(self) -> None:
        before = self.rules.data
        timeout = self.rules.sign_timeout(self.round, self.high_qc, self.high_tc)
        if timeout is None:
            return
        self._timed_out = True
        self._persist_if_changed(before)
        self._send_all(timeout)
        self._collect_timeout(timeout)

    # ----------------------------------------------------------------------------------------
    # Certificates.

    def _observe_qc(self, qc: QuorumCert) -> None:
        """Take in a verified QC: raise high_qc, remember it, commit if the two-chain rule holds."""
        if qc.round > self.high_qc.round:
            self.high_qc = qc
        if not self.tree.record_cert(qc):
            return
        if self.tree.has(qc.block_id):
            self._try_commit(qc)
        else:
            self._want(qc.block_id)

    def _observe_tc(self, tc: TimeoutCert) -> None:
        if self.high_tc is None or tc.round > self.high_tc.round:
            self.high_tc = tc
        self._observe_qc(tc.high_qc)

    def _try_commit(self, qc: QuorumCert) -> None:
        if self._restoring:
            return  # commits found while restoring are emitted on Start
        child = self.tree.get(qc.block_id)
        if child is None:
            return
        parent = self.tree.get(child.parent_id)
        if parent is None or child.round != parent.round + 1:
            return
        if parent.height <= self.tree.root.height:
            return
        blocks = tuple(self.tree.path_from_root(parent))
        invariant(blocks[0].parent_id == self.tree.root.id, "commit must extend the last commit")
        self._emit(Commit(blocks=blocks, commit_qc=qc, child=child))
        self.tree.set_root(parent, child.justify)
        for block in blocks:
            self.election.record(block)

    # ----------------------------------------------------------------------------------------
    # Blocks: proposals, building, validation, fetching.

    def _on_proposal(self, block: BlockMeta, signature: bytes) -> None:
        if not self._proposal_well_formed(block):
            return
        msg = proposal_bytes(self.config.chain_id, block.id, block.round, block.height,
                             block.proposer)
        if not self._verify(block.proposer, msg, signature):
            return
        # The certificates prove themselves, whoever relays them (as in a SyncInfo): take them
        # in before judging the proposer, so that a commit learnt from them counts towards the
        # leader of this very round. Nothing about the block itself is trusted yet.
        tc = block.timeout_cert
        certs_ok = self.certs.qc_ok(block.justify) and (tc is None or self.certs.tc_ok(tc))
        if certs_ok:
            self._observe_qc(block.justify)
            if tc is not None:
                self._observe_tc(tc)
            self._advance_round()
        if block.proposer != self.leader(block.round):
            return
        self._note_proposal(block, signature)
        if not certs_ok:
            return
        self._insert_block(block)
        if block.round < self.round:
            self._maybe_sync(block.proposer)
            return
        if block.round == self.round and self._proposal_id is None:
            self._proposal_id = block.id
            self._request_validation()

    def _proposal_well_formed(self, block: BlockMeta) -> bool:
        qc = block.justify
        if not 0 <= block.proposer < self.config.validators:
            return False
        if block.round <= qc.round or block.height != qc.height + 1 or block.parent_id != qc.block_id:
            return False
        tc = block.timeout_cert
        return tc is None or tc.round == block.round - 1

    def _note_proposal(self, block: BlockMeta, signature: bytes) -> None:
        """Remember the first signed proposal per (round, proposer); report a conflicting one."""
        signed = SignedProposal(block_id=block.id, round=block.round, height=block.height,
                                proposer=block.proposer, signature=signature)
        key = (block.round, block.proposer)
        first = self._proposals_seen.get(key)
        if first is None:
            if block.round >= self.round - _PROPOSAL_MEMORY_ROUNDS:
                self._proposals_seen[key] = signed
            return
        if first.block_id != block.id:
            self._report(ProposalEquivocation(first=first, second=signed))

    def _insert_block(self, block: BlockMeta) -> None:
        connected = self.tree.add(block)
        if not connected and self.tree.is_orphan(block) and block.height - 1 > self.tree.root.height:
            self._want(block.parent_id)
        for b in connected:
            self._wanted.pop(b.id, None)
            qc = self.tree.certs.get(b.id)
            if qc is not None:
                self._try_commit(qc)
        if connected:
            if self._proposal_id is not None and not self._validated:
                self._request_validation()
            if self.leader(self.round) == self.me and self._build is None:
                self._try_build()

    def _want(self, block_id: bytes) -> None:
        if self._restoring:
            return  # asked for on Start
        if block_id in self._wanted or self.tree.has(block_id):
            return
        self._wanted[block_id] = None
        self._emit(FetchBlock(block_id=block_id))

    def _on_fetched(self, block: BlockMeta) -> None:
        if block.id not in self._wanted:
            return
        if not self.certs.qc_ok(block.justify) or block.justify.block_id != block.parent_id:
            return
        if block.height != block.justify.height + 1 or block.round <= block.justify.round:
            return
        cert = self.tree.certs.get(block.id)
        if cert is not None and (cert.round, cert.height) != (block.round, block.height):
            return
        del self._wanted[block.id]
        self._observe_qc(block.justify)
        self._insert_block(block)
        self._advance_round()

    def _request_validation(self) -> None:
        block_id = self._proposal_id
        if block_id is None or self._validated:
            return
        block = self.tree.get(block_id)
        if block is None or block.round != self.round:
            return
        self._validated = True
        if block.proposer == self.me and self._build is not None:
            return  # our own block: voted for when it was built
        self._emit(ValidateBlock(block=block))

    def _on_validated(self, block_id: bytes, ok: bool) -> None:
        if not ok or block_id != self._proposal_id:
            return
        block = self.tree.get(block_id)
        if block is None or block.round != self.round:
            return
        before = self.rules.data
        vote = self.rules.sign_vote(block)
        if vote is None:
            return
        self._persist_if_changed(before)
        self._deliver_vote(vote)

    def _try_build(self) -> None:
        if self._build is not None or self._timed_out:
            return
        data = self.rules.data
        if self.round <= data.last_proposed_round or self.round <= data.last_voted_round:
            return
        justify, tc = self.proposal_parent()
        if not self.tree.has(justify.block_id):
            self._want(justify.block_id)
            return
        self._build = BuildBlock(round=self.round, height=justify.height + 1,
                                 parent_id=justify.block_id, justify=justify, timeout_cert=tc)
        self._emit(self._build)

    def _on_built(self, block: BlockMeta) -> None:
        req = self._build
        if req is None or block.round != self.round or self._proposal_id is not None:
            return
        expected = (req.round, req.height, req.parent_id, req.justify, req.timeout_cert, self.me)
        actual = (block.round, block.height, block.parent_id, block.justify, block.timeout_cert,
                  block.proposer)
        if actual != expected:
            return
        before = self.rules.data
        signature = self.rules.sign_proposal(block)
        if signature is None:
            return
        vote = self.rules.sign_vote(block)
        self._persist_if_changed(before)
        self._note_proposal(block, signature)
        self._send_all(Proposal(block=block, signature=signature))
        self._insert_block(block)
        self._proposal_id = block.id
        self._validated = True
        if vote is not None:
            self._deliver_vote(vote)

    # ----------------------------------------------------------------------------------------
    # Votes and timeouts.

    def _deliver_vote(self, vote: Vote) -> None:
        """Votes go to every validator, not only to the next leader: each forms the QC itself,
        so a dead or slow next leader costs its own round only, never the block voted for
        (the leader after it extends that QC), and every node enters the next round and
        commits as soon as the quorum exists."""
        self._collect_vote(vote)
        self._send_all(vote)

    def _on_vote(self, vote: Vote) -> None:
        if not 0 <= vote.voter < self.config.validators or vote.voter == self.me:
            return
        if vote.round <= self.high_qc.round:
            if vote.round + 1 < self.round:
                self._maybe_sync(vote.voter)
            return
        if vote.round > self.round + self.config.max_future_rounds:
            return
        msg = self._vote_msg(vote)
        if not self._verify(vote.voter, msg, vote.signature):
            return
        self._collect_vote(vote)
        if vote.round > self.round:
            self._maybe_sync(vote.voter)

    def _vote_msg(self, vote: Vote) -> bytes:
        return vote_bytes(self.config.chain_id, vote.block_id, vote.round, vote.height)

    def _collect_vote(self, vote: Vote) -> None:
        outcome = self.votes.add(vote)
        if outcome.evidence is not None:
            self._report(outcome.evidence)
        if outcome.qc is not None:
            self._observe_qc(outcome.qc)
            self._advance_round()

    def _on_timeout(self, timeout: TimeoutVote) -> None:
        if not 0 <= timeout.voter < self.config.validators or timeout.voter == self.me:
            return
        if timeout.high_qc.round >= timeout.round:
            return
        if timeout.round > self.round + self.config.max_future_rounds:
            return
        msg = timeout_bytes(self.config.chain_id, timeout.round, timeout.high_qc.round)
        if not self._verify(timeout.voter, msg, timeout.signature):
            return
        if not self.certs.qc_ok(timeout.high_qc):
            return
        self._observe_qc(timeout.high_qc)
        self._advance_round()
        if timeout.round < self.round:
            self._maybe_sync(timeout.voter)
            return
        self._collect_timeout(timeout)
        if timeout.round > self.round:
            self._maybe_sync(timeout.voter)

    def _collect_timeout(self, timeout: TimeoutVote) -> None:
        tc = self.timeouts.add(timeout)
        if tc is not None:
            self._observe_tc(tc)
            self._advance_round()
            return
        joiners = self.config.max_faulty + 1
        if not self._timed_out and self.timeouts.count(self.round) >= joiners:
            self._local_timeout()  # f+1 gave up: at least one honest did, so join them

    # ----------------------------------------------------------------------------------------
    # Sync.

    def _on_sync(self, sync: SyncInfo, sender: int) -> None:
        if not 0 <= sender < self.config.validators or sender == self.me:
            return
        if not self.certs.qc_ok(sync.high_qc):
            return
        if sync.high_tc is not None and not self.certs.tc_ok(sync.high_tc):
            return
        self._observe_qc(sync.high_qc)
        if sync.high_tc is not None:
            self._observe_tc(sync.high_tc)
        self._advance_round()
        their_tc = sync.high_tc.round if sync.high_tc is not None else 0
        if max(sync.high_qc.round, their_tc) + 1 < self.round:
            self._maybe_sync(sender)

    def _maybe_sync(self, peer: int) -> None:
        """Send our certificates to ``peer`` (a lagging or leading peer), at most once a cooldown."""
        if peer == self.me:
            return
        last = self._last_sync_ms.get(peer)
        if last is not None and self._now - last < self.config.sync_cooldown_ms:
            return
        self._last_sync_ms[peer] = self._now
        self._emit(SendTo(validator=peer, msg=self.sync_info()))

    # ----------------------------------------------------------------------------------------
    # Output helpers.

    def _emit(self, effect: Effect) -> None:
        self._effects.append(effect)

    def _persist_if_changed(self, before: SafetyData) -> None:
        if self.rules.data != before:
            self._emit(PersistSafety(data=self.rules.data))

    def _send_all(self, msg: Proposal | TimeoutVote | Vote) -> None:
        if self.config.validators > 1:
            self._emit(Broadcast(msg=msg))

    def _report(self, evidence: Evidence) -> None:
        kind = "proposal" if isinstance(evidence, ProposalEquivocation) else "vote"
        key = (kind, evidence.offender, evidence.round)
        if key in self._evidence_seen:
            return
        self._evidence_seen[key] = None
        self._emit(EvidenceFound(evidence=evidence))
