"""The node side of sealed content (issue 14, decisions/0024): keep what the chain names, serve
it to whom it concerns, and erase it when an erasure commits.

* **Upload** (:meth:`SealedContentService.upload`): a sealed object for an on-chain object (an
  scf invoice) is kept only if the object's record carries exactly its ref (SHA-256 of the
  ciphertext), the ref was never erased, its envelopes are exactly one for each party of the
  object and one for the supervisor (so the regulator can always read), the uploader is one of
  the parties, and this node's organisation is concerned (a party's or the supervisor's). The
  answer names the stores of the other concerned organisations (``privacy.store_of``), to which
  the uploader sends the same bytes: replication is the uploader's, signed as itself.
* **Read** (:meth:`SealedContentService.read`): the ciphertext and the caller's envelope, with
  the object's parties read from the chain (the API's CONCERNS rule decides on them).
* **Erasure**: every commit is watched for ``privacy.Erased``; the store's file for that ref is
  overwritten and unlinked. At start, every kept ref is checked against the chain's erasures
  (a node that was down when the erasure committed erases on its next start).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from consortia.apps.privacy import sdk
from consortia.apps.privacy.store import Kept, SealedStore
from consortia.apps.scf.sdk import SCF
from consortia.codec import decode, decode_any
from consortia.contracts.permissioned.directory import identity, orgs
from consortia.contracts.python.errors import ContractFailed, NoSuchContract
from consortia.crypto import envelope as env
from consortia.errors import ConsortiaError, DecodeError, NotFound
from consortia.execution.context import BlockContext
from consortia.node.ca_rollover import issued_by
from consortia.node.chain import Chain, ExecutedBlock
from consortia.node.network_setup import tls_files
from consortia.node.node import Node
from consortia.p2p.certs import load_certificate
from consortia.p2p.errors import CertificateError
from consortia.types.block import CommittedBlock

log = logging.getLogger("consortia.privacy")

MAX_UPLOAD_BYTES = env.MAX_CONTENT_BYTES + 64 * 1024
"""A sealed object's encoding: the content, the nonce and tag, envelopes and framing."""


class BadUpload(ConsortiaError):
    code = "bad_sealed_upload"


class NotConcerned(ConsortiaError):
    """This node's organisation is neither a party's nor the supervisor's."""

    code = "not_concerned"
    http_status = 403


class ContentErased(ConsortiaError):
    code = "erased"
    http_status = 410


class ContentNotKept(NotFound):
    code = "content_not_kept"


class NoSupervisor(ConsortiaError):
    code = "no_supervisor"
    http_status = 409


@dataclass(frozen=True)
class OnChain:
    """What the chain says of an object that carries sealed content."""

    ref: bytes
    parties: list[bytes]


def chain_view(chain: Chain, contract: str, method: str, *args: Any) -> Any:
    header = chain.head_header
    block = BlockContext(chain.chain_id, header.height, header.timestamp_ms, header.proposer)
    with chain.store.snapshot() as state:
        try:
            return chain.contract_host.run_view(state, block, contract, method, list(args))
        except NoSuchContract:
            raise NotFound(f"the {contract} application is not deployed on this chain") from None


def object_on_chain(chain: Chain, kind: str, object_id: bytes) -> OnChain:
    """The ref an object's record carries and its parties (each kind of sealed content names how)."""
    if kind == sdk.SCF_INVOICE:
        try:
            record = chain_view(chain, SCF, "invoice", object_id)
        except ContractFailed as exc:
            raise BadUpload(f"no invoice 0x{object_id.hex()} is registered: {exc.message}") from None
        return OnChain(bytes(record.get("content", b"")), [bytes(record["seller"]), bytes(record["buyer"])])
    raise BadUpload(f"sealed content is of a kind {list(sdk.KINDS)}, got {kind!r:.40}")


