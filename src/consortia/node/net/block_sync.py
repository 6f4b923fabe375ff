"""Committed and pending blocks between validators: by id for the consensus core (fetch), and
by height for a validator that fell behind (catch-up).

Catch-up starts when a peer shows a certificate more than ``CATCH_UP_GAP`` heights above our
head: within the chain's ``snapshot_gap`` we fetch the committed blocks and, for each, verify
its certificate and re-execute it before committing it; further behind we ask ``StateSync``
for a snapshot first. One catch-up at a time, asked again after ``CATCH_UP_TIMEOUT_S``.
"""

from __future__ import annotations

import logging

from consortia.codec import encode
from consortia.consensus import BlockFetched
from consortia.errors import ConsortiaError, IntegrityError, NotFound, StorageError
from consortia.limits import CATCH_UP_RESPONSE_BYTES, MAX_BLOCKS_PER_RESPONSE
from consortia.node.consensus_driver import block_meta
from consortia.node.net.links import Links
from consortia.node.net.state_sync import StateSync
from consortia.node.wire import (
    BlockRequest,
    BlockResponse,
    HeightRequest,
    HeightResponse,
)
from consortia.types.block import CommittedBlock

log = logging.getLogger("consortia.network")

CATCH_UP_GAP = 2
CATCH_UP_TIMEOUT_S = 20.0


def committed_bytes(committed: CommittedBlock) -> int:
    """What a committed block adds to a catch-up answer: all of it, certificates included (a
    header's timeout certificate alone may be hundreds of kilobytes)."""
    return len(encode(committed))


class BlockSync:
    def __init__(self, links: Links, state_sync: StateSync) -> None:
        self.links = links
        self.state_sync = state_sync
        self._wanted: set[bytes] = set()
        self._by_heights = False
        self._catch_up_since = 0.0
        self.best_peer_height = 0
        """The highest certified height any peer has shown (0 before any did)."""

    # --- blocks by id (for the consensus core) -----------------------------------------------

    def fetch(self, block_id: bytes) -> None:
        self._wanted.add(block_id)
        self.links.broadcast(BlockRequest(block_id))

    def on_block_request(self, sender: int, msg: BlockRequest) -> None:
        """Answer from the driver's pending blocks, else from the committed chain."""
        driver = self.links.attached_driver()
        block = driver.blocks.get(msg.block_id)
        if block is None:
            store = self.links.chain.store
            try:
                block = store.block(store.height_of_block(msg.block_id)).block
            except NotFound:
                return
        self.links.reply(sender, BlockResponse(block))

    def on_block_response(self, sender: int, msg: BlockResponse) -> None:
        driver = self.links.attached_driver()
        now = self.links.node.clock.now_ms()
        block_id = driver.receive_block(msg.block)
        if block_id in self._wanted:
            self._wanted.discard(block_id)
            driver.push_peer(BlockFetched(block_meta(block_id, msg.block.header), now))

    # --- catch-up by height ------------------------------------------------------------------

    @property
    def catching_up(self) -> bool:
        return self._by_heights or self.state_sync.pending

    def blocks_behind(self) -> int:
        """How far our head is below the best certified height a peer has shown (0 when level)."""
        return max(0, self.best_peer_height - self.links.chain.head.height)

    def note_height(self, sender: int, certified_height: int) -> None:
        """A peer knows a certified block well above our head: catch up.

        Far behind (more than the chain's ``snapshot_gap``): install a state snapshot first;
        otherwise fetch and re-execute the committed blocks.
        """
        chain = self.links.chain
        clock = self.links.node.clock
        self.best_peer_height = max(self.best_peer_height, certified_height)
        gap = certified_height - chain.head.height
        if self.catching_up and clock.monotonic() - self._catch_up_since > CATCH_UP_TIMEOUT_S:
            # the peer never answered in full: drop what arrived and ask again
            self._by_heights = False
            self.state_sync.abandon()
        if gap <= CATCH_UP_GAP or self.catching_up:
            return
        self._catch_up_since = clock.monotonic()
        log.info("validator %d has certified height %d, %d above ours", sender, certified_height, gap)
        if gap > chain.params.snapshot_gap:
            self.state_sync.request(sender)
        else:
            self.request_heights(sender)

    def request_heights(self, peer: int) -> None:
        self._by_heights = True
        self.links.reply(peer, HeightRequest(self.links.chain.head.height + 1, MAX_BLOCKS_PER_RESPONSE))

    def on_height_request(self, sender: int, request: HeightRequest) -> None:
        """Committed blocks from ``from_height`` on: as many as fit ``CATCH_UP_RESPONSE_BYTES``
        encoded (always at least one: one block fits a frame), at most ``request.limit``."""
        chain = self.links.chain
        head = chain.head.height
        last = min(head, request.from_height + min(request.limit, MAX_BLOCKS_PER_RESPONSE) - 1)
        blocks: list[CommittedBlock] = []
        size = 0
        for height in range(request.from_height, last + 1):
            try:
                committed = chain.store.block(height)
            except NotFound:  # a gap below our own snapshot: we never had those blocks
                break
            size += committed_bytes(committed)
            if blocks and size > CATCH_UP_RESPONSE_BYTES:
                break  # the rest in the next answer: every answer fits one frame
            blocks.append(committed)
        self.links.reply(sender, HeightResponse(blocks, head))

    def on_height_response(self, sender: int, response: HeightResponse) -> None:
        """Verify each block's certificate and re-execute it before committing it."""
        driver = self.links.attached_driver()
        chain = self.links.chain
        if response.head_height - chain.head.height > chain.params.snapshot_gap:
            self._by_heights = False
            self.state_sync.request(sender)  # further behind than replaying is worth
            return
        applied = 0
        for committed in response.blocks:
            header = committed.block.header
            if header.height != chain.head.height + 1:
                continue
            try:
                block_id = driver.verify_certificate(header, committed.qc)
                executed = chain.validate_block(committed.block)
                if executed.block_id != block_id:
                    raise IntegrityError("re-executed block differs from the certified one")
                driver.commit_fetched(block_id, committed.qc)
            except StorageError:
                raise  # our own disk failed: the router halts the node
            except ConsortiaError as exc:
                log.warning(
                    "catch-up block %d from validator %d refused: %s", header.height, sender, exc.message
                )
                break
            applied += 1
        if applied and response.head_height > chain.head.height:
            self.request_heights(sender)
            return
        self._by_heights = False
        if applied:
            log.info("caught up to height %d from validator %d", chain.head.height, sender)
            driver.restart_core()
