"""State snapshots: for a validator too far behind to replay the blocks it missed.

Serving: our whole committed state at our head, in chunks that fit a frame; the first carries
the certified block the state belongs to and the epoch links to the set that certified it.

Receiving: chunks are accepted only while our request is outstanding, only from the peer we
asked, only for one snapshot (the id and chunk count the first chunk names), at most
``max_chunks`` chunks and ``max_bytes`` state bytes, and only until the request times out;
anything else is refused (counted in ``refused``) and a request that times out or overflows
is dropped with everything received for it. The assembled state is installed only if its
block's certificate verifies against the genesis and the epoch links.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from consortia.errors import ConsortiaError, IntegrityError, StorageError
from consortia.ledger.proofs import verify_certified_header
from consortia.limits import MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_CHUNKS, SNAPSHOT_CHUNK_BYTES
from consortia.node.net.links import Links
from consortia.node.queries import epoch_links
from consortia.node.wire import SnapshotChunk, SnapshotRequest

log = logging.getLogger("consortia.network")

SNAPSHOT_TIMEOUT_S = 20.0
"""A snapshot request not answered in full by then is dropped (catch-up then asks again)."""
ITEM_OVERHEAD_BYTES = 8


def items_bytes(items: list[tuple[bytes, bytes]]) -> int:
    """What a chunk's state entries count against ``max_bytes``."""
    return sum(len(key) + len(value) + ITEM_OVERHEAD_BYTES for key, value in items)


@dataclass
class _Request:
    """Our outstanding snapshot request and what has arrived for it."""

    peer: int
    deadline: float
    snapshot_id: bytes | None = None
    total: int = 0
    parts: dict[int, SnapshotChunk] = field(default_factory=dict)
    size: int = 0


class StateSync:
    def __init__(
        self, links: Links, max_chunks: int = MAX_SNAPSHOT_CHUNKS, max_bytes: int = MAX_SNAPSHOT_BYTES
    ) -> None:
        self.links = links
        self.max_chunks = max_chunks
        self.max_bytes = max_bytes
        self._request: _Request | None = None
        self.refused: dict[str, int] = {}

    @property
    def pending(self) -> bool:
        """A snapshot request is outstanding."""
        return self._request is not None

    # --- serving -----------------------------------------------------------------------------

    def on_request(self, sender: int, msg: SnapshotRequest) -> None:
        """Send our whole committed state at our head, in chunks that fit a frame."""
        chain = self.links.chain
        items, head = chain.store.state_items()
        if head is None:
            return
        committed = chain.store.block(head.height)
        # the first chunk carries the certified block and the epoch links alone (a block may
        # take most of a frame); the state entries follow in chunks of SNAPSHOT_CHUNK_BYTES
        chunks: list[list[tuple[bytes, bytes]]] = [[], []]
        size = 0
        for key, value in items:
            if size + len(key) + len(value) > SNAPSHOT_CHUNK_BYTES and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append((key, value))
            size += len(key) + len(value) + 8
        links = epoch_links(chain, head.height)
        for index, chunk in enumerate(chunks):
            first = index == 0
            msg_out = SnapshotChunk(
                head.block_id, index, len(chunks), committed if first else None, chunk,
                links if first else [],
            )
            self.links.reply(sender, msg_out)
        log.info("sent a snapshot at height %d (%d entries) to validator %d", head.height, len(items), sender)

    # --- receiving ---------------------------------------------------------------------------

    def request(self, peer: int) -> None:
        """Ask ``peer`` for its state (replacing any request still outstanding)."""
        deadline = self.links.node.clock.monotonic() + SNAPSHOT_TIMEOUT_S
        self._request = _Request(peer, deadline)
        self.links.reply(peer, SnapshotRequest())

    def abandon(self) -> None:
        """Drop the outstanding request and everything received for it."""
        self._request = None

    def _refuse(self, sender: int, reason: str, detail: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        log.warning("snapshot chunk from validator %d refused (%s): %s", sender, reason, detail)

    def on_chunk(self, sender: int, chunk: SnapshotChunk) -> None:
        request = self._request
        if request is None:
            self._refuse(sender, "unasked", "no snapshot request is outstanding")
            return
        if sender != request.peer:
            self._refuse(sender, "wrong_peer", f"we asked validator {request.peer}")
            return
        if self.links.node.clock.monotonic() > request.deadline:
            self.abandon()
            self._refuse(sender, "late", "the request timed out; dropped what had arrived")
            return
        if request.snapshot_id is None:
            if chunk.total > self.max_chunks:
                self.abandon()
                self._refuse(sender, "too_many_chunks", f"{chunk.total} chunks, at most {self.max_chunks}")
                return
            request.snapshot_id, request.total = chunk.snapshot_id, chunk.total
        elif chunk.snapshot_id != request.snapshot_id or chunk.total != request.total:
            self._refuse(sender, "other_snapshot", "not the snapshot its first chunk named")
            return
        if chunk.index in request.parts:
            return  # a duplicate
        size = items_bytes(chunk.items)
        if request.size + size > self.max_bytes:
            self.abandon()
            self._refuse(sender, "too_many_bytes", f"more than {self.max_bytes} bytes of state")
            return
        request.parts[chunk.index] = chunk
        request.size += size
        if len(request.parts) < request.total:
            return
        self.abandon()
        self._install(sender, request)

    def _install(self, sender: int, request: _Request) -> None:
        driver = self.links.attached_driver()
        parts = request.parts
        first = parts.get(0)
        if first is None or first.block is None:
            log.warning("incomplete snapshot from validator %d", sender)
            return
        committed = first.block
        items = [kv for i in range(request.total) for kv in parts[i].items]
        try:
            block_id = verify_certified_header(
                committed.block.header, committed.qc, self.links.node.genesis, first.epochs
            )
            if block_id != request.snapshot_id:
                raise IntegrityError("the snapshot names another block than the one it carries")
            self.links.chain.install_snapshot(committed, items)
        except StorageError:
            raise  # our own disk failed: the router halts the node
        except ConsortiaError as exc:
            log.warning("snapshot from validator %d refused: %s", sender, exc.message)
            return
        log.info("installed a snapshot at height %d (%d entries) from validator %d",
                 committed.block.header.height, len(items), sender)
        self.links.node.reload_pool()
        driver.restart_core()
