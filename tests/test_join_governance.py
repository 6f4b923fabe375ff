"""join-org and rotate-validator in process (decisions/0015): what passes writes the
organisation, the epoch and the node directory; every refusal names what is wrong and changes
nothing; nodes check a directory entry's bundle again before dialling it."""

from __future__ import annotations

from pathlib import Path

import pytest
from msgspec.structs import replace

from consortia.api.perm_routes import payload_json
from consortia.codec import encode
from consortia.contracts.permissioned import identity_record, org, proposals, validator_set_at
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args
from consortia.contracts.permissioned.harness import Consortium, Outcome, consortium, seeded_key
from consortia.contracts.permissioned.node_directory import (
    NODE_COUNT,
    NodeEntry,
    joined_nodes,
    key_rotations,
    node_key,
    transport_keys,
)
from consortia.crypto.address import address_from_public_key
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.suites import get_suite
from consortia.node.org_home import export_bundle, init_org_home
from consortia.node.peer_directory import learnt_peers
from consortia.p2p.certs import load_certificate
from consortia.p2p.pinning import spki_sha256
from consortia.types.org_bundle import OrgBundle, bundle_signing_bytes


def propose(net: Consortium, kind: str, payload: bytes) -> Outcome:
    sender = net.admins["cb"].address
    return net.harness.call(sender, "governance", "propose", encode_propose_args(kind, payload, 100))


def passed(net: Consortium, kind: str, payload: bytes) -> Outcome:
    out = propose(net, kind, payload)
    assert out.ok, out.message
    pid = proposals(net.harness.get)[-1].id
    net.harness.call(net.admins["bank-a"].address, "governance", "vote", encode_vote_args(pid, True))
    return net.harness.call(net.admins["bank-b"].address, "governance", "vote", encode_vote_args(pid, True))


def make_bundle(root: Path, name: str = "bank-c", suite: str = "ed25519") -> OrgBundle:
    init_org_home(root / name, name, "bank", suite, None)
    return export_bundle(root / name, "10.0.0.9", 26700, 8600, None)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> OrgBundle:
    return make_bundle(tmp_path_factory.mktemp("join"))


def test_join_org_adds_the_organisation_its_validator_and_its_node(bundle: OrgBundle) -> None:
    net = consortium()
    h = net.harness
    h.next_block(4)
    out = passed(net, "join-org", encode(bundle))
    assert out.ok, out.message
    record = proposals(h.get)[-1]
    assert record.status == "executed", record.outcome
    assert "transport index 4 at 10.0.0.9:26700" in record.outcome
    body = bundle.body
    assert org(h.get, "bank-c").ca_pem == body.ca_pem  # type: ignore[union-attr]
    admin = address_from_public_key(get_suite("ed25519"), body.admin_public_key)
    assert identity_record(h.get, admin).role == "admin"  # type: ignore[union-attr]
    later = validator_set_at(h.get, h.height + 2, net.validators)
    genesis_keys = [v.public_key for v in net.validators]
    assert [v.public_key for v in later] == [*genesis_keys, body.validator_public_key]
    assert later[-1].name == "bank-c-validator"
    assert payload_json("join-org", record.payload)["body"]["name"] == "bank-c"
    [entry] = joined_nodes(h.get)
    assert (entry.index, entry.bundle) == (4, bundle)
    assert transport_keys(h.get, genesis_keys)[body.validator_public_key] == 4

    # every node checks the bundle again and pins its TLS key and its CA
    peers, refused = learnt_peers(h.get, 0, {1, 2, 3})
    assert refused == [] and len(peers) == 1
    peer = peers[0]
    assert (peer.index, peer.host, peer.port) == (4, "10.0.0.9", 26700)
    assert peer.pin.spki_sha256 == body.tls_spki_sha256
    assert peer.pin.ca_spki_sha256 == spki_sha256(load_certificate(body.ca_pem))
    assert learnt_peers(h.get, 4, {0, 1, 2, 3}) == ([], [])  # the node itself


