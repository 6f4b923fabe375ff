"""The node-side stamping service: many clients' document hashes, one anchoring per block.

A client posts hashes (``POST /v1/notary/stamp``); its request becomes a *sub-batch* whose RFC
6962 root the service computes. Every pending sub-batch goes under one tree whose root one
transaction ``notary.anchor(root, size, documents)`` anchors, signed by the node's notary key
(``notary.key_file`` in node.json: explicit, never a default). While a transaction waits for its
block the next requests gather, so the service anchors about once per block whatever the
number of clients. Once the transaction is final each client gets its sub-batch's way up (one
:class:`~consortia.apps.notary.receipts.Level`) and the transaction's receipt proof: with the
hashes it sent it builds every document's receipt itself (:func:`receipts.build_receipts`), so
an answer is a few kilobytes whatever the number of documents.

Bounds (node.json, typed 4xx refusals that change nothing): hashes per request
(:class:`TooManyDocuments`, 413), documents and requests pending over all clients
(:class:`NotaryBusy`, 429).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consortia.apps.notary.errors import AnchorFailed, NoDocuments, NotaryBusy, TooManyDocuments
from consortia.apps.notary.index import DocumentIndex, IndexedBatch
from consortia.apps.notary.receipts import Level, batch_root, sha256, sub_batch_item
from consortia.apps.notary.sdk import anchor_call
from consortia.client.tx_builder import sign_tx
from consortia.codec.plain import to_plain
from consortia.crypto.keyfile import load_key_file, password_from_env
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError, ConsortiaError, Timeout
from consortia.execution.accounts import account_key, decode_account
from consortia.ledger.merkle import inclusion_proofs
from consortia.ledger.proofs import ReceiptProof
from consortia.node import queries
from consortia.node.config import NotaryServiceConfig
from consortia.node.node import Node
from consortia.node.own_tx import until_committed

log = logging.getLogger("consortia.notary")

EXPIRY_BLOCKS = 1000
COMMIT_TIMEOUT_S = 60.0
MAX_IN_FLIGHT = 4
"""Anchoring transactions waiting for their blocks at once (consecutive nonces)."""
HASH_IN_THREAD = 256
"""Sub-batches of more hashes than this get their root computed off the event loop."""


def load_service_key(home: Path, config: NotaryServiceConfig) -> KeyPair:
    """The key named by ``notary.key_file`` (relative to the home unless absolute)."""
    path = Path(config.key_file)
    path = path if path.is_absolute() else home / path
    if not path.exists():
        raise ConfigError(f"the notary service's key file {path} (notary.key_file in node.json) "
                          "does not exist")
    return load_key_file(path, password_from_env())


def check_service_config(config: NotaryServiceConfig) -> NotaryServiceConfig:
    for name in ("max_request_hashes", "max_pending_documents", "max_pending_requests"):
        value = getattr(config, name)
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"notary.{name} in node.json must be a whole number of at least 1, "
                              f"got {value!r}")
    if config.max_request_hashes > config.max_pending_documents:
        raise ConfigError(f"notary.max_request_hashes ({config.max_request_hashes}) exceeds "
                          f"notary.max_pending_documents ({config.max_pending_documents})")
    return config


@dataclass(eq=False)
class _Request:
    leaves: list[bytes]
    root: bytes
    done: asyncio.Future[dict[str, Any]]


@dataclass
class _Anchored:
    tx_hash: bytes
    root: bytes
    levels: list[Level]
    proof: ReceiptProof
    stamper: bytes


@dataclass
class ServiceStats:
    requests: int = 0
    documents: int = 0
    anchors: int = 0
    failed: int = 0
    final_s: float = 0.0
    """Seconds from submitting anchorings to their finality, summed."""
    index_s: float = 0.0
    """Seconds the index took to record answered anchorings, summed."""

    def record(self, final_s: float, documents: int, requests: int) -> None:
        self.anchors += 1
        self.documents += documents
        self.requests += requests
        self.final_s += final_s

    def to_json(self) -> dict[str, Any]:
        n = max(self.anchors, 1)
        return {"anchors": self.anchors, "documents": self.documents, "requests": self.requests,
                "failed_anchors": self.failed, "mean_anchor_final_ms": round(1000 * self.final_s / n),
                "mean_index_ms": round(1000 * self.index_s / n)}


class StampService:
    """Owned by one node's API; runs on the node's event loop."""

    def __init__(self, node: Node, key: KeyPair, config: NotaryServiceConfig, index: DocumentIndex) -> None:
        self.node = node
        self.key = key
        self.config = check_service_config(config)
        self.index = index
        self.stats = ServiceStats()
        self._queue: list[_Request] = []
        self._pending_documents = 0
        self._pending_requests = 0
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._index_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notary-index")

    @property
    def address(self) -> bytes:
        return self.key.address

    def status(self) -> dict[str, Any]:
        batches, documents = self.index.counts()
        return {"stamper": "0x" + self.address.hex(), "pending_documents": self._pending_documents,
                "pending_requests": self._pending_requests, **self.stats.to_json(),
                "indexed_batches": batches, "indexed_documents": documents,
                "limits": {"max_request_hashes": self.config.max_request_hashes,
                           "max_pending_documents": self.config.max_pending_documents,
                           "max_pending_requests": self.config.max_pending_requests}}

    # --- clients ------------------------------------------------------------------------------

    def check_request(self, count: int) -> None:
        """Refuse (changing nothing) a request of ``count`` hashes the service cannot take now."""
        limit = self.config.max_request_hashes
        if count == 0:
            raise NoDocuments("send at least one document hash")
        if count > limit:
            raise TooManyDocuments(f"a request carries at most {limit} document hashes, got {count}: "
                                   "split it", limit=limit, count=count)
        if self._pending_requests >= self.config.max_pending_requests:
            raise NotaryBusy(f"the service holds {self._pending_requests} pending requests, its limit; "
                             "retry after the next block", pending_requests=self._pending_requests,
                             limit=self.config.max_pending_requests)
        room = self.config.max_pending_documents - self._pending_documents
        if count > room:
            raise NotaryBusy(f"the service holds {self._pending_documents} pending documents; {count} more "
                             f"would pass its limit {self.config.max_pending_documents}: retry after the "
                             "next block", pending=self._pending_documents, count=count,
                             limit=self.config.max_pending_documents)

    async def stamp(self, leaves: list[bytes], wait_s: float) -> dict[str, Any]:
        """Queue ``leaves`` (32-byte hashes, already checked) and answer once anchored."""
        self.check_request(len(leaves))
        self._pending_requests += 1
        self._pending_documents += len(leaves)
        try:
            if len(leaves) > HASH_IN_THREAD:
                root = await asyncio.to_thread(batch_root, leaves)
            else:
                root = batch_root(leaves)
        except BaseException:
            self._release(1, len(leaves))
            raise
        loop = asyncio.get_running_loop()
        request = _Request(leaves, root, loop.create_future())
        self._queue.append(request)
        self._start()
        assert self._wake is not None
        self._wake.set()
        await asyncio.wait({request.done}, timeout=wait_s)
        if not request.done.done():
            raise Timeout(f"the batch with root 0x{root.hex()} was not final within {wait_s:g} s; it stays "
                          "queued: ask GET /v1/notary/documents/<hash> later", root="0x" + root.hex())
        return request.done.result()

    def _release(self, requests: int, documents: int) -> None:
        self._pending_requests -= requests
        self._pending_documents -= documents

    # --- anchoring ----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._runner is None or self._runner.done():
            self._wake = asyncio.Event()
            self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
            self._runner = asyncio.create_task(self._run(), name="notary-service")

    async def _run(self) -> None:
        assert self._wake is not None and self._slots is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._slots.acquire()
                batch, self._queue = self._queue, []
                submitted = asyncio.get_running_loop().time()
                try:
                    tx_hash, root, levels, waiter = await self._submit(batch)
                except Exception as exc:  # every waiting client gets the reason, the service goes on
                    self._slots.release()
                    self._fail(batch, exc)
                    continue
                task = asyncio.create_task(self._complete(batch, tx_hash, root, levels, waiter,
                                                           submitted))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _submit(
        self, batch: Sequence[_Request]
    ) -> tuple[bytes, bytes, list[Level], asyncio.Future[None]]:
        """Sign and admit the anchoring transaction of ``batch``; its hash, tree and commit waiter."""
        chain = self.node.chain
        items = [sub_batch_item(len(r.leaves), r.root) for r in batch]
        if len(items) > HASH_IN_THREAD:
            root, proofs = await asyncio.to_thread(inclusion_proofs, items, sha256)
        else:
            root, proofs = inclusion_proofs(items, sha256)
        levels = [Level(p.index, p.size, p.path, root) for p in proofs]
        documents = sum(len(r.leaves) for r in batch)
        raw_account = chain.store.state_get(account_key(self.address))
        committed = decode_account(raw_account).nonce if raw_account else 0
        nonce = committed + chain.mempool.pending_count(self.address)
        call = anchor_call(root, len(items), documents)
        raw = sign_tx(self.key, chain.chain_id, nonce, chain.head.height + EXPIRY_BLOCKS, call)
        tx_hash = chain.hash(raw)
        waiter = self.node.events.waiter(tx_hash)
        try:
            result = (await self.node.submit([raw]))[0]
        except BaseException:
            self.node.events.drop_waiter(tx_hash, waiter)
            raise
        if result.error is not None:
            self.node.events.drop_waiter(tx_hash, waiter)
            raise AnchorFailed(f"the anchoring transaction was refused: {result.error.message}",
                               status=result.error.code)
        return tx_hash, root, levels, waiter

    async def _complete(self, batch: list[_Request], tx_hash: bytes, root: bytes, levels: list[Level],
                        waiter: asyncio.Future[None], submitted: float) -> None:  # fmt: skip
        """Once final: answer every client, then record the documents in the index (in commit
        order: one index thread). Their documents count as pending until indexed, so a slow
        index holds new requests back instead of growing without bound."""
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        documents = sum(len(r.leaves) for r in batch)
        try:
            try:
                await self._committed(tx_hash, waiter)
            finally:
                self._slots.release()
            anchored = self._anchored(tx_hash, root, levels)
            answers = self._answers(batch, anchored)
        except Exception as exc:
            self._fail(batch, exc)
            return
        self.stats.record(loop.time() - submitted, documents, len(batch))
        for request, answer in zip(batch, answers, strict=True):
            if not request.done.done():
                request.done.set_result(answer)
        header = anchored.proof.header
        indexed = [IndexedBatch(r.root, root, tx_hash, header.height, header.timestamp_ms, anchored.stamper,
                                [level], r.leaves) for r, level in zip(batch, levels, strict=True)]
        started = loop.time()
        try:
            await loop.run_in_executor(self._index_thread, self.index.add, indexed)
        except Exception:  # the documents are anchored and answered; only the lookup lacks them
            log.exception("the notary index could not record anchoring 0x%s", tx_hash.hex())
        finally:
            self.stats.index_s += loop.time() - started
            self._release(len(batch), documents)

    async def _committed(self, tx_hash: bytes, waiter: asyncio.Future[None]) -> None:
        try:
            await until_committed(self.node, tx_hash, waiter, COMMIT_TIMEOUT_S, "the anchoring transaction")
        finally:
            self.node.events.drop_waiter(tx_hash, waiter)

    def _anchored(self, tx_hash: bytes, root: bytes, levels: list[Level]) -> _Anchored:
        _, _, receipt = queries.committed_tx(self.node.chain, tx_hash)
        if receipt.status != "ok":
            raise AnchorFailed(f"the anchoring transaction 0x{tx_hash.hex()} failed: {receipt.status} "
                               f"({receipt.error})", status=receipt.status, tx_hash="0x" + tx_hash.hex())
        return _Anchored(tx_hash, root, levels, queries.receipt_proof(self.node.chain, tx_hash), self.address)

    def _answers(self, batch: Sequence[_Request], anchored: _Anchored) -> list[dict[str, Any]]:
        header = anchored.proof.header
        shared = {"anchor_root": "0x" + anchored.root.hex(), "tx_hash": "0x" + anchored.tx_hash.hex(),
                  "height": header.height, "timestamp_ms": header.timestamp_ms,
                  "stamper": "0x" + anchored.stamper.hex(), "anchor": to_plain(anchored.proof)}
        return [{"root": "0x" + r.root.hex(), "documents": len(r.leaves), "level": to_plain(level), **shared}
                for r, level in zip(batch, anchored.levels, strict=True)]

    def _fail(self, batch: Sequence[_Request], exc: BaseException) -> None:
        self.stats.failed += 1
        if not isinstance(exc, ConsortiaError):
            log.exception("notary anchoring failed", exc_info=exc)
            exc = AnchorFailed(f"the anchoring failed: {type(exc).__name__}")
        for request in batch:
            if not request.done.done():
                request.done.set_exception(exc)
                request.done.exception()  # retrieved: a client that gave up leaves no warning
        self._release(len(batch), sum(len(r.leaves) for r in batch))

    def close(self) -> None:
        self._index_thread.shutdown(wait=True)

