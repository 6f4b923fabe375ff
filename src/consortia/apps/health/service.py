"""The node side of ``apps/health``: a hospital node keeps record ciphertexts and serves them to
readers the chain lets read, logging every served fetch on chain first.

Configured by ``health.key_file`` in node.json (explicit, never a default): the node's
*custodian* key. Records stored here name its address on chain; it signs the ``log_access``
transactions (with consecutive nonces: nothing else may use the key) and opens the custodian's
copy of a data key to hand it to a doctor who opened the record in an emergency.

A fetch (:meth:`HealthService.fetch`): the reader's signed request is checked (signature, time
within the contract's window) and its access on the committed state (``health.access``); then
the node submits ``health.log_access`` carrying the request (the contract checks signature,
time, nonce-once and access again, at the block's time) and serves only once that transaction
committed with status ok. So a revoked grant, a replayed request or a forged one is refused,
and nothing is served that is not in the chain's log.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool

from consortia.apps.health import records as rec
from consortia.apps.health.errors import (
    AccessNotLogged,
    AccessRefused,
    BadFetchRequest,
    BadFetchSignature,
    BadRecordUpload,
    RecordNotStored,
    ReplayedFetchRequest,
    StaleFetchRequest,
)
from consortia.apps.health.sdk import ACCESSED_EVENT, FETCH_WINDOW_MS, HEALTH, log_access_call
from consortia.apps.health.store import RecordStore
from consortia.client.tx_builder import sign_tx
from consortia.codec import decode_any
from consortia.contracts.python.errors import ContractFailed, NoSuchContract
from consortia.crypto.keyfile import load_key_file, password_from_env
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError, ConsortiaError, NotFound
from consortia.execution.accounts import account_key, decode_account
from consortia.execution.context import BlockContext
from consortia.node import queries
from consortia.node.chain import Chain
from consortia.node.config import HealthStoreConfig
from consortia.node.node import Node
from consortia.node.own_tx import until_committed

log = logging.getLogger("consortia.health")

EXPIRY_BLOCKS = 100
COMMIT_TIMEOUT_S = 30.0
REFUSALS: dict[str, type[ConsortiaError]] = {
    "no_access": AccessRefused, "replayed_request": ReplayedFetchRequest, "stale_request": StaleFetchRequest,
    "bad_signature": BadFetchSignature,
}
"""The contract's refusals of ``log_access`` that a reader can act on, as the node answers them."""


def load_custodian_key(home: Path, config: HealthStoreConfig) -> KeyPair:
    """The key named by ``health.key_file`` (relative to the home unless absolute)."""
    path = Path(config.key_file)
    path = path if path.is_absolute() else home / path
    if not path.exists():
        raise ConfigError(f"the health record store's key file {path} (health.key_file in node.json) "
                          "does not exist")
    limit = config.max_record_bytes
    if not isinstance(limit, int) or not 1 <= limit <= rec.MAX_RECORD_BYTES:
        raise ConfigError(f"health.max_record_bytes in node.json must be 1 to {rec.MAX_RECORD_BYTES}, "
                          f"got {config.max_record_bytes!r}")
    return load_key_file(path, password_from_env())


def health_view(chain: Chain, method: str, *args: Any) -> Any:
    """A ``health`` view on the committed state (an unknown record: :class:`RecordNotStored`)."""
    header = chain.head_header
    block = BlockContext(chain.chain_id, header.height, header.timestamp_ms, header.proposer)
    with chain.store.snapshot() as state:
        try:
            return chain.contract_host.run_view(state, block, HEALTH, method, list(args))
        except NoSuchContract:
            raise NotFound("the health application is not deployed on this chain") from None
        except ContractFailed as exc:
            if exc.code == "record_not_found":
                raise RecordNotStored(exc.message) from None
            raise


