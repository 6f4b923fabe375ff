"""Unit tests of the consensus core, driven by a tiny in-test network with a virtual clock."""

from __future__ import annotations

import hashlib
import heapq
from collections import deque
from dataclasses import dataclass, field

from consortia.codec import encode
from consortia.consensus import (
    BlockBuilt,
    BlockFetched,
    BlockMeta,
    BlockValidated,
    Broadcast,
    BuildBlock,
    Commit,
    ConsensusCore,
    CoreConfig,
    Effect,
    Event,
    EvidenceFound,
    FetchBlock,
    PersistSafety,
    Proposal,
    ProposalEquivocation,
    ProposalReceived,
    SafetyData,
    ScheduleTimer,
    SendTo,
    Start,
    TimerFired,
    ValidateBlock,
    VoteEquivocation,
    VoteReceived,
    event_for_message,
    genesis_block,
    genesis_qc,
    proposal_bytes,
    verify_evidence,
)
from consortia.sim.keys import SimKeys
from consortia.types.consensus import QuorumCert, Vote, vote_bytes

GEN = hashlib.sha256(b"test-genesis").digest()
CHAIN = "test-chain"


def config(n: int) -> CoreConfig:
    return CoreConfig(chain_id=CHAIN, validators=n, genesis_id=GEN, base_timeout_ms=1000,
                      max_timeout_ms=8000)


def new_core(n: int, me: int, keys: SimKeys, safety: SafetyData | None = None) -> ConsensusCore:
    return ConsensusCore(config(n), me, keys.signer(me), keys.verify, safety or SafetyData(),
                         genesis_block(GEN), genesis_qc(GEN))


def make_block(round_: int, justify: QuorumCert, proposer: int, tag: bytes = b"") -> BlockMeta:
    block_id = hashlib.sha256(encode([round_, justify, proposer, tag])).digest()
    return BlockMeta(id=block_id, round=round_, height=justify.height + 1,
                     parent_id=justify.block_id, justify=justify, proposer=proposer)


def sign_proposal(keys: SimKeys, block: BlockMeta) -> bytes:
    msg = proposal_bytes(CHAIN, block.id, block.round, block.height, block.proposer)
    return keys.signer(block.proposer)(msg)


def make_qc(keys: SimKeys, block: BlockMeta, signers: list[int]) -> QuorumCert:
    msg = vote_bytes(CHAIN, block.id, block.round, block.height)
    return QuorumCert(block_id=block.id, round=block.round, height=block.height,
                      signers=signers, signatures=[keys.signer(s)(msg) for s in signers])


