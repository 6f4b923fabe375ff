"""Leader reputation: round-robin while everyone is active, a dead validator (almost) never leads,
same history same leaders (restarts included), and the core learns commits from a proposal's
certificates before it judges the proposer."""

from __future__ import annotations

import hashlib
from collections import Counter

from consortia.codec import encode
from consortia.consensus import (
    BlockMeta,
    ConsensusCore,
    CoreConfig,
    ProposalReceived,
    SafetyData,
    Start,
    ValidateBlock,
    genesis_qc,
    proposal_bytes,
)
from consortia.consensus.effects import Commit
from consortia.consensus.leader_election import (
    INACTIVE_WEIGHT,
    LAG_ROUNDS,
    LeaderElection,
    history_needed,
    weighted_draw,
    window_blocks,
)
from consortia.sim.keys import SimKeys
from consortia.types.consensus import QuorumCert, TimeoutCert, timeout_bytes, vote_bytes

GEN = hashlib.sha256(b"test-genesis").digest()
CHAIN = "test-chain"


def chain(
    length: int,
    proposer: dict[int, int] | None = None,
    signers: list[int] | None = None,
    n: int = 4,
) -> list[BlockMeta]:
    """Blocks of rounds 1..length, one per round; proposers round-robin unless overridden, every
    QC signed by ``signers`` (default: all but the parent's proposer, as a leader collects)."""
    blocks: list[BlockMeta] = []
    justify = genesis_qc(GEN)
    for r in range(1, length + 1):
        who = (proposer or {}).get(r, r % n)
        block_id = hashlib.sha256(encode([r, justify.block_id, who])).digest()
        block = BlockMeta(id=block_id, round=r, height=r, parent_id=justify.block_id,
                          justify=justify, proposer=who)
        blocks.append(block)
        qc_signers = signers if signers is not None else sorted(set(range(n)) - {who})[:3]
        justify = QuorumCert(block_id=block.id, round=r, height=r, signers=qc_signers,
                             signatures=[b""] * len(qc_signers))
    return blocks


def election(blocks: list[BlockMeta], n: int = 4) -> LeaderElection:
    le = LeaderElection(n)
    for b in blocks:
        le.record(b)
    return le


def test_round_robin_while_everyone_is_active_or_the_window_is_not_full() -> None:
    healthy = election(chain(200))
    assert [healthy.leader(r) for r in range(1, 230)] == [r % 4 for r in range(1, 230)]
    young = election(chain(window_blocks(4) - 1, proposer={r: 0 for r in range(1, 20)},
                           signers=[0, 1, 2]))
    assert [young.leader(r) for r in range(1, 60)] == [r % 4 for r in range(1, 60)]


def test_a_dead_validator_almost_never_leads_and_the_others_share_the_rounds() -> None:
    rounds = 300
    proposers = {r: [0, 1, 2][r % 3] for r in range(1, rounds + 1)}
    le = election(chain(rounds, proposer=proposers, signers=[0, 1, 2]))
    active = le.active(rounds + LAG_ROUNDS)
    assert active == [True, True, True, False]
    counts = Counter(le.leader(r) for r in range(rounds + LAG_ROUNDS, rounds + LAG_ROUNDS + 3000))
    assert counts[3] < 3000 * 3 * INACTIVE_WEIGHT // 100  # ~1 / 301 of the rounds
    assert all(800 < counts[v] < 1200 for v in (0, 1, 2))


def test_only_blocks_at_least_lag_rounds_old_count() -> None:
    mixed = chain(60, proposer={r: [0, 1, 2][r % 3] for r in range(1, 61)}, signers=[0, 1, 2])
    le = election(mixed)
    assert le.active(60 + LAG_ROUNDS) == [True, True, True, False]
    # a block of round 60 + LAG - 1 or later cannot change the leader of round 60 + LAG
    late = BlockMeta(id=b"late", round=60 + LAG_ROUNDS, height=61, parent_id=mixed[-1].id,
                     justify=QuorumCert(block_id=mixed[-1].id, round=60, height=60,
                                        signers=[1, 2, 3], signatures=[b"", b"", b""]),
                     proposer=3)
    before = le.leader(60 + LAG_ROUNDS)
    le.record(late)
    assert le.leader(60 + LAG_ROUNDS) == before
    assert le.active(60 + 2 * LAG_ROUNDS) == [True, True, True, True]


def test_a_restarted_node_elects_like_a_node_that_never_stopped() -> None:
    proposers = {r: [0, 1, 2][r % 3] for r in range(1, 151)}
    blocks = chain(150, proposer=proposers, signers=[0, 1, 2])
    live = election(blocks)
    restarted = LeaderElection(4, blocks[-history_needed(4):])
    assert len(live.history) == history_needed(4)
    for r in range(blocks[-1].round + 2, blocks[-1].round + 200):
        assert restarted.leader(r) == live.leader(r)
    # a gap in what the caller passes: only the part linked to the newest block is kept
    broken = blocks[-40:-30] + blocks[-20:]
    assert LeaderElection(4, broken).history == tuple(blocks[-20:])


def test_certificates_from_before_the_history_are_not_read() -> None:
    # An epoch's first block carries the previous set's QC: its parent is not in the history,
    # so those signer indices must not make anyone active.
    blocks = chain(60, proposer={r: [0, 1, 2][r % 3] for r in range(1, 61)}, signers=[0, 1, 2])
    first = blocks[60 - window_blocks(4)]
    old_qc = QuorumCert(block_id=first.parent_id, round=first.round - 1, height=first.height - 1,
                        signers=[1, 2, 3], signatures=[b"", b"", b""])
    epoch_start = BlockMeta(id=first.id, round=first.round, height=first.height,
                            parent_id=first.parent_id, justify=old_qc, proposer=first.proposer)
    history = [epoch_start, *blocks[60 - window_blocks(4) + 1:]]
    le = LeaderElection(4, history)
    assert le.active(60 + LAG_ROUNDS) == [True, True, True, False]