class SealedContentService:
    """Owned by one node's API: its store, the checks against the chain, the erasure watcher."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.chain = node.chain
        self.store = SealedStore(node.home)
        self.erased_here = 0
        self._retry: set[bytes] = set()
        self._org: str | None = None

    # --- who this node is -----------------------------------------------------------------------

    def org(self) -> str | None:
        """This node's organisation: its validator key's identity's, or the organisation whose CA
        issued its TLS certificate; None when neither says (a chain without organisations)."""
        if self._org is not None:
            return self._org
        state_get = self.chain.store.state_get
        record = identity(state_get, self.node.key.address)
        if record is not None:
            self._org = record.org
            return self._org
        try:
            cert = load_certificate(tls_files(self.node.home).cert.read_bytes())
        except (OSError, ValueError, CertificateError):
            return None
        found = [o.name for o in orgs(state_get, active_only=True) if o.ca_pem and issued_by(cert, o.ca_pem)]
        self._org = found[0] if len(found) == 1 else None
        return self._org

    def org_of(self, address: bytes) -> str | None:
        record = identity(self.chain.store.state_get, address)
        return None if record is None else record.org

    def supervisor(self) -> bytes:
        found = chain_view(self.chain, sdk.PRIVACY, "supervisor")
        if found is None:
            raise NoSupervisor("the regulator has named no supervisor key (privacy.set_supervisor): "
                               "content cannot be sealed so that the regulator reads it")
        return bytes(found["address"])

    def erasure(self, ref: bytes) -> Any:
        return chain_view(self.chain, sdk.PRIVACY, "erasure", ref)

    def info(self) -> dict[str, Any]:
        return {"org": self.org(), "kept": self.store.count(), "erased_here": self.erased_here,
                "max_upload_bytes": MAX_UPLOAD_BYTES}

    # --- uploads --------------------------------------------------------------------------------

    def upload(self, body: bytes, uploader: bytes | None) -> dict[str, Any]:
        try:
            kept = decode(body, Kept)
            sealed = env.from_bytes(env.to_bytes(kept.sealed))
        except (DecodeError, ConsortiaError) as exc:
            raise BadUpload(f"an upload is the canonical encoding of [kind, object id, sealed]: "
                            f"{getattr(exc, 'message', exc)}") from None
        found = object_on_chain(self.chain, kept.kind, kept.object_id)
        ref = sealed.ref
        if found.ref != ref:
            raise BadUpload(f"the object 0x{kept.object_id.hex()} carries sealed content "
                            f"0x{found.ref.hex() or 'none'}, not 0x{ref.hex()}: nothing was kept")
        if self.erasure(ref) is not None:
            raise ContentErased(f"content 0x{ref.hex()} was erased by the regulator; it is never kept again")
        supervisor = self.supervisor()
        wanted = sorted({*found.parties, supervisor})
        if uploader is not None and uploader not in found.parties:
            raise NotConcerned(f"0x{uploader.hex()} is not a party of the object; its parties upload")
        concerned = {self.org_of(a) for a in wanted} - {None}
        mine = self.org()
        if mine is not None and mine not in concerned:
            raise NotConcerned(f"this node is {mine!r}'s; the content concerns {sorted(concerned)}: "
                               "send it to their stores")
        if sealed.recipients != wanted:
            raise BadUpload("the envelopes are one for each party and one for the supervisor: "
                            f"{['0x' + a.hex() for a in wanted]}; got "
                            f"{['0x' + a.hex() for a in sealed.recipients]}")
        self.store.put(kept.kind, kept.object_id, sealed)
        others = sorted(concerned - {mine})
        stores = {o: chain_view(self.chain, sdk.PRIVACY, "store_of", o) for o in others}
        return {"ref": "0x" + ref.hex(), "kept": True, "org": mine,
                "replicate_to": {o: url for o, url in stores.items() if url},
                "no_store": [o for o, url in stores.items() if not url]}

    # --- reads ----------------------------------------------------------------------------------

    def read(self, ref: bytes, reader: bytes | None) -> dict[str, Any]:
        if self.erasure(ref) is not None:
            self.erase(ref)  # a copy that arrived after the erasure's commit (or failed to go)
            raise ContentErased(f"content 0x{ref.hex()} was erased by the regulator")
        kept = self.store.get(ref)
        if kept is None:
            raise ContentNotKept(f"node {self.node.config.name} keeps no content 0x{ref.hex()}")
        found = object_on_chain(self.chain, kept.kind, kept.object_id)
        sealed = kept.sealed if reader is None else kept.sealed.only_for(reader)
        return {"ref": "0x" + ref.hex(), "kind": kept.kind, "object": "0x" + kept.object_id.hex(),
                "parties": ["0x" + p.hex() for p in found.parties],
                "ciphertext": "0x" + sealed.ciphertext.hex(),
                "envelopes": [{"recipient": "0x" + a.hex(), "sealed_key": "0x" + s.hex()}
                              for a, s in sealed.envelopes]}

    # --- erasure --------------------------------------------------------------------------------

    def erase(self, ref: bytes) -> None:
        try:
            if self.store.erase(ref):
                self.erased_here += 1
                log.info("erased sealed content 0x%s (privacy.Erased)", ref.hex())
            self._retry.discard(ref)
        except OSError as exc:
            self._retry.add(ref)
            log.error("could not erase sealed content 0x%s: %s (retried at the next commit)", ref.hex(), exc)

    def on_commit(self, executed: ExecutedBlock, committed: CommittedBlock) -> None:
        """A commit listener: erase what an erasure in this block names (and earlier failures)."""
        for ref in list(self._retry):
            self.erase(ref)
        for receipt in executed.receipts:
            for event in receipt.events:
                if event.contract == sdk.PRIVACY and event.name == sdk.ERASED_EVENT:
                    try:
                        self.erase(sdk.erased_ref(decode_any(event.data, dict[str, Any])))
                    except (DecodeError, ConsortiaError, KeyError, TypeError) as exc:
                        log.error("an Erased event that does not decode: %s", exc)

    def sweep(self) -> int:
        """Erase every kept ref the chain has erased (at start); how many."""
        erased = 0
        for ref in self.store.refs():
            try:
                if self.erasure(ref) is not None:
                    self.erase(ref)
                    erased += 1
            except NotFound:
                return erased  # no privacy application on this chain
        return erased