def test_join_org_refusals_name_what_is_wrong(bundle: OrgBundle, tmp_path: Path) -> None:
    net = consortium()
    moved = OrgBundle(replace(bundle.body, host="10.6.6.6"), bundle.signature)
    sm2 = make_bundle(tmp_path, "bank-s", "sm2")
    taken = make_bundle(tmp_path, "cb")
    own = make_bundle(tmp_path, "bank-d")
    body = replace(own.body, validator_public_key=net.validators[0].public_key)
    admin = load_key_file(tmp_path / "bank-d" / "admin.key")
    in_set = OrgBundle(body, admin.sign(bundle_signing_bytes(body)))
    cases = {
        "has a bad signature": encode(moved),
        "uses suite 'sm2'; this chain uses 'ed25519'": encode(sm2),
        "organisation 'cb' already exists": encode(taken),
        "is already in the validator set": encode(in_set),
        "join-org payload must be a canonical OrgBundle": b"\x01\x02",
    }
    before = dict(net.harness.state.data)
    for reason, payload in cases.items():
        out = propose(net, "join-org", payload)
        assert out.code == "invalid_proposal" and reason in out.message, (reason, out.message)
    assert proposals(net.harness.get) == []
    after = net.harness.state.data  # only the proposer's nonce moved
    assert {k: v for k, v in after.items() if k.startswith(b"perm/")} == {
        k: v for k, v in before.items() if k.startswith(b"perm/")}


def test_a_directory_entry_with_a_bad_bundle_is_not_dialled(bundle: OrgBundle) -> None:
    net = consortium()
    forged = OrgBundle(replace(bundle.body, p2p_port=26999), bundle.signature)
    net.harness.state.data[node_key(0)] = encode(NodeEntry(4, forged, 1, 3))
    net.harness.state.data[NODE_COUNT] = encode(1)
    peers, refused = learnt_peers(net.harness.get, 0, {1, 2, 3})
    assert peers == [] and len(refused) == 1 and "bad signature" in refused[0]


def test_rotate_validator_replaces_the_key_in_place_at_an_epoch() -> None:
    from consortia.client.consortium import rotate_validator_payload

    net = consortium()
    h = net.harness
    h.next_block(9)  # height 10
    old = net.validators[1].public_key
    new = seeded_key("validator:1:next").public_key
    out = passed(net, "rotate-validator", rotate_validator_payload(old, new))
    assert out.ok and proposals(h.get)[-1].status == "executed", proposals(h.get)[-1].outcome
    assert validator_set_at(h.get, 11, net.validators) == net.validators
    rotated = validator_set_at(h.get, 12, net.validators)
    assert [v.public_key for v in rotated] == [net.validators[0].public_key, new,
                                               *(v.public_key for v in net.validators[2:])]
    assert rotated[1].name == net.validators[1].name
    shown = payload_json("rotate-validator", proposals(h.get)[-1].payload)
    assert shown == {"old_public_key": "0x" + old.hex(), "new_public_key": "0x" + new.hex()}
    [rotation] = key_rotations(h.get)
    assert (rotation.old_public_key, rotation.new_public_key, rotation.effective_height) == (old, new, 12)
    keys = transport_keys(h.get, [v.public_key for v in net.validators])
    assert keys[new] == keys[old] == 1

    unknown = seeded_key("nobody").public_key
    cases = {
        "no validator with public key": rotate_validator_payload(unknown, seeded_key("x").public_key),
        "is already in the validator set": rotate_validator_payload(new, net.validators[2].public_key),
        "new validator key": rotate_validator_payload(new, b"\x01" * 31),
    }
    count = len(proposals(h.get))
    for reason, payload in cases.items():
        out = propose(net, "rotate-validator", payload)
        assert out.code == "invalid_proposal" and reason in out.message, (reason, out.message)
    assert len(proposals(h.get)) == count
