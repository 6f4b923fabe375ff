"""Organisation-local set-up (issue 15): bundles carry public parts only, the genesis assembled
from them is the same bytes whatever their order, and every refusal names what is wrong."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from consortia.crypto.keyfile import load_key_file
from consortia.errors import ConfigError
from consortia.node.config import load_config
from consortia.node.genesis import genesis_hash, genesis_to_json, load_genesis
from consortia.node.genesis_assembly import assemble_genesis
from consortia.node.network_setup import tls_files
from consortia.node.org_home import (
    BundleError,
    OrgHomeInfo,
    bundle_to_json,
    export_bundle,
    init_org_home,
    load_bundle,
)
from consortia.node.org_node import GenesisMismatch, init_org_node
from consortia.p2p.certs import load_private_key, validator_index_from_cert
from consortia.p2p.pinning import load_trust, pin_from_bundle
from consortia.types.org_bundle import OrgBundle

ORGS = (("cb", "central-bank"), ("bank-a", "bank"), ("bank-b", "bank"), ("reg", "regulator"))


def make_orgs(root: Path, suite: str = "ed25519") -> tuple[list[OrgHomeInfo], list[Path]]:
    infos, paths = [], []
    for i, (name, role) in enumerate(ORGS):
        info = init_org_home(root / name, name, role, suite, None)
        bundle = export_bundle(root / name, "127.0.0.1", 29100 + i, 29000 + i, None)
        path = root / f"{name}.bundle.json"
        path.write_text(bundle_to_json(bundle))
        infos.append(info)
        paths.append(path)
    return infos, paths


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[OrgHomeInfo], list[Path]]:
    return make_orgs(tmp_path_factory.mktemp("orgs"))


def _private_secrets(info: OrgHomeInfo) -> list[bytes]:
    """Every private key of the home, as raw bytes and as the DER the PEM files encode."""
    secrets: list[bytes] = []
    for path in info.private_files():
        assert path.exists(), path
        if path.suffix == ".key" and path.read_bytes().lstrip().startswith(b"{"):
            secrets.append(load_key_file(path, None).private_key)
            continue
        key = load_private_key(path)
        secrets.append(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            secrets.append(key.private_numbers().private_value.to_bytes(32, "big"))
    return secrets


def test_a_bundle_holds_no_private_key_byte(orgs: tuple[list[OrgHomeInfo], list[Path]]) -> None:
    infos, paths = orgs
    for info, path in zip(infos, paths, strict=True):
        text = path.read_bytes()
        secrets = _private_secrets(info)
        assert len(secrets) >= 4
        for secret in secrets:
            for form in (secret, secret.hex().encode(), base64.b64encode(secret), secret[:16].hex().encode()):
                assert form not in text, f"a private key of {info.name} is in its bundle"
        for private_file in info.private_files():
            pem = private_file.read_bytes()
            if pem.startswith(b"-----BEGIN"):  # no line of a PEM private key either
                for line in pem.splitlines()[1:-1]:
                    assert line.strip() not in text
        body = load_bundle(path).body
        assert body.admin_public_key == info.admin_public_key
        assert body.validator_public_key == info.validator_public_key
        assert body.tls_spki_sha256 == info.tls_spki_sha256


def test_assembly_is_the_same_bytes_in_any_order(orgs: tuple[list[OrgHomeInfo], list[Path]]) -> None:
    infos, paths = orgs
    bundles = [load_bundle(p) for p in paths]
    alloc = [(infos[0].admin_address, 10**9)]
    texts = {genesis_to_json(assemble_genesis(list(order), "cz", alloc))
             for order in itertools.permutations(bundles)}
    assert len(texts) == 1
    genesis = assemble_genesis(bundles, "cz", alloc)
    assert [o.name for o in genesis.orgs] == sorted(n for n, _ in ORGS)
    assert genesis.timestamp_ms == max(b.body.created_ms for b in bundles)
    # anything that differs gives another genesis hash
    assert genesis_hash(assemble_genesis(bundles, "cz-2", alloc)) != genesis_hash(genesis)
    assert genesis_hash(assemble_genesis(bundles[:3], "cz", alloc)) != genesis_hash(genesis)


def test_a_changed_bundle_is_refused_naming_the_bad_signature(
    orgs: tuple[list[OrgHomeInfo], list[Path]], tmp_path: Path
) -> None:
    _, paths = orgs
    data = json.loads(paths[1].read_text())
    data["body"]["host"] = "10.9.9.9"  # someone redirects bank-a's node
    forged = tmp_path / "forged.bundle.json"
    forged.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="bad signature"):
        load_bundle(forged)
    forged.write_text("{not json")
    with pytest.raises(BundleError, match="not a bundle"):
        load_bundle(forged)


def test_bundles_that_cannot_make_one_genesis_are_refused(
    orgs: tuple[list[OrgHomeInfo], list[Path]], tmp_path: Path
) -> None:
    _, paths = orgs
    bundles = [load_bundle(p) for p in paths]
    with pytest.raises(BundleError, match="same organisation name"):
        assemble_genesis([*bundles, bundles[0]], "cz")
    sm2_home = tmp_path / "sm2org"
    init_org_home(sm2_home, "sm2org", "bank", "sm2", None)
    sm2 = export_bundle(sm2_home, "127.0.0.1", 29200, 29201, None)
    with pytest.raises(BundleError, match="different crypto suites"):
        assemble_genesis([*bundles, sm2], "cz")
    with pytest.raises(BundleError, match="chain-id"):
        assemble_genesis(bundles, " ")
    with pytest.raises(BundleError, match="at least one"):
        assemble_genesis([], "cz")


def test_org_init_refuses_bad_names_roles_and_used_homes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="organisation name"):
        init_org_home(tmp_path / "a", "Bank A", "bank", "ed25519", None)
    with pytest.raises(ConfigError, match="role"):
        init_org_home(tmp_path / "b", "b", "pirate", "ed25519", None)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        init_org_home(tmp_path / "c", "c", "bank", "ed25519", None)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_node_init_pins_every_peer_to_the_tls_key_it_will_present(tmp_path: Path) -> None:
    infos, paths = make_orgs(tmp_path)
    bundles = [load_bundle(p) for p in paths]
    genesis = assemble_genesis(bundles, "cz")
    text = genesis_to_json(genesis).encode()
    digest = genesis_hash(genesis)
    # refusals first: nothing is written by any of them
    with pytest.raises(GenesisMismatch, match="not the agreed"):
        init_org_node(infos[0].home, text, bundles, b"\x01" * 32)
    with pytest.raises(BundleError, match="no bundle for the genesis validators"):
        init_org_node(infos[0].home, text, bundles[:3], digest)
    stranger_home = tmp_path / "stranger"
    init_org_home(stranger_home, "stranger", "bank", "ed25519", None)
    stranger = export_bundle(stranger_home, "127.0.0.1", 29300, 29301, None)
    with pytest.raises(BundleError, match="organisation the genesis does not have"):
        init_org_node(infos[0].home, text, [*bundles, stranger], digest)
    with pytest.raises(ConfigError, match="validator key is not in the genesis"):
        init_org_node(stranger_home, text, bundles, digest)
    assert not (infos[0].node_home / "node.json").exists()

    prepared = {info.name: init_org_node(info.home, text, bundles, digest) for info in infos}
    assert sorted(p.index for p in prepared.values()) == [0, 1, 2, 3]
    for info in infos:
        node = info.node_home
        files = tls_files(node)
        own = prepared[info.name]
        assert validator_index_from_cert(files.cert) == own.index
        assert load_config(node).api_host == "127.0.0.1"  # the API on loopback unless --api-host
        assert load_genesis(node / "genesis.json") == genesis
        trust = load_trust(files.ca_bundle)
        for other in infos:
            if other is info:
                continue
            peer = next(p for p in load_config(node).peers if p.index == prepared[other.name].index)
            pin = pin_from_bundle(tls_files(other.node_home).cert, trust)
            assert (peer.tls_spki_sha256, peer.tls_ca_spki_sha256) == (pin.spki_sha256, pin.ca_spki_sha256)
    with pytest.raises(ConfigError, match="already a node home"):
        init_org_node(infos[0].home, text, bundles, digest)


def test_bundle_round_trips_through_its_file(orgs: tuple[list[OrgHomeInfo], list[Path]]) -> None:
    _, paths = orgs
    bundle = load_bundle(paths[0])
    assert isinstance(bundle, OrgBundle)
    assert load_bundle(paths[0]) == bundle
