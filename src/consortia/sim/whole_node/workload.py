"""Seeded client workloads, submitted through ``Node.submit`` (the path the REST API takes).

The mix is the hostile one of issue 8: ordinary transfers (mostly to the sender's own node,
sometimes to another), the same nonce raced to two nodes, transactions a block or two from
expiry, transactions of exactly the maximum size, nonce gaps (which must be refused), and
floods from one sender past its share of the pool. A client asks the node it talks to for its
next nonce (committed nonce plus what that node holds), as a wallet does.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from consortia.client.tx_builder import sign_transfer, sign_tx
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError
from consortia.execution.accounts import account_key as state_key
from consortia.execution.accounts import decode_account
from consortia.node.node import Node
from consortia.sim.whole_node.homes import ACCOUNTS, SIM_CHAIN_ID, account_key
from consortia.sim.whole_node.invariants import AckedTx
from consortia.types.transaction import Call

KINDS = ("transfer", "race", "near_expiry", "max_size", "gap", "flood")
NEAR_EXPIRY_SENDER = ACCOUNTS - 2
FLOOD_SENDER = ACCOUNTS - 1
LONG_EXPIRY = 5_000
FLOOD_BATCH = 24


def committed_nonce(node: Node, sender: bytes) -> int:
    raw = node.store.state_get(state_key(sender))
    return decode_account(raw).nonce if raw is not None else 0


class Workload:
    def __init__(self, rng: random.Random, validators: int, node_of: Callable[[int], Node | None],
                 now_ms: Callable[[], int], fail: Callable[[str], None]) -> None:
        self._rng = rng
        self._n = validators
        self._node_of = node_of
        self._now_ms = now_ms
        self._fail = fail
        self.weights = [rng.choice([0, 2, 6]) + 4, rng.choice([0, 1, 2]), rng.choice([0, 1, 2]),
                        rng.choice([0, 1]), rng.choice([0, 1]), rng.choice([0, 1])]
        self.mean_gap_s = rng.choice([0.03, 0.08, 0.2])
        self.acked: list[AckedTx] = []
        self.submitted = 0
        self.refused = 0

    def describe(self) -> str:
        mix = " ".join(f"{k}={w}" for k, w in zip(KINDS, self.weights, strict=True) if w)
        return f"workload every ~{int(self.mean_gap_s * 1000)}ms: {mix}"

    async def run(self, until_s: float) -> None:
        loop = asyncio.get_running_loop()
        rng = self._rng
        while True:
            await asyncio.sleep(rng.expovariate(1 / self.mean_gap_s))
            if loop.time() >= until_s:
                return
            kind = rng.choices(KINDS, self.weights)[0]
            await getattr(self, "_" + kind)()

    # --- helpers ----------------------------------------------------------------------------

    def _key(self, index: int) -> KeyPair:
        return account_key(index)

    def _target(self, sender: int) -> tuple[int, Node] | None:
        slot = sender % self._n if self._rng.random() < 0.8 else self._rng.randrange(self._n)
        node = self._node_of(slot)
        return (slot, node) if node is not None else None

    def _aim(self, sender: int) -> tuple[int, Node, KeyPair] | None:
        """The node ``sender``'s next transaction goes to (mostly its own), and its key."""
        target = self._target(sender)
        return (*target, self._key(sender)) if target is not None else None

    def _next_nonce(self, node: Node, key: KeyPair) -> int:
        return committed_nonce(node, key.address) + node.chain.mempool.pending_count(key.address)

    def _expiry(self, node: Node, ahead: int = LONG_EXPIRY) -> int:
        return node.chain.head.height + ahead

    async def _submit(self, slot: int, node: Node, raws: list[bytes], meta: list[tuple[KeyPair, int, int]],
                      kind: str) -> list[bool]:
        self.submitted += len(raws)
        try:
            results = await node.submit(raws)
        except ConsortiaError:
            self.refused += len(raws)
            return [False] * len(raws)
        oks: list[bool] = []
        for result, (key, nonce, expiry) in zip(results, meta, strict=True):
            ok = result.error is None and result.tx_hash is not None
            oks.append(ok)
            if ok:
                self.acked.append(AckedTx(result.tx_hash, key.address, nonce, expiry, slot,  # type: ignore[arg-type]
                                          self._now_ms(), kind))
            else:
                self.refused += 1
        return oks

    def _transfer_raw(self, key: KeyPair, nonce: int, expiry: int, amount: int = 1) -> bytes:
        to = self._key(self._rng.randrange(ACCOUNTS)).address
        return sign_transfer(key, SIM_CHAIN_ID, nonce, expiry, to, amount)

    # --- the kinds ------------------------------------------------------------------------------

    async def _transfer(self) -> None:
        sender = self._rng.randrange(ACCOUNTS - 2)
        aim = self._aim(sender)
        if aim is None:
            return
        slot, node, key = aim
        nonce, expiry = self._next_nonce(node, key), self._expiry(node)
        await self._submit(slot, node, [self._transfer_raw(key, nonce, expiry)], [(key, nonce, expiry)],
                           "transfer")

    async def _race(self) -> None:
        """One nonce, two different transactions, two nodes: at most one can commit."""
        if self._n < 2:
            return
        sender = self._rng.randrange(ACCOUNTS - 2)
        first, second = self._rng.sample(range(self._n), 2)
        a, b = self._node_of(first), self._node_of(second)
        if a is None or b is None:
            return
        key = self._key(sender)
        nonce, expiry = self._next_nonce(a, key), self._expiry(a)
        for slot, node, amount in ((first, a, 1), (second, b, 2)):
            raw = self._transfer_raw(key, nonce, expiry, amount)
            await self._submit(slot, node, [raw], [(key, nonce, expiry)], "race")

    async def _near_expiry(self) -> None:
        aim = self._aim(NEAR_EXPIRY_SENDER)
        if aim is None:
            return
        slot, node, key = aim
        nonce, expiry = self._next_nonce(node, key), self._expiry(node, self._rng.randint(1, 3))
        await self._submit(slot, node, [self._transfer_raw(key, nonce, expiry)], [(key, nonce, expiry)],
                           "near_expiry")

    async def _max_size(self) -> None:
        sender = self._rng.randrange(ACCOUNTS - 2)
        aim = self._aim(sender)
        if aim is None:
            return
        slot, node, key = aim
        nonce, expiry = self._next_nonce(node, key), self._expiry(node)
        limit = node.chain.params.max_tx_bytes
        size = limit - 200
        raw = b""
        for _ in range(4):  # the envelope's size depends a little on the payload's
            raw = sign_tx(key, SIM_CHAIN_ID, nonce, expiry, Call("blob", "put", b"\x07" * size))
            size += limit - len(raw)
            if len(raw) == limit:
                break
        await self._submit(slot, node, [raw], [(key, nonce, expiry)], "max_size")

    async def _gap(self) -> None:
        sender = self._rng.randrange(ACCOUNTS - 2)
        aim = self._aim(sender)
        if aim is None:
            return
        slot, node, key = aim
        nonce, expiry = self._next_nonce(node, key) + 2, self._expiry(node)
        oks = await self._submit(slot, node, [self._transfer_raw(key, nonce, expiry)],
                                 [(key, nonce, expiry)], "gap")
        if oks[0]:
            self._fail(f"node {slot} acknowledged a transaction whose nonce {nonce} leaves a gap")

    async def _flood(self) -> None:
        aim = self._aim(FLOOD_SENDER)
        if aim is None:
            return
        slot, node, key = aim
        first, expiry = self._next_nonce(node, key), self._expiry(node)
        meta = [(key, first + i, expiry) for i in range(FLOOD_BATCH)]
        raws = [self._transfer_raw(key, nonce, expiry) for _, nonce, _ in meta]
        await self._submit(slot, node, raws, meta, "flood")
