"""The read audit from the client side (issue 14, decisions/0026): pages of a node's read log
(``GET /v1/audit/reads``) and the check of a log against the chain.

:func:`verify_with_chain` checks, with the genesis file and a node's API:

1. the log's own chain (every line, in order; a changed, removed or reordered line is named);
2. each recorded anchoring: the log's entry at that sequence number has the anchored head, and
   the anchoring transaction is on chain — its receipt proof verifies against the genesis, it
   succeeded, and it is ``notary.anchor`` of exactly that head;
3. every root the anchoring keys anchored first on chain is an entry hash of this log: a log
   rewritten after an anchoring (or whose anchors file was trimmed) no longer holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consortia.api.auth.read_log import ReadLogBroken, Verified, read_anchors, verify_log
from consortia.apps.notary.receipts import ANCHOR, NOTARY
from consortia.client.arguments import InvalidArgument
from consortia.client.client import Client
from consortia.client.notary import NotaryClient
from consortia.codec import decode_any
from consortia.crypto.suites import get_suite
from consortia.errors import ConsortiaError, ProofError
from consortia.execution.tx_decode import decode_tx
from consortia.ledger.proofs import verify_receipt_proof
from consortia.types.genesis import Genesis

MAX_PAGE = 500
STAMPER_PAGE = 100


def reads(client: Client, after: int = 0, limit: int = 100, org: str = "") -> dict[str, Any]:
    """A page of the node's read log: entries after ``after`` (oldest first), at most ``limit``."""
    if not 0 <= after < 2**63 or not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"after is 0 or more and limit 1 to {MAX_PAGE}, got {after!r}, {limit!r}")
    params: dict[str, Any] = {"after": after, "limit": limit}
    if org:
        params["org"] = org
    return dict(client.get("/v1/audit/reads", **params))


@dataclass
class ChainCheck:
    """What :func:`verify_with_chain` found: the log, its anchorings checked on chain."""

    log: Verified
    anchored: list[dict[str, Any]] = field(default_factory=list)
    stampers: list[str] = field(default_factory=list)
    roots_on_chain: int = 0

    @property
    def unanchored(self) -> int:
        last = max((a["seq"] for a in self.anchored), default=0)
        return self.log.head_seq - last

    def to_json(self) -> dict[str, Any]:
        return {"entries": self.log.entries, "head_seq": self.log.head_seq, "head": "0x" + self.log.head,
                "anchorings": self.anchored, "stampers": self.stampers,
                "roots_on_chain": self.roots_on_chain, "unanchored_entries": self.unanchored}  # fmt: skip


class AnchorMismatch(ReadLogBroken):
    code = "read_log_not_anchored"


def _anchored_root(proof_tx: bytes, genesis: Genesis) -> bytes:
    tx = decode_tx(proof_tx, genesis.chain_id, get_suite(genesis.suite), max(len(proof_tx), 1))
    call = tx.body.call
    if (call.contract, call.method) != (NOTARY, ANCHOR):
        raise ProofError(f"the transaction is {call.contract}.{call.method}, not {NOTARY}.{ANCHOR}")
    try:
        root, _size, _documents = decode_any(call.args, tuple[bytes, int, int])
    except ConsortiaError:
        raise ProofError("the anchoring's arguments are not [root, size, documents]") from None
    return bytes(root)


def verify_with_chain(directory: Path, client: Client, genesis: Genesis) -> ChainCheck:
    """Check the log in ``directory`` and its anchorings through ``client``; raises
    :class:`~consortia.api.auth.read_log.ReadLogBroken` (naming the line or the anchoring)."""
    check = ChainCheck(verify_log(directory))
    hashes = set(check.log.hash_at.values())
    stampers: list[str] = []
    for a in read_anchors(directory):
        where = f"anchoring of entry {a.seq} (transaction 0x{a.tx_hash})"
        if check.log.hash_at.get(a.seq) != a.head:
            raise AnchorMismatch(f"{where}: the log's entry {a.seq} is not the anchored head "
                                 f"0x{a.head} (the log was rewritten after its anchoring)")  # fmt: skip
        try:
            proof = client.receipt_proof(bytes.fromhex(a.tx_hash))
            verified = verify_receipt_proof(proof, genesis)
            root = _anchored_root(proof.tx, genesis)
        except ConsortiaError as exc:
            raise AnchorMismatch(f"{where}: not proved on chain: {exc.message}") from None
        if verified.status != "ok" or root.hex() != a.head:
            raise AnchorMismatch(f"{where}: the transaction on chain did not anchor this head "
                                 f"(status {verified.status}, root 0x{root.hex()})")  # fmt: skip
        check.anchored.append({"seq": a.seq, "head": "0x" + a.head, "tx_hash": "0x" + a.tx_hash,
                               "height": verified.height})  # fmt: skip
        if a.stamper not in stampers:
            stampers.append(a.stamper)
    notary = NotaryClient(client)
    for stamper in stampers:
        start, count = 1, 1
        while start <= count:
            page = notary.stamper(stamper, start=start, limit=STAMPER_PAGE)
            count = int(page["count"])
            for record in page["roots"]:
                root = str(record["root"]).removeprefix("0x")
                check.roots_on_chain += 1
                if root not in hashes:
                    raise AnchorMismatch(
                        f"the root 0x{root} that {stamper} anchored at height {record['height']} is "
                        "no entry of this log: the log was rewritten after it was anchored (or the "
                        "anchoring key anchors other documents too)")  # fmt: skip
            start += STAMPER_PAGE
    check.stampers = stampers
    return check