@dataclass
class Cluster:
    """n cores on an instant, lossless network; timers fire only when asked to."""

    n: int
    silenced: set[int] = field(default_factory=set)
    drop_proposals: bool = False

    def __post_init__(self) -> None:
        self.keys = SimKeys(self.n)
        self.cores = [new_core(self.n, i, self.keys) for i in range(self.n)]
        self.now = 0
        self.inbox: deque[tuple[int, Event]] = deque()
        self.timers: list[tuple[int, int, int]] = []
        self.timer_log: dict[int, list[tuple[int, int, int]]] = {i: [] for i in range(self.n)}
        self.commits: dict[int, list[BlockMeta]] = {i: [] for i in range(self.n)}
        self.commit_effects: list[Commit] = []
        self.proposals: list[BlockMeta] = []
        self.blocks: dict[bytes, BlockMeta] = {}
        self.steps = 0

    def start(self) -> None:
        for i in range(self.n):
            self.inbox.append((i, Start(now_ms=self.now)))

    def run(self, max_steps: int = 5_000) -> None:
        while self.inbox and self.steps < max_steps:
            node, event = self.inbox.popleft()
            self.steps += 1
            self.perform(node, self.cores[node].step(event))

    def fire_next_timers(self) -> None:
        """Jump to the earliest pending timer and fire every timer due then."""
        if not self.timers:
            return
        self.now = self.timers[0][0]
        while self.timers and self.timers[0][0] == self.now:
            _, node, round_ = heapq.heappop(self.timers)
            self.inbox.append((node, TimerFired(round=round_, now_ms=self.now)))
        self.run()

    def send(self, src: int, dst: int, msg: object) -> None:
        if src in self.silenced:
            return
        if self.drop_proposals and isinstance(msg, Proposal):
            return
        self.inbox.append((dst, event_for_message(msg, src, self.now)))  # type: ignore[arg-type]

    def perform(self, node: int, effects: list[Effect]) -> None:
        for e in effects:
            if isinstance(e, Broadcast):
                if isinstance(e.msg, Proposal) and node not in self.silenced:
                    self.proposals.append(e.msg.block)
                for dst in range(self.n):
                    if dst != node:
                        self.send(node, dst, e.msg)
            elif isinstance(e, SendTo):
                assert e.validator != node
                self.send(node, e.validator, e.msg)
            elif isinstance(e, ScheduleTimer):
                heapq.heappush(self.timers, (e.at_ms, node, e.round))
                self.timer_log[node].append((e.round, self.now, e.at_ms))
            elif isinstance(e, BuildBlock):
                block = BlockMeta(
                    id=hashlib.sha256(encode([e.round, e.height, e.parent_id, node])).digest(),
                    round=e.round, height=e.height, parent_id=e.parent_id, justify=e.justify,
                    proposer=node, timeout_cert=e.timeout_cert)
                self.blocks[block.id] = block
                self.inbox.append((node, BlockBuilt(block=block, now_ms=self.now)))
            elif isinstance(e, ValidateBlock):
                self.blocks[e.block.id] = e.block
                self.inbox.append((node, BlockValidated(block_id=e.block.id, ok=True,
                                                        now_ms=self.now)))
            elif isinstance(e, Commit):
                self.commits[node].extend(e.blocks)
                self.commit_effects.append(e)
            elif isinstance(e, FetchBlock) and e.block_id in self.blocks:
                self.inbox.append((node, BlockFetched(block=self.blocks[e.block_id],
                                                      now_ms=self.now)))


# ---------------------------------------------------------------------------------------------


def test_single_validator_commits_on_its_own() -> None:
    cluster = Cluster(1)
    cluster.start()
    cluster.run(max_steps=300)
    chain = cluster.commits[0]
    assert len(chain) >= 20
    assert [b.height for b in chain] == list(range(1, len(chain) + 1))
    assert all(b.proposer == 0 for b in chain)


def test_four_validators_commit_the_same_chain_in_order() -> None:
    cluster = Cluster(4)
    cluster.start()
    cluster.run(max_steps=2_000)
    chains = [[b.id for b in cluster.commits[i]] for i in range(4)]
    shortest = min(len(c) for c in chains)
    assert shortest >= 10
    assert all(c[:shortest] == chains[0][:shortest] for c in chains)
    heights = [b.height for b in cluster.commits[0]]
    assert heights == list(range(1, len(heights) + 1))
    for commit in cluster.commit_effects:  # the two-chain proof that comes with every commit
        last = commit.blocks[-1]
        assert commit.child.parent_id == last.id and commit.child.round == last.round + 1
        assert commit.commit_qc.block_id == commit.child.id
        assert commit.child.justify.block_id == last.id


def test_leader_rotates_round_robin() -> None:
    cluster = Cluster(4)
    cluster.start()
    cluster.run(max_steps=1_000)
    rounds = sorted({b.round for b in cluster.proposals})
    assert rounds[:8] == list(range(1, 9))  # pipelined: one round after another, no gaps
    assert all(b.proposer == b.round % 4 for b in cluster.proposals)


