"""Notarisation from Python (issue 12, apps/notary, decisions/0012).

    with Client("http://127.0.0.1:8600") as client:
        # with your own key: one transaction anchors every document
        stamped = NotaryWallet(Wallet(load_key_file(Path("alice.key")), client)).stamp_files(paths)
        stamped.save(Path("receipts"))                      # one <file>.notary.json per document
        # or through a node's stamping service (no key): thousands of clients, one anchoring a block
        receipts = NotaryClient(client).stamp_hashes([file_hash(p) for p in paths])
        NotaryClient(client).document(file_hash(paths[0]))  # who stamped it first, when, receipt
    verify_file(paths[0], Path("receipts/a.pdf.notary.json"), genesis)   # offline

Every argument is checked before anything is signed or sent (:class:`NoDocuments`,
:class:`BadDocumentHash`, ``InvalidArgument``); a refusal raises the typed error of the node or
of the transaction's receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from consortia.apps.notary.errors import BadDocumentHash, NoDocuments, TooManyDocuments
from consortia.apps.notary.receipts import (
    RECEIPT_VERSION,
    DocumentReceipt,
    Level,
    VerifiedStamp,
    batch_levels,
    build_receipts,
    file_hash,
    receipt_file_bytes,
    receipt_from_file_bytes,
    verify_receipt,
)
from consortia.apps.notary.sdk import anchor_call
from consortia.client.arguments import InvalidArgument, check_address_arg, check_digest, check_flag
from consortia.client.client import Client
from consortia.client.contracts import receipt_error, receipt_from_json
from consortia.client.wallet import Wallet
from consortia.codec.plain import from_plain
from consortia.crypto.address import format_address
from consortia.errors import ConfigError, ConsortiaError, DecodeError, ProofError
from consortia.invariant import invariant
from consortia.ledger.proofs import ReceiptProof
from consortia.types.genesis import Genesis

MAX_BATCH = 100_000
"""Documents one ``stamp`` (one transaction) anchors; the node registers batches up to this size."""
RECEIPT_SUFFIX = ".notary.json"
SERVICE_WAIT_S = 30.0


def check_hashes(hashes: Sequence[bytes | str], limit: int = MAX_BATCH) -> list[bytes]:
    """32-byte SHA-256 digests (bytes, or 64 hex digits with optional ``0x``), 1 to ``limit``."""
    if not isinstance(hashes, list | tuple):
        raise InvalidArgument(f"the document hashes are a list, got {type(hashes).__name__}")
    if not hashes:
        raise NoDocuments("give at least one document")
    if len(hashes) > limit:
        raise TooManyDocuments(f"at most {limit} documents at once, got {len(hashes)}", limit=limit)
    return [check_hash(h, f"document {i}") for i, h in enumerate(hashes)]


def check_hash(value: bytes | str, what: str = "document hash") -> bytes:
    """A SHA-256 digest (bytes, or 64 hex digits with optional ``0x``), or BadDocumentHash."""
    return check_digest(value, what, BadDocumentHash)


def hash_files(paths: Sequence[Path]) -> list[bytes]:
    """The SHA-256 of each file; a missing or unreadable file is a ``ConfigError`` naming it."""
    if not isinstance(paths, list | tuple):
        raise InvalidArgument(f"the files are a list of paths, got {type(paths).__name__}")
    if not paths:
        raise NoDocuments("give at least one file")
    if len(paths) > MAX_BATCH:
        raise TooManyDocuments(f"at most {MAX_BATCH} files at once, got {len(paths)}", limit=MAX_BATCH)
    out = []
    for path in paths:
        if not isinstance(path, str | Path):
            raise InvalidArgument(f"a file is a path, got {type(path).__name__}")
        try:
            out.append(file_hash(Path(path)))
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    return out


@dataclass(frozen=True, slots=True)
class Stamped:
    """An anchored batch: the transaction, its block, the root and every document's receipt."""

    tx_hash: bytes
    height: int
    timestamp_ms: int
    root: bytes
    receipts: list[DocumentReceipt]
    indexed: bool = False
    """The node recorded the documents in its index (``NotaryClient.document`` finds them)."""

    def save(self, out: Path, names: Sequence[str] | None = None) -> list[Path]:
        """Write each receipt to ``out/<name>.notary.json`` (names default to the document hashes;
        a name used twice gets ``-2``, ``-3``, ...). Refuses to overwrite a file."""
        names = list(names) if names is not None else ["0x" + r.document.hex() for r in self.receipts]
        invariant(len(names) == len(self.receipts), "one name per receipt")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {out}: {exc.strerror or exc}") from None
        paths = receipt_paths(out, names)
        existing = [p for p in paths if p.exists()]
        if existing:
            raise ConfigError(f"{existing[0]} already exists; choose another --out directory")
        for path, receipt in zip(paths, self.receipts, strict=True):
            path.write_bytes(receipt_file_bytes(receipt))
        return paths