def test_the_draw_is_defined_for_every_wire_round() -> None:
    weights = [100, 100, 100, 1]
    for r in (0, 1, 2**63 - 1, 2**64 - 1, -5, 10**60):
        assert 0 <= weighted_draw(r, weights) < 4
    assert weighted_draw(12345, weights) == weighted_draw(12345, weights)


# ---------------------------------------------------------------------------------------------
# The core: a commit learnt from a proposal's certificates decides that proposal's leader.


def _qc(keys: SimKeys, block: BlockMeta, signers: list[int]) -> QuorumCert:
    msg = vote_bytes(CHAIN, block.id, block.round, block.height)
    return QuorumCert(block_id=block.id, round=block.round, height=block.height, signers=signers,
                      signatures=[keys.signer(s)(msg) for s in signers])


def _tc(keys: SimKeys, round_: int, high_qc: QuorumCert, signers: list[int]) -> TimeoutCert:
    msg = timeout_bytes(CHAIN, round_, high_qc.round)
    return TimeoutCert(round=round_, high_qc=high_qc, signers=signers,
                       high_qc_rounds=[high_qc.round] * len(signers),
                       signatures=[keys.signer(s)(msg) for s in signers])


def _block(keys: SimKeys, round_: int, justify: QuorumCert, proposer: int,
           tc: TimeoutCert | None = None) -> BlockMeta:
    block_id = hashlib.sha256(encode([round_, justify.block_id, proposer])).digest()
    return BlockMeta(id=block_id, round=round_, height=justify.height + 1,
                     parent_id=justify.block_id, justify=justify, proposer=proposer,
                     timeout_cert=tc)


def test_a_proposal_whose_certificates_change_its_leader_is_accepted() -> None:
    keys = SimKeys(4)
    w = window_blocks(4)
    # committed: w blocks; only the first is by validator 3, and 3 signs no QC
    history: list[BlockMeta] = []
    justify = genesis_qc(GEN)
    for r in range(1, w + 1):
        block = _block(keys, r, justify, 3 if r == 1 else [0, 1, 2][r % 3])
        history.append(block)
        justify = _qc(keys, block, [0, 1, 2])
    root, root_qc = history[-1], justify
    b = _block(keys, w + 1, root_qc, 0)  # kept but not yet known to be committed
    b_child = _block(keys, w + 2, _qc(keys, b, [0, 1, 2]), 1)
    child_qc = _qc(keys, b_child, [0, 1, 2])  # commits b: the node has not seen it

    before, after = LeaderElection(4, history), LeaderElection(4, [*history, b])
    r = next(r for r in range(b.round + LAG_ROUNDS, b.round + LAG_ROUNDS + 100)
             if before.leader(r) != after.leader(r))
    proposal = _block(keys, r, child_qc, after.leader(r), _tc(keys, r - 1, child_qc, [0, 1, 2]))

    me = next(v for v in range(4) if v != proposal.proposer)
    config = CoreConfig(chain_id=CHAIN, validators=4, genesis_id=GEN)
    core = ConsensusCore(config, me, keys.signer(me), keys.verify, SafetyData(), root, root_qc,
                         blocks=[b, b_child], history=history)
    core.step(Start(now_ms=0))
    assert core.leader(r) == before.leader(r) != proposal.proposer
    signature = keys.signer(proposal.proposer)(
        proposal_bytes(CHAIN, proposal.id, proposal.round, proposal.height, proposal.proposer))
    effects = core.step(ProposalReceived(block=proposal, signature=signature, now_ms=1))
    commits = [e for e in effects if isinstance(e, Commit)]
    assert [blk.id for c in commits for blk in c.blocks] == [b.id]
    assert ValidateBlock(block=proposal) in effects
    assert core.leader(r) == proposal.proposer

    # the same proposal with a bad signature changes nothing, certificates included
    fresh = ConsensusCore(config, me, keys.signer(me), keys.verify, SafetyData(), root, root_qc,
                          blocks=[b, b_child], history=history)
    fresh.step(Start(now_ms=0))
    assert fresh.step(ProposalReceived(block=proposal, signature=b"\x00" * 32, now_ms=1)) == []
    assert fresh.committed.id == root.id


def test_history_that_does_not_end_at_the_root_is_ignored() -> None:
    keys = SimKeys(4)
    blocks = chain(60, proposer={r: [0, 1, 2][r % 3] for r in range(1, 61)}, signers=[0, 1, 2])
    config = CoreConfig(chain_id=CHAIN, validators=4, genesis_id=GEN)
    root = blocks[-1]
    root_qc = QuorumCert(block_id=root.id, round=root.round, height=root.height, signers=[],
                         signatures=[])
    good = ConsensusCore(config, 0, keys.signer(0), keys.verify, SafetyData(), root, root_qc,
                         history=blocks)
    stale = ConsensusCore(config, 0, keys.signer(0), keys.verify, SafetyData(), root, root_qc,
                          history=blocks[:-1])
    assert good.election.active(80) == [True, True, True, False]
    assert stale.election.history == ()
    assert [stale.leader(r) for r in range(61, 90)] == [r % 4 for r in range(61, 90)]
