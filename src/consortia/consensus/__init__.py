"""The BFT consensus core (two-chain HotStuff, as in Jolteon / DiemBFT v4): pure and sans-I/O.

Build a :class:`ConsensusCore`, feed it events, perform the effects it returns in order.
"""

from consortia.consensus.block_meta import BlockMeta, genesis_block, genesis_qc
from consortia.consensus.config import CoreConfig
from consortia.consensus.core import ConsensusCore
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
    event_for_message,
)
from consortia.consensus.evidence import (
    Evidence,
    ProposalEquivocation,
    SignedProposal,
    VoteEquivocation,
    verify_evidence,
)
from consortia.consensus.leader_election import LeaderElection, history_needed
from consortia.consensus.messages import Message, Proposal, SyncInfo, proposal_bytes
from consortia.consensus.safety_rules import SafetyData, SafetyRules

__all__ = [
    "BlockBuilt",
    "BlockFetched",
    "BlockMeta",
    "BlockValidated",
    "Broadcast",
    "BuildBlock",
    "Commit",
    "ConsensusCore",
    "CoreConfig",
    "Effect",
    "Event",
    "Evidence",
    "EvidenceFound",
    "FetchBlock",
    "LeaderElection",
    "Message",
    "PersistSafety",
    "Proposal",
    "ProposalEquivocation",
    "ProposalReceived",
    "SafetyData",
    "SafetyRules",
    "ScheduleTimer",
    "SendTo",
    "SignedProposal",
    "Start",
    "SyncInfo",
    "SyncReceived",
    "TimeoutReceived",
    "TimerFired",
    "ValidateBlock",
    "VoteEquivocation",
    "VoteReceived",
    "event_for_message",
    "genesis_block",
    "genesis_qc",
    "history_needed",
    "proposal_bytes",
    "verify_evidence",
]