def receipt_paths(out: Path, names: Sequence[str]) -> list[Path]:
    seen: dict[str, int] = {}
    paths = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        suffix = "" if seen[name] == 1 else f"-{seen[name]}"
        paths.append(out / f"{name}{suffix}{RECEIPT_SUFFIX}")
    return paths


def load_receipt(path: Path) -> DocumentReceipt:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProofError(f"cannot read the receipt {path}: {exc.strerror or exc}") from None
    try:
        return receipt_from_file_bytes(data)
    except ProofError as exc:
        raise ProofError(f"{path}: {exc.message}") from None


def verify_file(document: Path, receipt: Path, genesis: Genesis) -> VerifiedStamp:
    """Offline: the file's SHA-256 is the receipt's document, and the receipt holds (ProofError)."""
    try:
        digest = file_hash(document)
    except OSError as exc:
        raise ProofError(f"cannot read {document}: {exc.strerror or exc}") from None
    return verify_receipt(load_receipt(receipt), genesis, digest)


class NotaryWallet:
    """Stamping with one's own key: one ``notary.anchor`` transaction per batch."""

    def __init__(self, wallet: Wallet, timeout: float = 30.0) -> None:
        self.wallet = wallet
        self.timeout = timeout

    @property
    def client(self) -> Client:
        return self.wallet.client

    def stamp_files(self, paths: Sequence[Path], register: bool = True) -> Stamped:
        return self.stamp(hash_files(paths), register)

    def stamp(self, hashes: Sequence[bytes | str], register: bool = True) -> Stamped:
        """Anchor the root of ``hashes`` (in this order) and wait until final; every document's
        receipt. With ``register`` the node also records the documents in its index."""
        leaves = check_hashes(hashes)
        register = check_flag(register, "register")
        root, levels = batch_levels(leaves)
        call = anchor_call(root, len(leaves), len(leaves))
        tx_hash = self.wallet.send(call, wait=False)
        invariant(isinstance(tx_hash, bytes), "a send without waiting returns the hash")
        assert isinstance(tx_hash, bytes)
        receipt = receipt_from_json(tx_hash, self.client.wait(tx_hash, self.timeout))
        if not receipt.ok:
            raise receipt_error(receipt)
        proof = self.client.receipt_proof(tx_hash)
        receipts = [DocumentReceipt(RECEIPT_VERSION, leaf, [level], proof)
                    for leaf, level in zip(leaves, levels, strict=True)]
        indexed = False
        if register:
            NotaryClient(self.client).register(tx_hash, leaves)
            indexed = True
        return Stamped(tx_hash, proof.header.height, proof.header.timestamp_ms, root, receipts, indexed)