def test_view_change_on_timeout_forms_a_timeout_certificate() -> None:
    cluster = Cluster(4, silenced={1})  # the leader of round 1 is down
    cluster.start()
    cluster.run()
    assert not cluster.proposals
    cluster.fire_next_timers()  # round 1 times out everywhere: a TC for round 1
    cluster.run(max_steps=300)
    with_tc = [b for b in cluster.proposals if b.timeout_cert is not None]
    assert with_tc and with_tc[0].round == 2 and with_tc[0].timeout_cert.round == 1
    assert with_tc[0].justify.round == 0 and with_tc[0].timeout_cert.high_qc.round == 0
    assert len(cluster.commits[0]) >= 1  # progress resumes with honest leaders


def test_timeouts_double_per_failed_round_and_reset_after_progress() -> None:
    cluster = Cluster(4, drop_proposals=True)  # every round fails
    cluster.start()
    cluster.run()
    for _ in range(20):
        if cluster.cores[0].round >= 5:
            break
        cluster.fire_next_timers()
    first: dict[int, int] = {}
    for round_, now, at in cluster.timer_log[0]:
        first.setdefault(round_, at - now)
    assert [first[r] for r in range(1, 6)] == [1000, 2000, 4000, 8000, 8000]
    cluster.drop_proposals = False
    for _ in range(10):
        if cluster.commits[0]:
            break
        cluster.fire_next_timers()
    cluster.run(max_steps=400)
    assert cluster.commits[0], "progress after the network recovers"
    _round, now, at = cluster.timer_log[0][-1]
    assert at - now == 1000  # back to the base timeout once QCs flow again


def test_proposal_equivocation_is_reported_with_verifiable_evidence() -> None:
    keys = SimKeys(4)
    core = new_core(4, 0, keys)
    core.step(Start(now_ms=0))
    qc0 = genesis_qc(GEN)
    a, b = make_block(1, qc0, 1, b"a"), make_block(1, qc0, 1, b"b")
    core.step(ProposalReceived(block=a, signature=sign_proposal(keys, a), now_ms=1))
    effects = core.step(ProposalReceived(block=b, signature=sign_proposal(keys, b), now_ms=2))
    evidence = [e.evidence for e in effects if isinstance(e, EvidenceFound)]
    assert len(evidence) == 1 and isinstance(evidence[0], ProposalEquivocation)
    assert evidence[0].offender == 1
    assert verify_evidence(evidence[0], CHAIN, keys.verify)
    assert not verify_evidence(evidence[0], "other-chain", keys.verify)


def test_vote_equivocation_is_reported_by_the_collecting_leader() -> None:
    keys = SimKeys(4)
    core = new_core(4, 2, keys)  # leader of round 2 collects the votes of round 1
    core.step(Start(now_ms=0))
    qc0 = genesis_qc(GEN)
    a, b = make_block(1, qc0, 1, b"a"), make_block(1, qc0, 1, b"b")

    def vote(block: BlockMeta) -> Vote:
        sig = keys.signer(3)(vote_bytes(CHAIN, block.id, 1, 1))
        return Vote(block_id=block.id, round=1, height=1, voter=3, signature=sig)

    core.step(VoteReceived(vote=vote(a), now_ms=1))
    effects = core.step(VoteReceived(vote=vote(b), now_ms=2))
    evidence = [e.evidence for e in effects if isinstance(e, EvidenceFound)]
    assert len(evidence) == 1 and isinstance(evidence[0], VoteEquivocation)
    assert verify_evidence(evidence[0], CHAIN, keys.verify)


def _vote_effects(core: ConsensusCore, block: BlockMeta, keys: SimKeys, now: int) -> list[Effect]:
    effects = core.step(ProposalReceived(block=block, signature=sign_proposal(keys, block),
                                         now_ms=now))
    if not any(isinstance(e, ValidateBlock) for e in effects):
        return []
    return core.step(BlockValidated(block_id=block.id, ok=True, now_ms=now))


