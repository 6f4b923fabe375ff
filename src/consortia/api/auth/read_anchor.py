"""Anchoring the read log's head on chain, periodically and when a segment closes (decisions/0026).

The head (the last entry's hash) goes on chain as a root of the ``notary`` application
(``notary.anchor(head, 1, 1)``, signed by the node's validator key unless ``read_audit.
anchor_key_file`` names another): the contract keeps each root's first anchoring (stamper,
height, transaction) for good, and lists the roots each stamper anchored first, so a log
rewritten after an anchoring no longer holds a head the chain holds. Each anchoring is written
to ``anchors.jsonl`` (seq, head, transaction, height, stamper) once final.

Every ``read_audit.anchor_interval_s`` (default 600 s) the anchorer anchors a head that moved;
a closed segment wakes it at once. It runs on the API's event loop, started by the first request
(the node's uvicorn runs without lifespan events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from consortia.api.auth.read_log import AnchorRecord, ReadLog, read_anchors
from consortia.apps.notary.sdk import anchor_call
from consortia.client.tx_builder import sign_tx
from consortia.crypto.keyfile import load_key_file, password_from_env
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError, ConsortiaError
from consortia.execution.accounts import account_key, decode_account
from consortia.node import queries
from consortia.node.config import ReadAuditConfig
from consortia.node.node import Node
from consortia.node.own_tx import until_committed

log = logging.getLogger("consortia.read_audit")

DEFAULT_ANCHOR_INTERVAL_S = 600
EXPIRY_BLOCKS = 1000
COMMIT_TIMEOUT_S = 60.0


class AnchorRefused(ConsortiaError):
    code = "read_anchor_failed"
    http_status = 502


MIN_SEGMENT_BYTES = 1024


def check_config(config: ReadAuditConfig) -> ReadAuditConfig:
    """``config`` if its numbers make sense; a :class:`ConfigError` naming the field otherwise."""
    if not isinstance(config.anchor_interval_s, int) or config.anchor_interval_s < 1:
        raise ConfigError(f"read_audit.anchor_interval_s in node.json is a whole number of seconds, at least "
                          f"1, got {config.anchor_interval_s!r}")  # fmt: skip
    if not isinstance(config.segment_bytes, int) or config.segment_bytes < MIN_SEGMENT_BYTES:
        raise ConfigError(f"read_audit.segment_bytes in node.json must be at least {MIN_SEGMENT_BYTES}, "
                          f"got {config.segment_bytes!r}")  # fmt: skip
    return config


def load_anchor_key(home: Path, key_file: str) -> KeyPair:
    path = Path(key_file)
    path = path if path.is_absolute() else home / path
    if not path.exists():
        raise ConfigError(f"the read audit's anchor key file {path} (read_audit.anchor_key_file in "
                          "node.json) does not exist")  # fmt: skip
    return load_key_file(path, password_from_env())


def anchor_key(node: Node, key_file: str) -> KeyPair:
    """The key that signs anchorings: ``key_file`` (relative to the home), else the validator key."""
    return node.key if not key_file else load_anchor_key(node.home, key_file)


class HeadAnchorer:
    def __init__(self, node: Node, log_: ReadLog, key: KeyPair | None, interval_s: int) -> None:
        """``key`` None: the node's validator key at each anchoring (it may rotate)."""
        if not interval_s > 0:
            raise ConfigError(f"read_audit.anchor_interval_s must be more than 0, got {interval_s!r}")
        self.node = node
        self.log = log_
        self.key = key
        self.interval_s = interval_s
        anchors = read_anchors(log_.directory)
        self.anchored_seq = anchors[-1].seq if anchors else 0
        self.anchorings = len(anchors)
        self.failures = 0
        self._seen_segments = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def poke(self) -> None:
        """Start the anchoring task on the running loop if it is not running."""
        if self._task is not None and not self._task.done():
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self.log.head_seq > self.anchored_seq:
            self._wake.set()  # entries from before a restart
        self._task = self._loop.create_task(self._run(), name="read-audit anchoring")

    def appended(self) -> None:
        """After an append (any thread): wake the task when a segment closed."""
        if self.log.closed_segments != self._seen_segments and self._loop is not None:
            self._seen_segments = self.log.closed_segments
            wake = self._wake
            if wake is not None:
                self._loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()
            if self.log.head_seq <= self.anchored_seq:
                continue
            try:
                await self.anchor()
            except Exception as exc:  # retried at the next period; the log keeps growing
                self.failures += 1
                log.warning("read audit: anchoring the head failed (%s); retried in %g s",
                            getattr(exc, "message", exc), self.interval_s)  # fmt: skip

    async def anchor(self) -> AnchorRecord:
        """Anchor the current head and wait until it is final."""
        seq, head = self.log.head_seq, self.log.head
        key = self.key or self.node.key
        chain = self.node.chain
        raw_account = chain.store.state_get(account_key(key.address))
        committed = decode_account(raw_account).nonce if raw_account else 0
        nonce = committed + chain.mempool.pending_count(key.address)
        raw = sign_tx(key, chain.chain_id, nonce, chain.head.height + EXPIRY_BLOCKS,
                      anchor_call(bytes.fromhex(head), 1, 1))  # fmt: skip
        tx_hash = chain.hash(raw)
        waiter = self.node.events.waiter(tx_hash)
        try:
            result = (await self.node.submit([raw]))[0]
            if result.error is not None:
                raise AnchorRefused(f"the anchoring of the read log's head was refused: "
                                    f"{result.error.message}")
            await self._final(tx_hash, waiter)
        finally:
            self.node.events.drop_waiter(tx_hash, waiter)
        _, _, receipt = queries.committed_tx(chain, tx_hash)
        if receipt.status != "ok":
            raise AnchorRefused(f"the anchoring 0x{tx_hash.hex()} failed: {receipt.status} ({receipt.error})")
        proof = queries.receipt_proof(chain, tx_hash)
        record = AnchorRecord(seq, head, tx_hash.hex(), proof.header.height, "0x" + key.address.hex())
        await asyncio.to_thread(self.log.add_anchor, record)
        self.anchored_seq = max(self.anchored_seq, seq)
        self.anchorings += 1
        log.info("read audit: head of entry %d anchored at height %d", seq, record.height)
        return record

    async def _final(self, tx_hash: bytes, waiter: asyncio.Future[None]) -> None:
        await until_committed(self.node, tx_hash, waiter, COMMIT_TIMEOUT_S, "the anchoring")