class NotaryClient:
    """A node's notarisation API: its stamping service, index and the chain's root records."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _post(self, path: str, **kwargs: Any) -> Any:
        return self.client._request("POST", path, **kwargs)

    def stamp_hashes(self, hashes: Sequence[bytes | str], wait: float = SERVICE_WAIT_S) -> Stamped:
        """Through the node's stamping service: the documents' receipts once anchored."""
        leaves = check_hashes(hashes, MAX_BATCH)
        answer = self.stamp_raw(b"".join(leaves), wait)
        return stamped_from_answer(leaves, answer)

    def stamp_raw(self, body: bytes, wait: float = SERVICE_WAIT_S) -> dict[str, Any]:
        """POST raw 32-byte hashes; the service's answer as it came (JSON)."""
        if not 0 < wait <= 60:
            raise InvalidArgument(f"wait is more than 0 and at most 60 seconds, got {wait!r}")
        return dict(self._post("/v1/notary/stamp", content=body, params={"wait": str(wait)},
                               headers={"content-type": "application/octet-stream"},
                               timeout=httpx.Timeout(wait + 30)))

    def service(self) -> dict[str, Any]:
        return dict(self.client.get("/v1/notary/service"))

    def register(self, tx_hash: bytes, hashes: Sequence[bytes]) -> dict[str, Any]:
        """Ask the node to record a committed one-level batch in its index (it checks it first)."""
        body = {"tx_hash": "0x" + tx_hash.hex(), "hashes": ["0x" + h.hex() for h in check_hashes(hashes)]}
        return dict(self._post("/v1/notary/batches", json=body))

    def document(self, document: bytes | str) -> dict[str, Any]:
        """The earliest stamp of a document the node knows (``UnknownDocument`` if none), with
        its receipt (``receipt``: plain JSON; :func:`receipt_of` makes it a receipt)."""
        return dict(self.client.get(f"/v1/notary/documents/0x{check_hash(document).hex()}"))

    def root(self, root: bytes | str) -> dict[str, Any]:
        """A root's first anchoring on chain: stamper, height, time, size, documents, stamps."""
        return dict(self.client.get(f"/v1/notary/roots/0x{check_hash(root, 'root').hex()}")["anchored"])

    def stamper(self, address: bytes | str, start: int = 1, limit: int = 20) -> dict[str, Any]:
        """The roots ``address`` anchored first (``count`` in all; ``roots`` from ``start``)."""
        who = format_address(check_address_arg(address, "stamper"))
        if not 1 <= start <= 2**63 or not 1 <= limit <= 100:
            raise InvalidArgument(f"start is at least 1 and limit 1 to 100, got {start!r}, {limit!r}")
        return dict(self.client.get(f"/v1/notary/stampers/{who}", start=start, limit=limit))


def receipt_of(document_json: dict[str, Any]) -> DocumentReceipt:
    """The receipt in a :meth:`NotaryClient.document` answer."""
    try:
        return from_plain(DocumentReceipt, document_json["receipt"])
    except (KeyError, DecodeError) as exc:
        raise DecodeError(f"the node's answer holds no receipt: {exc}") from None


def stamped_from_answer(leaves: list[bytes], answer: dict[str, Any]) -> Stamped:
    """The receipts of ``leaves`` (as sent) from the stamping service's answer."""
    try:
        level = from_plain(Level, answer["level"])
        anchor = from_plain(ReceiptProof, answer["anchor"])
        anchor_root = bytes.fromhex(str(answer["anchor_root"]).removeprefix("0x"))
    except (KeyError, ValueError, DecodeError) as exc:
        raise DecodeError(f"not a stamping service answer: {exc}") from None
    receipts = build_receipts(leaves, [level], anchor)
    if level.root != anchor_root:
        raise ProofError("the service's answer names two different anchored roots")
    return Stamped(bytes.fromhex(str(answer["tx_hash"]).removeprefix("0x")), anchor.header.height,
                   anchor.header.timestamp_ms, anchor_root, receipts, indexed=True)


__all__ = [
    "MAX_BATCH",
    "BadDocumentHash",
    "ConsortiaError",
    "NoDocuments",
    "NotaryClient",
    "NotaryWallet",
    "Stamped",
    "TooManyDocuments",
    "check_hash",
    "check_hashes",
    "hash_files",
    "load_receipt",
    "receipt_of",
    "verify_file",
]
