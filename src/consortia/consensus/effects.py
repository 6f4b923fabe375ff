"""Outputs of the consensus core: what the node must do, in list order.

Order matters: a :class:`PersistSafety` must be durably written (fsync) before the node performs
any effect that follows it in the same list, because those effects (a vote, a timeout, a
proposal) are only safe once the new safety data survives a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.evidence import Evidence
from consortia.consensus.messages import Message
from consortia.consensus.safety_rules import SafetyData
from consortia.types.consensus import QuorumCert, TimeoutCert


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``msg`` to every other validator (the core already handled its own copy)."""

    msg: Message


@dataclass(frozen=True, slots=True)
class SendTo:
    """Send ``msg`` to one other validator (never to this node itself)."""

    validator: int
    msg: Message


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Feed ``TimerFired(round, now)`` to the core at (or after) ``at_ms``.

    Earlier timers need not be cancelled: the core ignores a timer for a round it has left.
    """

    round: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class PersistSafety:
    """Write ``data`` durably (fsync) BEFORE performing any later effect of the same list.

    On restart, construct the core with the last data written.
    """

    data: SafetyData


@dataclass(frozen=True, slots=True)
class BuildBlock:
    """This node leads ``round``: assemble a block on ``parent_id`` and answer with BlockBuilt.

    The block must carry exactly these fields plus ``proposer`` = this validator. The node may take
    its time (wait for transactions, a minimum block interval), but should answer well within the
    round's timeout.
    """

    round: int
    height: int
    parent_id: bytes
    justify: QuorumCert
    timeout_cert: TimeoutCert | None


@dataclass(frozen=True, slots=True)
class ValidateBlock:
    """Check ``block``'s payload (execute it on its parent's state); answer with BlockValidated.

    The parent is always a block the core already knows (validated, built or fetched). The node
    should keep the block: once the core votes for it, peers may ask for it.
    """

    block: BlockMeta


@dataclass(frozen=True, slots=True)
class Commit:
    """``blocks`` (in height order, extending the previous commit) are final.

    Proof for anyone: ``commit_qc`` certifies ``child``; ``child.parent_id == blocks[-1].id`` and
    ``child.round == blocks[-1].round + 1`` (the two-chain rule); ``child.justify`` certifies
    ``blocks[-1]``. Keep ``blocks[-1]`` and ``child.justify`` to restart the core from
    (``root`` and ``root_qc``).
    """

    blocks: tuple[BlockMeta, ...]
    commit_qc: QuorumCert
    child: BlockMeta


@dataclass(frozen=True, slots=True)
class EvidenceFound:
    """Two conflicting signed messages from one validator; check with ``verify_evidence``."""

    evidence: Evidence


@dataclass(frozen=True, slots=True)
class FetchBlock:
    """A certified block the core does not have: get it from peers and feed ``BlockFetched``.

    The core asks again on each round timer while it still needs the block.
    """

    block_id: bytes


Effect = (
    Broadcast
    | SendTo
    | ScheduleTimer
    | PersistSafety
    | BuildBlock
    | ValidateBlock
    | Commit
    | EvidenceFound
    | FetchBlock
)
