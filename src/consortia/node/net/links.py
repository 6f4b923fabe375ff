"""What every part of the peer network shares: the node, the frame transport, the driver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from consortia.invariant import InvariantViolation, invariant
from consortia.node.wire import WireMsg, encode_wire

if TYPE_CHECKING:
    from consortia.node.chain import Chain
    from consortia.node.consensus_driver import ConsensusDriver
    from consortia.node.node import Node


class FrameTransport(Protocol):
    """Authenticated frames to and from the other validators (``p2p/transport.PeerTransport``)."""

    def send(self, peer: int, payload: bytes) -> None: ...

    def broadcast(self, payload: bytes) -> None: ...

    def connected_peers(self) -> list[int]: ...


class Links:
    """The node, and the frame transport and driver once ``PeerNetwork.attach`` set them."""

    def __init__(self, node: Node, frames: FrameTransport | None = None) -> None:
        self.node = node
        self.frames = frames
        self.driver: ConsensusDriver | None = None

    @property
    def chain(self) -> Chain:
        return self.node.chain

    def send(self, peer: int, msg: WireMsg) -> None:
        """Send to one peer (nothing while no transport is attached)."""
        if self.frames is not None:
            self.frames.send(peer, encode_wire(msg))

    def broadcast(self, msg: WireMsg) -> None:
        if self.frames is not None:
            self.frames.broadcast(encode_wire(msg))

    def reply(self, peer: int, msg: WireMsg) -> None:
        """Answer a peer's request: only ever called with a transport attached."""
        invariant(self.frames is not None, "network not attached")
        self.send(peer, msg)

    def attached_driver(self) -> ConsensusDriver:
        if self.driver is None:
            raise InvariantViolation("network not attached")
        return self.driver
