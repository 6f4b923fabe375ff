"""The ``governance`` system contract: the committee of organisations votes on proposals.

**Committee: one vote per organisation.** Every active admin of an active organisation may
propose and vote, but an organisation's vote is cast once, by whichever of its admins votes
first (a second admin of the same organisation gets ``duplicate_vote``). This keeps an
organisation's weight independent of how many admin keys it holds.

**Threshold.** When a proposal is made, ``electorate`` = active organisations and ``required`` =
``ceil(electorate * num / den)`` (``gov.threshold_num/den``, default 2/3) are fixed on it. The
proposer's organisation approves by proposing. The vote that reaches ``required`` approvals
executes the proposal in the same transaction (see :mod:`.gov_actions`); once rejections exceed
``electorate - required`` the proposal is closed as ``rejected``. A vote at a height above
``deadline_height`` is refused (``proposal_expired``); an open proposal past its deadline shows as
``expired`` in :func:`proposal_status`.

Methods: ``propose [kind: str, payload: bytes, deadline_height: int]`` and
``vote [proposal_id: int, approve: bool]``.
"""

from __future__ import annotations

from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.directory import active_identity, orgs
from consortia.contracts.permissioned.errors import (
    DuplicateVote,
    InvalidProposal,
    NotCommitteeMember,
    ProposalClosed,
    ProposalExpired,
    UnknownProposal,
)
from consortia.contracts.permissioned.gov_actions import KINDS, prepare
from consortia.contracts.permissioned.limits import MAX_PAYLOAD
from consortia.contracts.permissioned.params import read_gov, required_votes
from consortia.contracts.permissioned.records import ADMIN, Identity, Proposal, Vote
from consortia.contracts.permissioned.store import StateGet, decode_args, next_id, read, read_int, write
from consortia.errors import InvalidCall
from consortia.execution.context import CallContext

NAME = "governance"
PROPOSE = "propose"
VOTE = "vote"
OPEN = "open"
EXECUTED = "executed"
REJECTED = "rejected"
FAILED = "failed"
EXPIRED = "expired"


def encode_propose_args(kind: str, payload: bytes, deadline_height: int) -> bytes:
    return encode([kind, payload, deadline_height])


def encode_vote_args(proposal_id: int, approve: bool) -> bytes:
    return encode([proposal_id, approve])


class GovernanceContract:
    name = NAME

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        if method == PROPOSE:
            kind, payload, deadline = decode_args(
                args, tuple[str, bytes, int], "[kind, payload, deadline_height]"
            )
            propose(ctx, kind, payload, deadline)
        elif method == VOTE:
            proposal_id, approve = decode_args(args, tuple[int, bool], "[proposal_id, approve]")
            vote(ctx, proposal_id, approve)
        else:
            raise InvalidCall(f"contract {NAME!r} has no method {method!r}; methods: {[PROPOSE, VOTE]}")


def _committee_member(state_get: StateGet, address: bytes) -> Identity:
    ident, org = active_identity(state_get, address, "caller")
    if ident.role != ADMIN:
        raise NotCommitteeMember(
            f"caller 0x{address.hex()} is a {ident.role} of {org.name!r}; only organisation admins "
            "sit on the governance committee",
            role=ident.role,
        )
    return ident


def propose(ctx: CallContext, kind: str, payload: bytes, deadline: int) -> int:
    state, height = ctx.state, ctx.block.height
    proposer = _committee_member(state.get, ctx.sender)
    if kind not in KINDS:
        raise InvalidProposal(f"unknown proposal kind {kind!r}; kinds: {list(KINDS)}")
    if len(payload) > MAX_PAYLOAD:
        raise InvalidProposal(f"proposal payload is larger than {MAX_PAYLOAD} bytes")
    gov = read_gov(state.get)
    if not height <= deadline <= height + gov.max_voting_blocks:
        raise InvalidProposal(
            f"deadline_height must be between {height} and {height + gov.max_voting_blocks}, got {deadline}"
        )
    prepare(state.get, kind, payload, ctx.block)
    electorate = len(orgs(state.get, active_only=True))
    proposal_id = next_id(state, keys.PROPOSAL_NEXT)
    first = Vote(proposer.org, ctx.sender, True, height)
    proposal = Proposal(
        proposal_id, kind, payload, ctx.sender, proposer.org, height, deadline,
        electorate, required_votes(electorate, gov), [first], OPEN,
    )  # fmt: skip
    ctx.emit(NAME, "Proposed", encode([proposal_id, kind, ctx.sender, proposer.org, deadline]))
    _tally(ctx, proposal)
    return proposal_id


def vote(ctx: CallContext, proposal_id: int, approve: bool) -> None:
    state, height = ctx.state, ctx.block.height
    voter = _committee_member(state.get, ctx.sender)
    current = proposal(state.get, proposal_id)
    if current is None:
        raise UnknownProposal(f"no proposal with id {proposal_id}", proposal_id=proposal_id)
    if current.status != OPEN:
        raise ProposalClosed(f"proposal {proposal_id} is already {current.status}", status=current.status)
    if height > current.deadline_height:
        raise ProposalExpired(
            f"proposal {proposal_id} expired at height {current.deadline_height}; now at {height}",
            deadline_height=current.deadline_height,
        )
    if any(v.org == voter.org for v in current.votes):
        raise DuplicateVote(f"organisation {voter.org!r} has already voted on proposal {proposal_id}")
    ballot = Vote(voter.org, ctx.sender, approve, height)
    ctx.emit(NAME, "Voted", encode([proposal_id, voter.org, ctx.sender, approve]))
    _tally(ctx, replace(current, votes=[*current.votes, ballot]))


def _tally(ctx: CallContext, current: Proposal) -> None:
    state, height = ctx.state, ctx.block.height
    approvals = sum(1 for v in current.votes if v.approve)
    rejections = len(current.votes) - approvals
    if approvals >= current.required:
        try:
            outcome = prepare(state.get, current.kind, current.payload, ctx.block)(state, height, current.id)
            status = EXECUTED
        except InvalidProposal as exc:
            outcome, status = exc.message, FAILED
        current = replace(current, status=status, outcome=outcome, closed_height=height)
    elif rejections > current.electorate - current.required:
        current = replace(current, status=REJECTED, outcome="rejected by the committee", closed_height=height)
    write(state, keys.proposal(current.id), current)
    if current.status != OPEN:
        ctx.emit(NAME, "Closed", encode([current.id, current.kind, current.status, current.outcome]))


# --- queries --------------------------------------------------------------------------------------


def proposal(state_get: StateGet, proposal_id: int) -> Proposal | None:
    if not 1 <= proposal_id < 2**64:
        return None
    return read(state_get, keys.proposal(proposal_id), Proposal)


def proposals(state_get: StateGet, since_id: int = 0, limit: int = 100) -> list[Proposal]:
    """Proposals with id > ``since_id`` in id order, at most ``limit``."""
    last = read_int(state_get, keys.PROPOSAL_NEXT, 1) - 1
    out: list[Proposal] = []
    for proposal_id in range(max(since_id, 0) + 1, min(last, since_id + limit) + 1):
        record = proposal(state_get, proposal_id)
        if record is not None:
            out.append(record)
    return out


def proposal_status(record: Proposal, height: int) -> str:
    """The stored status, or ``expired`` for an open proposal past its deadline at ``height``."""
    if record.status == OPEN and height > record.deadline_height:
        return EXPIRED
    return record.status
