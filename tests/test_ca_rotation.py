"""rotate-ca in process (decisions/0019): what passes replaces the organisation's CA and records
the change; every refusal (bad signature, unknown organisation, a CA that is not valid, a stale
or repeated request, a proposer off the committee) names what is wrong and changes nothing. The
node side's pure parts: which CAs a peer is accepted with at each height, when a node switches,
and the pin check with the old and the new CA."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest
from msgspec.structs import replace

from consortia.codec import encode
from consortia.contracts.permissioned import org, proposals
from consortia.contracts.permissioned.ca_rotation import (
    CA_OVERLAP_BLOCKS,
    CaChange,
    ca_changes,
    ca_spki_sha256,
)
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args
from consortia.contracts.permissioned.harness import Consortium, Outcome, consortium
from consortia.crypto.keys import KeyPair
from consortia.execution.accounts import account_key
from consortia.node.ca_rollover import accepted_cas, due_switch
from consortia.p2p.certs import create_ca, issue_node_cert, load_certificate
from consortia.p2p.errors import PinMismatch
from consortia.p2p.pinning import PeerPin, spki_sha256, verify_peer_certificate
from consortia.types.ca_rotation import (
    CA_ROTATION_FORMAT,
    CaRotationBody,
    CaRotationRequest,
    ca_rotation_signing_bytes,
)

NOW_MS = time.time_ns() // 1_000_000


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cas")
    out = {}
    for label in ("old", "new", "third"):
        out[label], _ = create_ca("bank-a", root / label)
    out["node"], _ = issue_node_cert(out["old"], out["old"].with_suffix(".key"), 1, "node", root / "node")
    # the chain's time in these tests: now, once the CAs exist (they are valid from a few minutes
    # before their making; a clock read at import could be earlier than that on a slow run)
    global NOW_MS
    NOW_MS = time.time_ns() // 1_000_000
    return out


def request(old_pem: bytes, new_pem: bytes, signer: KeyPair, org_name: str = "bank-a") -> CaRotationRequest:
    body = CaRotationBody(CA_ROTATION_FORMAT, org_name, ca_spki_sha256(old_pem), new_pem, NOW_MS)
    return CaRotationRequest(body, signer.public_key, signer.sign(ca_rotation_signing_bytes(body)))


def chain(cas: dict[str, Path]) -> Consortium:
    net = consortium(ca_pems={"bank-a": cas["old"].read_bytes(), "cb": cas["third"].read_bytes()})
    net.harness.timestamp_ms = NOW_MS
    net.harness.next_block(2)
    return net


def propose(net: Consortium, payload: bytes, sender: bytes | None = None) -> Outcome:
    who = net.admins["cb"].address if sender is None else sender
    args = encode_propose_args("rotate-ca", payload, net.harness.height + 100)
    return net.harness.call(who, "governance", "propose", args)


def passed(net: Consortium, payload: bytes) -> Outcome:
    out = propose(net, payload)
    assert out.ok, out.message
    pid = proposals(net.harness.get)[-1].id
    net.harness.call(net.admins["bank-a"].address, "governance", "vote", encode_vote_args(pid, True))
    return net.harness.call(net.admins["bank-b"].address, "governance", "vote", encode_vote_args(pid, True))


def test_a_rotation_replaces_the_ca_and_records_when_it_takes_effect(cas: dict[str, Path]) -> None:
    net = chain(cas)
    old, new = cas["old"].read_bytes(), cas["new"].read_bytes()
    out = passed(net, encode(request(old, new, net.admins["bank-a"])))
    assert out.ok, out.message
    record = proposals(net.harness.get)[-1]
    assert record.status == "executed", record.outcome
    assert org(net.harness.get, "bank-a").ca_pem == new  # type: ignore[union-attr]
    [change] = ca_changes(net.harness.get)
    h = net.harness.height
    assert (change.org, change.old_ca_pem, change.new_ca_pem) == ("bank-a", old, new)
    assert (change.height, change.effective_height) == (h, h + 2)
    assert change.retire_height == h + 2 + CA_OVERLAP_BLOCKS
    assert f"from height {h + 2}" in record.outcome
    assert f"until height {h + 2 + CA_OVERLAP_BLOCKS}" in record.outcome

    # the next rotation waits for the overlap to end, and may not go back to an old CA
    again = propose(net, encode(request(new, cas["third"].read_bytes(), net.admins["bank-a"])))
    assert not again.ok and "still in its overlap until height" in again.message
    net.harness.next_block(2 + CA_OVERLAP_BLOCKS)
    back = propose(net, encode(request(new, old, net.admins["bank-a"])))
    assert not back.ok and "one it had before" in back.message


def _refused(net: Consortium, payload: bytes, sender: bytes | None = None) -> Outcome:
    before = dict(net.harness.state.data)
    who = net.admins["cb"].address if sender is None else sender
    out = propose(net, payload, who)
    assert not out.ok
    after = net.harness.state.data
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # only the sender's account (its nonce: a refused transaction is still ordered) may change
    assert changed <= {account_key(who)}, changed
    assert ca_changes(net.harness.get) == []
    return out


def test_refusals_name_what_is_wrong_and_change_nothing(cas: dict[str, Path]) -> None:
    net = chain(cas)
    old, new = cas["old"].read_bytes(), cas["new"].read_bytes()
    admin = net.admins["bank-a"]
    good = request(old, new, admin)

    forged = replace(good, body=replace(good.body, new_ca_pem=cas["third"].read_bytes()))
    assert "bad signature" in _refused(net, encode(forged)).message
    by_other = request(old, new, net.admins["bank-b"])
    assert "not by an admin of 'bank-a'" in _refused(net, encode(by_other)).message
    unknown = request(old, new, admin, org_name="bank-z")
    assert "unknown organisation 'bank-z'" in _refused(net, encode(unknown)).message
    no_ca = request(old, new, net.admins["bank-b"], org_name="bank-b")
    assert "has no CA on chain" in _refused(net, encode(no_ca)).message
    stale = request(cas["third"].read_bytes(), new, admin)
    assert "the request is stale" in _refused(net, encode(stale)).message
    not_ca = request(old, cas["node"].read_bytes(), admin)
    assert "is not valid: it lacks basicConstraints CA:TRUE" in _refused(net, encode(not_ca)).message
    garbage = request(old, b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", admin)
    assert "is not valid: not a PEM X.509 certificate" in _refused(net, encode(garbage)).message
    same = request(old, old, admin)
    assert "is its current CA" in _refused(net, encode(same)).message
    assert "canonical CaRotationRequest" in _refused(net, b"\x01\x02").message
    clerk = net.member("bank-b", "clerk").address  # a member, not an admin: off the committee
    out = _refused(net, encode(good), sender=clerk)
    assert out.code == "not_committee_member" and "only organisation admins" in out.message, out

    net.harness.timestamp_ms = 1_600_000_000_000  # before the new CA's notBefore
    assert "not at this block's time" in _refused(net, encode(good)).message
    net.harness.timestamp_ms = NOW_MS
    assert propose(net, encode(good)).ok


def _change(old: bytes, new: bytes, height: int, effective: int, retire: int) -> CaChange:
    return CaChange("bank-a", old, new, 1, height, effective, retire)


def test_peers_are_accepted_with_both_cas_until_the_old_one_retires(cas: dict[str, Path]) -> None:
    old, new, third = (cas[k].read_bytes() for k in ("old", "new", "third"))
    first = _change(old, new, 10, 12, 20)
    pinned = ca_spki_sha256(old)
    assert accepted_cas([first], pinned, 9) is None
    assert accepted_cas([first], pinned, 10) == [new, old]
    assert accepted_cas([first], pinned, 19) == [new, old]
    assert accepted_cas([first], pinned, 20) == [new]
    assert accepted_cas([first], ca_spki_sha256(third), 30) is None  # another organisation's CA
    second = _change(new, third, 25, 27, 40)
    assert accepted_cas([first, second], pinned, 26) == [third, new]
    assert accepted_cas([first, second], pinned, 40) == [third]

    node = load_certificate(cas["node"])
    assert due_switch([first], node, 11) is None
    assert due_switch([first], node, 12) == first
    assert due_switch([second], node, 30) is None  # not issued by the CA that rotated


def test_the_pin_check_takes_either_ca_during_the_overlap(cas: dict[str, Path], tmp_path: Path) -> None:
    node_key = cas["node"].with_suffix(".key")
    renewed, _ = issue_node_cert(cas["new"], cas["new"].with_suffix(".key"), 1, "node", tmp_path,
                                 key_path=node_key)
    old_ca, new_ca = load_certificate(cas["old"]), load_certificate(cas["new"])
    key_pin = spki_sha256(load_certificate(renewed))
    at = datetime.datetime.now(datetime.UTC)
    assert verify_peer_certificate(renewed, PeerPin(1, key_pin, old_ca, (new_ca,)), at=at) == 1
    assert verify_peer_certificate(cas["node"], PeerPin(1, key_pin, new_ca, (old_ca,)), at=at) == 1
    with pytest.raises(PinMismatch, match="not by"):
        verify_peer_certificate(renewed, PeerPin(1, key_pin, old_ca), at=at)
