"""apps/privacy in process: sealing keys, the supervisor, organisations' stores, erasure requests
and the regulator's erasures (each refusal typed and changing nothing); scf invoices carrying the
reference of their sealed contents; the node's store of sealed content and its erasure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from consortia.apps.genesis import app_records
from consortia.apps.privacy import sdk
from consortia.apps.privacy.store import SealedStore
from consortia.apps.scf import sdk as scf
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, Consortium, Outcome, consortium
from consortia.contracts.python.host import PythonContractHost
from consortia.crypto import envelope as env
from consortia.crypto.keys import KeyPair
from consortia.types.transaction import Call

ORGS = (*DEFAULT_ORGS, ("core", "enterprise"), ("tier1", "enterprise"))


class World:
    def __init__(self) -> None:
        self.net: Consortium = consortium(ORGS)
        self.net.harness.state.data.update(app_records("ed25519"))
        self.host: PythonContractHost = self.net.harness.enable_contracts()
        self.keys = {label: self.net.member(org, label) for org, label in
                     [("core", "buyer"), ("tier1", "seller"), ("reg", "officer"), ("bank-a", "outsider")]}
        self.keys["reg-admin"] = self.net.admins["reg"]
        self.keys["core-admin"] = self.net.admins["core"]

    def send(self, who: str, call: Call) -> Outcome:
        return self.net.harness.call(self.keys[who].address, call.contract, call.method, call.args)

    def view(self, contract: str, method: str, *args: Any) -> Any:
        h = self.net.harness
        return self.host.run_view(h.state, h.block(), contract, method, list(args))

    def refused(self, who: str, call: Call, code: str) -> None:
        before = dict(self.net.harness.state.data)
        out = self.send(who, call)
        assert out.code == code, out.message
        changed = {k for k, v in self.net.harness.state.data.items() if before.get(k) != v}
        assert not any(k.startswith(b"c/s/") for k in changed), "a refusal changed a contract's state"


@pytest.fixture
def w() -> World:
    return World()


def test_keys_supervisor_and_stores(w: World) -> None:
    w.refused("officer", sdk.set_supervisor_call(), "no_sealing_key")
    w.refused("officer", sdk.register_key_call(bytes(31)), "bad_key")
    for who in ("officer", "buyer", "seller"):
        assert w.send(who, sdk.register_key_call(env.sealing_public_key(w.keys[who]))).ok
    assert w.view(sdk.PRIVACY, "key_of", w.keys["buyer"].address) == env.sealing_public_key(w.keys["buyer"])
    assert w.view(sdk.PRIVACY, "supervisor") is None
    w.refused("buyer", sdk.set_supervisor_call(), "not_regulator")
    assert w.send("officer", sdk.set_supervisor_call()).ok
    assert w.view(sdk.PRIVACY, "supervisor") == {"address": w.keys["officer"].address,
                                                  "key": env.sealing_public_key(w.keys["officer"])}
    w.refused("buyer", sdk.set_store_call("http://127.0.0.1:1"), "not_admin")
    w.refused("core-admin", sdk.set_store_call("ftp://x.example"), "bad_url")
    assert w.send("core-admin", sdk.set_store_call("http://127.0.0.1:8701")).ok
    assert w.view(sdk.PRIVACY, "store_of", "core") == "http://127.0.0.1:8701"
    assert w.view(sdk.PRIVACY, "store_of", "tier1") is None


def test_erasure_is_the_regulators_and_once(w: World) -> None:
    ref = bytes(range(32))
    w.refused("buyer", sdk.request_erasure_call(ref[:31], "GDPR art. 17"), "bad_ref")
    w.refused("buyer", sdk.request_erasure_call(ref, ""), "bad_reason")
    assert w.send("buyer", sdk.request_erasure_call(ref, "GDPR art. 17 request 2025-4")).ok
    w.refused("buyer", sdk.erase_call(ref, "approved"), "not_regulator")
    w.refused("core-admin", sdk.erase_call(ref, "approved"), "not_regulator")
    out = w.send("reg-admin", sdk.erase_call(ref, "approved: GDPR art. 17"))
    assert out.ok, out.message
    assert out.event_names() == [sdk.ERASED_EVENT]
    record = w.view(sdk.PRIVACY, "erasure", ref)
    assert record["by"] == w.keys["reg-admin"].address
    assert record["requested_by"] == w.keys["buyer"].address
    assert w.view(sdk.PRIVACY, "erased_count") == 1
    w.refused("officer", sdk.erase_call(ref, "again"), "already_erased")
    w.refused("buyer", sdk.request_erasure_call(ref, "again"), "already_erased")


def test_invoice_carries_its_sealed_contents_reference(w: World) -> None:
    seller, buyer = w.keys["seller"].address, w.keys["buyer"].address
    digest = scf.invoice_hash(seller, buyer, "INV-7", 5_000, "2025-03-01")
    plain = scf.invoice_hash(seller, buyer, "INV-8", 5_000, "2025-03-01")
    ref = bytes(32 * [7])
    call = scf.register_invoice(digest, buyer, 5_000, bytes(31))
    out = w.send("seller", Call(call.contract, call.method, scf_args(call)))
    assert out.code == "bad_hash"
    for d, content in ((digest, ref), (plain, b"")):
        call = scf.register_invoice(d, buyer, 5_000, content)
        out = w.send("seller", Call(call.contract, call.method, scf_args(call)))
        assert out.ok, out.message
    assert w.view(scf.SCF, "invoice", digest)["content"] == ref
    assert "content" not in w.view(scf.SCF, "invoice", plain)


def scf_args(call: scf.AppCall) -> bytes:
    from consortia.codec import encode

    return encode(call.args)


def test_store_keeps_and_erases(tmp_path: Path) -> None:
    key = KeyPair.generate()
    sealed = env.seal(b"INVOICE LINES: 10 steel coils", {key.address: env.sealing_public_key(key)},
                      sdk.context(sdk.SCF_INVOICE, bytes(32)))
    store = SealedStore(tmp_path)
    ref = store.put(sdk.SCF_INVOICE, bytes(32), sealed)
    assert ref == sealed.ref and store.has(ref) and store.count() == 1
    kept = store.get(ref)
    assert kept is not None and kept.sealed == sealed and kept.object_id == bytes(32)
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert sealed.ciphertext in raw
    assert store.erase(ref) is True
    assert store.get(ref) is None and not store.has(ref) and store.count() == 0
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert sealed.ciphertext not in raw
    assert store.erase(ref) is False
