"""`consortia network init --orgs`: organisations, their CAs and admins, validators, genesis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from tests.procs import cli_json

from consortia.contracts.permissioned import genesis_records
from consortia.crypto.keyfile import load_key_file
from consortia.errors import ConfigError
from consortia.node.genesis import load_genesis
from consortia.node.network_setup import init_network, load_orgs, parse_orgs

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"


def _subject_of_issuer(path: Path) -> x509.Name:
    return x509.load_pem_x509_certificate(path.read_bytes()).issuer


def test_orgs_get_cas_admins_and_validators(tmp_path: Path) -> None:
    root = tmp_path / "net"
    homes = init_network(root, 4, base_port=20000, orgs=ORGS)
    orgs = load_orgs(root)
    assert [(o.name, o.role) for o in orgs] == parse_orgs(ORGS)
    by_name = {o.name: o for o in orgs}
    # validators spread round-robin over the non-regulator organisations
    assert by_name["cb"].validators == [0, 3]
    assert by_name["bank-a"].validators == [1]
    assert by_name["bank-b"].validators == [2]
    assert by_name["reg"].validators == []
    genesis = load_genesis(root / "genesis.json")
    assert [(o.name, o.role) for o in genesis.orgs] == parse_orgs(ORGS)
    for org in orgs:
        admin = load_key_file(root / "orgs" / org.name / "admin.key")  # unencrypted dev key
        spec = next(o for o in genesis.orgs if o.name == org.name)
        assert spec.admins == [admin.address]
        assert spec.ca_pem == org.ca_cert.read_bytes()
    # each node's TLS certificate comes from its organisation's CA; every node trusts every CA
    for home in homes:
        owner = next(o for o in orgs if home.index in o.validators)
        ca_subject = x509.load_pem_x509_certificate(owner.ca_cert.read_bytes()).subject
        assert _subject_of_issuer(home.home / "tls" / "node.crt") == ca_subject
        bundle = x509.load_pem_x509_certificates((home.home / "tls" / "ca-bundle.pem").read_bytes())
        assert len(bundle) == 4
    assert not (root / "ca").exists()
    # the dev accounts are members (KYC tier 1) of the first bank, name and salt kept off chain
    assert {i.org for i in genesis.identities} == {"bank-a"}
    assert {(i.role, i.kyc_tier) for i in genesis.identities} == {("member", 1)}
    pii = json.loads((root / "keys" / "alice.pii.json").read_text())
    assert pii["name"] == "alice" and pii["org"] == "bank-a"
    # the genesis is accepted by the permission layer as it is
    assert genesis_records(genesis.orgs, suite=genesis.suite, validators=genesis.validators,
                           identities=genesis.identities, gov=genesis.gov)


def test_without_orgs_nothing_changes(tmp_path: Path) -> None:
    root = tmp_path / "net"
    init_network(root, 2, base_port=20000)
    genesis = load_genesis(root / "genesis.json")
    assert genesis.orgs == [] and genesis.identities == []
    assert (root / "ca").is_dir() and not (root / "orgs").exists()
    assert load_orgs(root) == []


def test_sm2_orgs_use_public_key_mode(tmp_path: Path) -> None:
    init_network(tmp_path / "net", 1, suite="sm2", base_port=20000, orgs="bank-a:bank,reg:regulator")
    genesis = load_genesis(tmp_path / "net" / "genesis.json")
    assert [o.ca_pem for o in genesis.orgs] == [b"", b""]


@pytest.mark.parametrize(
    "text",
    ["bank-a", "bank-a:shop", "a:bank,a:bank", "reg:regulator", ""],
)
def test_bad_org_lists_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        init_network(tmp_path / "net", 1, base_port=20000, orgs=parse_orgs(text))


def test_cli_init_with_orgs(tmp_path: Path) -> None:
    info = cli_json("network", "init", "--validators", "4", "--home", str(tmp_path / "net"),
                    "--base-port", "20000", "--orgs", ORGS)
    assert info["permissioned"] is True
    assert [o["name"] for o in info["orgs"]] == ["cb", "bank-a", "bank-b", "reg"]
    assert all(Path(o["admin_key"]).exists() for o in info["orgs"])
    plain = cli_json("network", "init", "--validators", "1", "--home", str(tmp_path / "open"),
                     "--base-port", "20000")
    assert plain["permissioned"] is False and plain["orgs"] == []


def test_network_init_takes_a_chain_id_and_refuses_a_bad_one(tmp_path: Path) -> None:
    cli_json("network", "init", "--validators", "1", "--home", str(tmp_path / "named"),
             "--base-port", "20000", "--chain-id", "bank-consortium-1")
    assert json.loads((tmp_path / "named" / "genesis.json").read_text())["chain_id"] == "bank-consortium-1"
    refused = cli_json("network", "init", "--validators", "1", "--home", str(tmp_path / "bad"),
                       "--chain-id", "bad id!", check=False)
    assert refused["ok"] is False and refused["error"]["code"] == "invalid_argument"
    assert not (tmp_path / "bad").exists()
