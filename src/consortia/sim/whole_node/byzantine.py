"""A Byzantine validator for the whole-node simulator: a catch-up server that forges blocks.

It runs the real stack and takes part in consensus like everyone else, but it also lures its
peers into catching up from it — a ``SyncInfo`` claiming a certified block a few heights above
its head (unsigned garbage, which the core refuses, but the network layer notes the height
first) — and answers their request for committed blocks with a block of its own making: empty,
correctly executed on the real committed head, so it re-executes to the same roots, but with a
certificate nobody signed. An honest node must refuse it; one that skips the certificate check
commits it and forks from the rest.
"""

from __future__ import annotations

import asyncio

from consortia.consensus import SyncInfo
from consortia.node.node import Node
from consortia.node.peer_network import PeerNetwork
from consortia.node.wire import HeightRequest, HeightResponse, SyncMsg, encode_wire
from consortia.types.block import CommittedBlock
from consortia.types.consensus import QuorumCert

LURE_INTERVAL_S = 0.7
LURE_LEAD = 4


class ForgingNetwork(PeerNetwork):
    forged = 0

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        self.routes[HeightRequest] = self._answer_heights

    def start_luring(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self._lure())

    async def _lure(self) -> None:
        while True:
            await asyncio.sleep(LURE_INTERVAL_S)
            if self.frames is None:
                continue
            head = self.chain.head
            fake = QuorumCert(block_id=b"\x5a" * 32, round=self.chain.head_header.round + 50,
                              height=head.height + LURE_LEAD, signers=[0, 1, 2],
                              signatures=[b"\x00" * 64] * 3)
            self.frames.broadcast(encode_wire(SyncMsg(SyncInfo(high_qc=fake))))

    def _answer_heights(self, sender: int, request: HeightRequest) -> None:
        head = self.chain.head
        if request.from_height != head.height + 1 or self.frames is None or self.driver is None:
            self.block_sync.on_height_request(sender, request)
            return
        stored = self.chain.store.block(head.height)
        executed = self.chain.build_block(
            head.block_id, self.chain.head_header.round + 1, self.driver.me or 0,
            self.chain.head_header.timestamp_ms + 7, stored.qc, empty=True,
        )
        self.chain.abandon(executed.block_id)
        header = executed.header
        fake = QuorumCert(block_id=executed.block_id, round=header.round, height=header.height,
                          signers=[0, 1, 2], signatures=[b"\x00" * 64] * 3)
        self.forged += 1
        response = HeightResponse([CommittedBlock(executed.block, fake)], head.height + 1)
        self.frames.send(sender, encode_wire(response))