class HealthService:
    """Owned by one node's API; its coroutines run on the node's event loop."""

    def __init__(self, node: Node, key: KeyPair, config: HealthStoreConfig) -> None:
        self.node = node
        self.key = key
        self.config = config
        self.store = RecordStore(node.home)
        self._sign_lock = asyncio.Lock()
        self.served = 0
        self.refused = 0

    @property
    def address(self) -> bytes:
        return self.key.address

    # --- reads of the committed state -----------------------------------------------------------

    def view(self, method: str, *args: Any) -> Any:
        return health_view(self.node.chain, method, *args)

    def info(self) -> dict[str, Any]:
        sealing = rec.sealing_public_key(self.key)
        registered = self.view("key_of", self.address)
        return {"custodian": "0x" + self.address.hex(), "sealing_key": "0x" + sealing.hex(),
                "sealing_key_registered": registered == sealing,
                "max_record_bytes": self.config.max_record_bytes,
                "stored": self.store.count(), "served": self.served, "refused": self.refused}

    # --- uploads --------------------------------------------------------------------------------

    def upload(self, blob: bytes) -> dict[str, Any]:
        """Keep ``blob`` if the chain holds a record of its hash with this node as custodian."""
        if not blob or len(blob) > self.config.max_record_bytes:
            raise BadRecordUpload(f"a record is 1 to {self.config.max_record_bytes} bytes, got {len(blob)}",
                                  size=len(blob), limit=self.config.max_record_bytes)
        record = rec.record_id(blob)
        entry = self.view("record", record)
        if entry["custodian"] != self.address:
            raise BadRecordUpload(
                f"record 0x{record.hex()} names custodian 0x{entry['custodian'].hex()}; this node keeps "
                f"records of 0x{self.address.hex()}", record="0x" + record.hex())
        self.store.put(blob)
        return {"record": "0x" + record.hex(), "size": len(blob), "stored": True}

    # --- fetches --------------------------------------------------------------------------------

    async def fetch(self, request: rec.FetchRequest) -> dict[str, Any]:
        chain = self.node.chain
        try:
            checked = rec.check_fetch(request, chain.suite.name, chain.chain_id, self.node.clock.now_ms(),
                                      FETCH_WINDOW_MS)
            basis = await run_in_threadpool(self.view, "access", checked.record, checked.reader)
            if basis == "":
                raise AccessRefused(f"0x{checked.reader.hex()} holds no live grant or emergency opening on "
                                    f"record 0x{checked.record.hex()} (never granted, expired or revoked)",
                                    record="0x" + checked.record.hex(), reader="0x" + checked.reader.hex())
            blob = await run_in_threadpool(self.store.get, checked.record)
            if blob is None:
                raise RecordNotStored(f"node {self.node.config.name} holds no ciphertext of record "
                                      f"0x{checked.record.hex()}", record="0x" + checked.record.hex())
            tx_hash, height, logged = await self._log(checked)
            sealed = await run_in_threadpool(self._sealed_key, checked.record, checked.reader, logged)
        except Exception:
            self.refused += 1
            raise
        self.served += 1
        return {"record": "0x" + checked.record.hex(), "reader": "0x" + checked.reader.hex(),
                "basis": logged,
                "sealed_key": "0x" + sealed.hex(), "ciphertext": "0x" + blob.hex(),
                "log_tx": "0x" + tx_hash.hex(), "height": height}

    def _sealed_key(self, record: bytes, reader: bytes, basis: str) -> bytes:
        """The data key for ``reader``, sealed to its key, on the ``basis`` the chain logged."""
        entry = self.view("record", record)
        if basis == "patient":
            return bytes(entry["sealed_patient"])
        if basis == "consent":
            return bytes(self.view("grant_of", record, reader)["sealed_key"])
        # an emergency opening: the custodian's copy, opened here and sealed to the doctor's key
        reader_key = self.view("key_of", reader)
        if reader_key is None:
            raise AccessRefused(f"0x{reader.hex()} has registered no sealing key (health.register_key)")
        data_key = rec.open_data_key(self.key, bytes(entry["sealed_custodian"]))
        return rec.seal_data_key(bytes(reader_key), data_key)

    async def _log(self, checked: rec.CheckedFetch) -> tuple[bytes, int, str]:
        """Submit ``log_access`` for ``checked``, wait until it committed with status ok; its
        hash, height and the basis of access the chain logged."""
        chain = self.node.chain
        async with self._sign_lock:  # consecutive nonces for concurrent fetches
            raw_account = chain.store.state_get(account_key(self.address))
            committed = decode_account(raw_account).nonce if raw_account else 0
            nonce = committed + chain.mempool.pending_count(self.address)
            raw = sign_tx(self.key, chain.chain_id, nonce, chain.head.height + EXPIRY_BLOCKS,
                          log_access_call(checked))
            tx_hash = chain.hash(raw)
            waiter = self.node.events.waiter(tx_hash)
            try:
                result = (await self.node.submit([raw]))[0]
            except BaseException:
                self.node.events.drop_waiter(tx_hash, waiter)
                raise
        try:
            if result.error is not None:
                raise AccessNotLogged(f"the access-log transaction was refused: {result.error.message}",
                                      status=result.error.code)
            await self._committed(tx_hash, waiter)
        finally:
            self.node.events.drop_waiter(tx_hash, waiter)
        committed, _, receipt = await run_in_threadpool(queries.committed_tx, chain, tx_hash)
        if receipt.status != "ok":
            refusal = REFUSALS.get(receipt.status, AccessNotLogged)
            raise refusal(f"the access was not logged, so nothing is served: {receipt.status} "
                          f"({receipt.error})",
                          status=receipt.status, tx_hash="0x" + tx_hash.hex())
        accessed = [e for e in receipt.events if (e.contract, e.name) == (HEALTH, ACCESSED_EVENT)]
        basis = decode_any(accessed[0].data, dict[str, Any])["basis"] if accessed else ""
        return tx_hash, committed.block.header.height, str(basis)

    async def _committed(self, tx_hash: bytes, waiter: asyncio.Future[None]) -> None:
        await until_committed(self.node, tx_hash, waiter, COMMIT_TIMEOUT_S, "the access-log transaction",
                              "; nothing was served")


def parse_fetch_request(body: bytes) -> rec.FetchRequest:
    try:
        return msgspec.json.decode(body, type=rec.FetchRequest)
    except msgspec.DecodeError as exc:
        raise BadFetchRequest("a fetch request is JSON {record, public_key, timestamp_ms, nonce, "
                              f"signature}}: {exc}") from None
