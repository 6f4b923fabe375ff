"""apps/health (issue 12) in process: records encrypted off chain, the ``health`` contract's
consent grants, revocation, emergency openings with alerts, signed and logged fetches; every
refusal typed and changing nothing; the cryptography of records, data keys and fetch requests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.apps.genesis import app_records
from consortia.apps.health import records as rec
from consortia.apps.health import sdk
from consortia.apps.health.errors import (
    BadFetchRequest,
    BadFetchSignature,
    CannotOpenRecord,
    StaleFetchRequest,
)
from consortia.client.arguments import InvalidArgument
from consortia.client.health import check_record, parse_until
from consortia.contracts.permissioned.alerting import alerts
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, Consortium, Outcome, consortium
from consortia.contracts.python.host import PythonContractHost
from consortia.crypto.keys import KeyPair
from consortia.types.transaction import Call

ORGS = (*DEFAULT_ORGS, ("hosp-a", "hospital"), ("hosp-b", "hospital"), ("insurer", "enterprise"))
PLAINTEXT = b"Patient: Jane Q. Example, born 1970-01-01. Diagnosis: type 2 diabetes mellitus."
DAY_MS = 86_400_000
HEALTH_PREFIX = b"c/s/health"


@dataclass
class World:
    net: Consortium
    host: PythonContractHost
    keys: dict[str, KeyPair] = field(default_factory=dict)

    @property
    def h(self) -> Any:
        return self.net.harness

    def __getitem__(self, name: str) -> KeyPair:
        return self.keys[name]

    def send(self, who: str, call: Call) -> Outcome:
        return self.h.call(self[who].address, call.contract, call.method, call.args)

    def view(self, method: str, *args: Any) -> Any:
        return self.host.run_view(self.h.state, self.h.block(), sdk.HEALTH, method, list(args))

    def health_keys(self) -> int:
        return sum(1 for k in self.h.state.data if k.startswith(HEALTH_PREFIX))


@pytest.fixture
def w() -> World:
    net = consortium(ORGS)
    net.harness.state.data.update(app_records("ed25519"))
    world = World(net, net.harness.enable_contracts())
    for org, label, role in [("hosp-a", "doctor-a", "member"), ("hosp-a", "node-a", "member"),
                             ("hosp-b", "doctor-b", "member"), ("insurer", "insurer", "member"),
                             ("bank-a", "patient", "member"), ("bank-b", "stranger", "member")]:
        world.keys[label] = net.member(org, label, role=role)
    for label in list(world.keys):
        out = world.send(label, sdk.register_key_call(rec.sealing_public_key(world[label])))
        assert out.ok, out.message
    return world


@dataclass
class Stored:
    record: bytes
    blob: bytes
    data_key: bytes


def put(w: World, plaintext: bytes = PLAINTEXT) -> Stored:
    data_key, blob = rec.encrypt_record(plaintext)
    record = rec.record_id(blob)
    call = sdk.put_call(record, w["patient"].address, w["node-a"].address,
                        rec.seal_data_key(rec.sealing_public_key(w["patient"]), data_key),
                        rec.seal_data_key(rec.sealing_public_key(w["node-a"]), data_key))
    out = w.send("doctor-a", call)
    assert out.ok, out.message
    assert out.event_names() == ["HealthRecordStored"]
    return Stored(record, blob, data_key)


def grant(w: World, s: Stored, to: str, days: int = 30, purpose: str = "treatment") -> Outcome:
    patient_data_key = rec.open_data_key(w["patient"], w.view("record", s.record)["sealed_patient"])
    sealed = rec.seal_data_key(w.view("key_of", w[to].address), patient_data_key)
    return w.send("patient", sdk.grant_call(s.record, w[to].address, purpose,
                                            w.h.timestamp_ms + days * DAY_MS, sealed))


def fetch(w: World, s: Stored, reader: str, request: rec.FetchRequest | None = None) -> Outcome:
    request = request or rec.sign_fetch(w[reader], w.h.chain_id, s.record, w.h.timestamp_ms)
    checked = rec.check_fetch(request, "ed25519", w.h.chain_id, w.h.timestamp_ms, sdk.FETCH_WINDOW_MS)
    return w.send("node-a", sdk.log_access_call(checked))


def refused(w: World, who: str, call: Call, code: str) -> Outcome:
    before = dict(w.h.state.data)
    out = w.send(who, call)
    assert out.code == code, (out.code, out.message)
    changed = {k for k, v in w.h.state.data.items() if before.get(k) != v}
    assert not any(k.startswith(HEALTH_PREFIX) for k in changed), "a refusal changed the contract's state"
    return out


# --- cryptography -------------------------------------------------------------------------------


def test_a_record_opens_only_with_its_data_key_and_unaltered() -> None:
    key, blob = rec.encrypt_record(PLAINTEXT)
    assert rec.decrypt_record(key, blob) == PLAINTEXT
    other, blob2 = rec.encrypt_record(PLAINTEXT)
    assert other != key and blob2 != blob and PLAINTEXT not in blob  # a fresh key and nonce each time
    with pytest.raises(CannotOpenRecord):
        rec.decrypt_record(other, blob)
    for i in (0, 12, len(blob) - 1):
        altered = bytearray(blob)
        altered[i] ^= 1
        with pytest.raises(CannotOpenRecord):
            rec.decrypt_record(key, bytes(altered))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2048), st.data())
def test_any_record_round_trips_and_any_changed_byte_is_caught(plaintext: bytes, data: st.DataObject) -> None:
    key, blob = rec.encrypt_record(plaintext)
    assert rec.decrypt_record(key, blob) == plaintext and len(blob) == len(plaintext) + 28
    i = data.draw(st.integers(0, len(blob) - 1))
    flip = data.draw(st.integers(1, 255))
    altered = blob[:i] + bytes([blob[i] ^ flip]) + blob[i + 1:]
    with pytest.raises(CannotOpenRecord):
        rec.decrypt_record(key, altered)


def test_a_sealed_data_key_opens_only_with_its_holders_key() -> None:
    alice, bob = KeyPair.generate(), KeyPair.generate()
    data_key = os.urandom(32)
    sealed = rec.seal_data_key(rec.sealing_public_key(alice), data_key)
    assert len(sealed) == rec.SEALED_KEY_BYTES
    assert rec.open_data_key(alice, sealed) == data_key
    with pytest.raises(CannotOpenRecord):
        rec.open_data_key(bob, sealed)
    with pytest.raises(CannotOpenRecord):
        rec.open_data_key(alice, sealed[:-1] + bytes([sealed[-1] ^ 1]))


def test_fetch_requests_are_checked() -> None:
    key = KeyPair.generate()
    record = os.urandom(32)
    request = rec.sign_fetch(key, "c", record, 1_000_000)
    checked = rec.check_fetch(request, "ed25519", "c", 1_000_000 + 299_000, 300_000)
    assert checked.reader == key.address and checked.record == record
    with pytest.raises(StaleFetchRequest):
        rec.check_fetch(request, "ed25519", "c", 1_000_000 + 300_001, 300_000)
    with pytest.raises(BadFetchSignature):  # another chain
        rec.check_fetch(request, "ed25519", "other", 1_000_000, 300_000)
    other = KeyPair.generate()
    with pytest.raises(BadFetchSignature):  # someone else's key put in
        swapped = rec.FetchRequest(request.record, "0x" + other.public_key.hex(), request.timestamp_ms,
                                   request.nonce, request.signature)
        rec.check_fetch(swapped, "ed25519", "c", 1_000_000, 300_000)
    with pytest.raises(BadFetchRequest, match="nonce"):
        rec.check_fetch(rec.FetchRequest(request.record, request.public_key, request.timestamp_ms, "0x00",
                                         request.signature), "ed25519", "c", 1_000_000, 300_000)


def test_client_argument_checks() -> None:
    assert parse_until("2025-01-31") == 1_738_368_000_000  # through that day: 2025-02-01T00:00Z
    assert parse_until("2025-01-31T18:00:00+01:00") == 1_738_342_800_000
    for bad in ("2025-01-31T18:00:00", "31/01/2025", "tomorrow", ""):
        with pytest.raises(InvalidArgument):
            parse_until(bad)
    digest = os.urandom(32)
    assert check_record(digest) == digest == check_record("0x" + digest.hex()) == check_record(digest.hex())
    for bad in (digest[:31], "0x" + "zz" * 32, "0x" + "00" * 33, 5):
        with pytest.raises(InvalidArgument):
            check_record(bad)  # type: ignore[arg-type]


# --- the contract -------------------------------------------------------------------------------


def test_put_grant_fetch_revoke_refused(w: World) -> None:
    s = put(w)
    record = w.view("record", s.record)
    assert (record["patient"], record["hospital"], record["custodian"]) == (
        w["patient"].address, "hosp-a", w["node-a"].address)
    assert w.view("patient_count", w["patient"].address) == 1
    assert w.view("patient_record", w["patient"].address, 1) == s.record
    assert w.view("access", s.record, w["doctor-b"].address) == ""
    refused(w, "node-a", sdk.log_access_call(rec.check_fetch(
        rec.sign_fetch(w["doctor-b"], w.h.chain_id, s.record, w.h.timestamp_ms), "ed25519", w.h.chain_id,
        w.h.timestamp_ms, sdk.FETCH_WINDOW_MS)), "no_access")

    out = grant(w, s, "doctor-b", purpose="second opinion")
    assert out.ok, out.message
    assert w.view("access", s.record, w["doctor-b"].address) == "consent"
    served = fetch(w, s, "doctor-b")
    assert served.ok and served.event_names() == ["HealthAccessed"], served.message
    # the grantee opens its sealed data key from the chain and decrypts what the node served
    sealed = w.view("grant_of", s.record, w["doctor-b"].address)["sealed_key"]
    assert rec.decrypt_record(rec.open_data_key(w["doctor-b"], sealed), s.blob) == PLAINTEXT
    assert w.view("grant_of", s.record, w["doctor-b"].address)["accesses"] == 1

    out = w.send("patient", sdk.revoke_call(s.record, w["doctor-b"].address))
    assert out.ok and out.event_names() == ["HealthRevoked"]
    assert w.view("access", s.record, w["doctor-b"].address) == ""
    request = rec.sign_fetch(w["doctor-b"], w.h.chain_id, s.record, w.h.timestamp_ms)
    checked = rec.check_fetch(request, "ed25519", w.h.chain_id, w.h.timestamp_ms, sdk.FETCH_WINDOW_MS)
    refused(w, "node-a", sdk.log_access_call(checked), "no_access")
    refused(w, "patient", sdk.revoke_call(s.record, w["doctor-b"].address), "no_live_grant")

    kinds = [(e["kind"], e["detail"]) for e in w.view("log", s.record, 1, 100)]
    assert kinds == [("stored", "hosp-a"), ("granted", "second opinion"), ("access", "consent"),
                     ("revoked", "second opinion")]


def test_a_grant_ends_at_its_date(w: World) -> None:
    s = put(w)
    assert grant(w, s, "insurer", days=1, purpose="claim 2024-17").ok
    assert fetch(w, s, "insurer").ok
    w.h.next_block(1, DAY_MS)
    assert w.view("access", s.record, w["insurer"].address) == ""
    assert fetch(w, s, "insurer").code == "no_access"


def test_a_fetch_request_is_served_once_and_only_fresh(w: World) -> None:
    s = put(w)
    assert grant(w, s, "doctor-b").ok
    request = rec.sign_fetch(w["doctor-b"], w.h.chain_id, s.record, w.h.timestamp_ms)
    assert fetch(w, s, "doctor-b", request).ok
    w.h.next_block()
    assert fetch(w, s, "doctor-b", request).code == "replayed_request"
    old = rec.sign_fetch(w["doctor-b"], w.h.chain_id, s.record, w.h.timestamp_ms - sdk.FETCH_WINDOW_MS - 1)
    checked = rec.check_fetch(old, "ed25519", w.h.chain_id, old.timestamp_ms, sdk.FETCH_WINDOW_MS)
    refused(w, "node-a", sdk.log_access_call(checked), "stale_request")
    forged = rec.CheckedFetch(checked.record, checked.public_key, checked.reader, w.h.timestamp_ms,
                              checked.nonce, checked.signature)
    refused(w, "node-a", sdk.log_access_call(forged), "bad_signature")
    # only the record's custodian logs accesses
    signed = rec.sign_fetch(w["doctor-b"], w.h.chain_id, s.record, w.h.timestamp_ms)
    fresh = rec.check_fetch(signed, "ed25519", w.h.chain_id, w.h.timestamp_ms, sdk.FETCH_WINDOW_MS)
    refused(w, "doctor-a", sdk.log_access_call(fresh), "not_custodian")


def test_the_patient_reads_their_own_record(w: World) -> None:
    s = put(w)
    out = fetch(w, s, "patient")
    assert out.ok and w.view("access", s.record, w["patient"].address) == "patient"
    data_key = rec.open_data_key(w["patient"], w.view("record", s.record)["sealed_patient"])
    assert rec.decrypt_record(data_key, s.blob) == PLAINTEXT


def test_break_glass_is_allowed_alerted_and_logged(w: World) -> None:
    s = put(w)
    out = w.send("doctor-b", sdk.break_glass_call(s.record, "unconscious on arrival, ED"))
    assert out.ok and out.event_names() == ["Alert", "HealthBreakGlass"], out.message
    assert w.view("access", s.record, w["doctor-b"].address) == "break-glass"
    assert fetch(w, s, "doctor-b").ok
    raised = alerts(w.h.get, limit=100)
    assert [a.rule for a in raised] == ["health.break_glass"]
    assert raised[0].address == w["doctor-b"].address and w["patient"].address.hex() in raised[0].detail
    assert w.view("alert_count", w["patient"].address) == 1
    alert = w.view("alert", w["patient"].address, 1)
    assert (alert["doctor"], alert["org"], alert["record"]) == (w["doctor-b"].address, "hosp-b", s.record)
    kinds = [(e["kind"], e["party"]) for e in w.view("log", s.record, 1, 100)]
    assert kinds[1:] == [("break-glass", w["doctor-b"].address), ("access", w["doctor-b"].address)]
    w.h.next_block(1, sdk.BREAK_GLASS_MS)
    assert w.view("access", s.record, w["doctor-b"].address) == ""
    # an insurer is no clinician: no emergency opening for it
    refused(w, "insurer", sdk.break_glass_call(s.record, "need it"), "not_hospital_staff")


def test_refusals_are_typed_and_change_nothing(w: World) -> None:
    s = put(w)
    assert w.health_keys() > 10  # the prefix the refusals are checked under is the contract's
    patient, sealed, na, ins = w["patient"].address, bytes(80), w["node-a"].address, w["insurer"].address
    ok_until, new = w.h.timestamp_ms + DAY_MS, os.urandom(32)
    cases: list[tuple[str, Call, str]] = [
        ("stranger", sdk.put_call(new, patient, na, sealed, sealed), "not_hospital_staff"),
        ("doctor-a", sdk.put_call(s.record, patient, na, sealed, sealed), "record_exists"),
        ("doctor-a", sdk.put_call(b"x" * 31, patient, na, sealed, sealed), "bad_record"),
        ("doctor-a", sdk.put_call(new, bytes(20), na, sealed, sealed), "bad_patient"),
        ("doctor-a", sdk.put_call(new, patient, w["doctor-b"].address, sealed, sealed),
         "bad_custodian"),
        ("doctor-a", sdk.put_call(new, patient, na, sealed[:79], sealed),
         "bad_sealed_key"),
        ("doctor-b", sdk.grant_call(s.record, ins, "x", ok_until, sealed), "not_patient"),
        ("patient", sdk.grant_call(new, ins, "x", ok_until, sealed),
         "record_not_found"),
        ("patient", sdk.grant_call(s.record, patient, "x", ok_until, sealed), "bad_grantee"),
        ("patient", sdk.grant_call(s.record, bytes(20), "x", ok_until, sealed), "bad_grantee"),
        ("patient", sdk.grant_call(s.record, ins, "", ok_until, sealed), "bad_purpose"),
        ("patient", sdk.grant_call(s.record, ins, "p" * 201, ok_until, sealed), "bad_purpose"),
        ("patient", sdk.grant_call(s.record, ins, "x", w.h.timestamp_ms, sealed), "bad_until"),
        ("patient", sdk.grant_call(s.record, ins, "x", ok_until, b"\x00" * 81), "bad_sealed_key"),
        ("patient", sdk.revoke_call(s.record, ins), "no_live_grant"),
        ("doctor-b", sdk.break_glass_call(s.record, ""), "bad_reason"),
        ("doctor-b", sdk.break_glass_call(new, "emergency"), "record_not_found"),
        ("patient", sdk.register_key_call(b"k" * 31), "bad_key"),
    ]
    for who, call, code in cases:
        refused(w, who, call, code)
    # a grantee with no published sealing key cannot be sealed to
    unkeyed = w.net.member("insurer", "unkeyed")
    refused(w, "patient", sdk.grant_call(s.record, unkeyed.address, "x", ok_until, sealed), "no_sealing_key")
    assert w.view("log_count", s.record) == 1


def test_no_plaintext_or_name_reaches_the_contract_state(w: World) -> None:
    s = put(w)
    assert grant(w, s, "doctor-b").ok and fetch(w, s, "doctor-b").ok
    assert w.send("doctor-b", sdk.break_glass_call(s.record, "unconscious on arrival")).ok
    everything = b"".join(k + v for k, v in w.h.state.data.items())
    for secret in (PLAINTEXT, b"Jane Q. Example", b"diabetes", s.data_key):
        assert secret not in everything