def test_safety_data_is_persisted_before_the_vote_leaves() -> None:
    keys = SimKeys(4)
    core = new_core(4, 0, keys)
    core.step(Start(now_ms=0))
    block = make_block(1, genesis_qc(GEN), 1)
    effects = _vote_effects(core, block, keys, 5)
    persist_at = next(i for i, e in enumerate(effects) if isinstance(e, PersistSafety))
    vote_at = next(i for i, e in enumerate(effects) if vote_sent(e))
    assert persist_at < vote_at
    persisted = effects[persist_at].data  # type: ignore[attr-defined]
    assert persisted.last_voted_round == 1 and persisted.last_vote is not None
    assert isinstance(effects[vote_at], Broadcast)  # to every validator: any may form the QC


def vote_sent(effect: Effect) -> bool:
    return isinstance(effect, Broadcast | SendTo) and isinstance(effect.msg, Vote)


def votes_sent(effects: list[Effect]) -> list[Vote]:
    return [e.msg for e in effects if vote_sent(e)]  # type: ignore[union-attr]


def test_restarted_core_never_votes_for_a_conflicting_block() -> None:
    keys = SimKeys(4)
    core = new_core(4, 0, keys)
    core.step(Start(now_ms=0))
    qc0 = genesis_qc(GEN)
    first, other = make_block(1, qc0, 1, b"first"), make_block(1, qc0, 1, b"other")
    effects = _vote_effects(core, first, keys, 5)
    persisted = next(e.data for e in effects if isinstance(e, PersistSafety))
    sent_vote = votes_sent(effects)[0]

    on_disk = SafetyData.decode(persisted.encode())
    restarted = new_core(4, 0, keys, safety=on_disk)
    restarted.step(Start(now_ms=10))
    assert not votes_sent(_vote_effects(restarted, other, keys, 11))
    again = new_core(4, 0, keys, safety=on_disk)
    again.step(Start(now_ms=12))
    resent = votes_sent(_vote_effects(again, first, keys, 13))
    assert resent == [sent_vote]  # the very same vote, never a new one

    amnesiac = new_core(4, 0, keys)  # what forgetting the safety data would do
    amnesiac.step(Start(now_ms=14))
    assert votes_sent(_vote_effects(amnesiac, other, keys, 15))


def test_unknown_parent_is_fetched_then_voted_on() -> None:
    keys = SimKeys(4)
    core = new_core(4, 0, keys)
    core.step(Start(now_ms=0))
    parent = make_block(1, genesis_qc(GEN), 1)
    child = make_block(2, make_qc(keys, parent, [1, 2, 3]), 2)
    effects = core.step(ProposalReceived(block=child, signature=sign_proposal(keys, child),
                                         now_ms=1))
    assert FetchBlock(block_id=parent.id) in effects
    assert not any(isinstance(e, ValidateBlock) for e in effects)
    effects = core.step(BlockFetched(block=parent, now_ms=2))
    assert ValidateBlock(block=child) in effects
    effects = core.step(BlockValidated(block_id=child.id, ok=True, now_ms=3))
    assert votes_sent(effects)


def test_invalid_block_gets_no_vote_and_bad_signatures_change_nothing() -> None:
    keys = SimKeys(4)
    core = new_core(4, 0, keys)
    core.step(Start(now_ms=0))
    block = make_block(1, genesis_qc(GEN), 1)
    assert core.step(ProposalReceived(block=block, signature=b"\x00" * 32, now_ms=1)) == []
    wrong_leader = make_block(1, genesis_qc(GEN), 2)
    assert core.step(ProposalReceived(block=wrong_leader,
                                      signature=sign_proposal(keys, wrong_leader),
                                      now_ms=1)) == []
    core.step(ProposalReceived(block=block, signature=sign_proposal(keys, block), now_ms=2))
    assert core.step(BlockValidated(block_id=block.id, ok=False, now_ms=3)) == []
    assert core.safety_data == SafetyData()
