"""``consortia network init``: the homes of a local multi-validator network.

```
DIR/
  genesis.json           the shared genesis (also copied into every node home)
  ca/                    the network's certificate authority (TLS between validators)
  keys/*.key             prefunded account keys (unencrypted dev keys)
  node0 … nodeN-1/       complete node homes: node.json, genesis.json, validator.key,
                         tls/{node.crt,node.key,ca-bundle.pem}, data/
```
Node ``i`` serves its API on ``base_port + i`` and talks to the others on ``base_port + 100 + i``.
Each node's ``node.json`` pins every peer's TLS identity (its key and its CA, see
:mod:`consortia.p2p.pinning`), standby nodes included: a certificate some other CA of the bundle
issued in a peer's name is refused.

With organisations (``orgs``, e.g. ``parse_orgs("cb:central-bank,bank-a:bank,reg:regulator")``)
the chain is permissioned: each organisation gets ``DIR/orgs/<name>/`` with its own CA
(``ca/``), its admin key (``admin.key``, unencrypted dev key) and ``org.json``; the validators
are spread over the non-regulator organisations, each node's TLS certificate is issued by its
organisation's CA and every node trusts every organisation's CA; the committee is the admins;
the dev keys become member identities (KYC tier 1) of the first bank (see
:mod:`consortia.node.org_setup`); the genesis carries the e-CNY wallet tier limits. There is no
network-wide ``ca/`` then.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from consortia.contracts.permissioned.identity import pii_commitment
from consortia.contracts.permissioned.records import ORG_ROLES, REGULATOR
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError
from consortia.node.config import (
    GENESIS_FILE,
    VALIDATOR_KEY_FILE,
    NodeConfig,
    PeerConfig,
    ReadAuditConfig,
    write_config,
    write_text_atomic,
)
from consortia.node.genesis import genesis_to_json
from consortia.node.home_setup import (
    DEV_ACCOUNTS,
    DEV_BALANCE,
    AccountKey,
    make_genesis,
    write_account_keys,
)
from consortia.p2p.certs import create_ca, issue_node_cert, write_ca_bundle
from consortia.p2p.errors import CertificateError
from consortia.p2p.pinning import TlsPin, make_pin
from consortia.p2p.tls import TlsFiles
from consortia.types.genesis import ChainParams, Genesis
from consortia.types.org_specs import ECNY_TIER_LIMITS, GovParams, IdentitySpec, OrgSpec

NETWORK_CHAIN_ID = "consortia-local"
P2P_PORT_OFFSET = 100
TLS_DIR = "tls"
ORGS_DIR = "orgs"
ADMIN_KEY_FILE = "admin.key"
ORG_FILE = "org.json"
DEV_KYC_TIER = 1
BANK_PREFERENCE = ("bank", "central-bank")
"""Which organisation receives the dev accounts as members: the first ``bank``, else the first
``central-bank``, else the first organisation that is not the regulator."""


@dataclass(frozen=True, slots=True)
class NodeHome:
    index: int
    home: Path
    api_url: str
    p2p_port: int


def tls_files(home: Path) -> TlsFiles:
    tls = home / TLS_DIR
    return TlsFiles(ca_bundle=tls / "ca-bundle.pem", cert=tls / "node.crt", key=tls / "node.key")


def peer_pins(peers: list[PeerConfig]) -> dict[int, TlsPin]:
    """The TLS pin of each configured peer; :class:`ConfigError` if one has none (or a bad one)."""
    pins: dict[int, TlsPin] = {}
    for peer in peers:
        if not peer.tls_spki_sha256 or not peer.tls_ca_spki_sha256:
            raise ConfigError(
                f"peer {peer.index} in node.json has no TLS pin (tls_spki_sha256, tls_ca_spki_sha256): "
                "a node only links to pinned peers; re-create the network with `consortia network init`"
            )
        try:
            pins[peer.index] = TlsPin(peer.tls_spki_sha256, peer.tls_ca_spki_sha256)
        except CertificateError as exc:
            raise ConfigError(f"peer {peer.index} in node.json: {exc.message}") from None
    return pins


def node_homes(root: Path) -> list[Path]:
    homes = sorted(
        (p for p in root.glob("node*") if (p / GENESIS_FILE).exists()),
        key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else 0,
    )
    return homes


def init_network(
    root: Path,
    validators: int,
    suite: str = "ed25519",
    base_port: int = 8600,
    host: str = "127.0.0.1",
    extra_allocations: list[tuple[bytes, int]] | None = None,
    params: ChainParams | None = None,
    orgs: str | list[tuple[str, str]] | None = None,
    gov: GovParams | None = None,
    standby: int = 0,
    extra_identities: list[IdentitySpec] | None = None,
    chain_id: str = NETWORK_CHAIN_ID,
) -> list[NodeHome]:
    """Write the homes of a local network of chain ``chain_id``; ``orgs`` (``"name:role,..."``
    or pairs) makes it permissioned (see the module docs); without it the chain is open.

    ``standby`` nodes get complete homes (key, certificate, peers) but are not in the genesis
    set: they follow the chain until governance adds their key as a validator.
    ``extra_identities`` (with ``orgs``) are enrolled at genesis besides the dev members (a
    benchmark's wallets)."""
    if validators < 1:
        raise ConfigError("a network needs at least one validator")
    if (root / GENESIS_FILE).exists():
        raise ConfigError(f"{root} already holds a network; use another --home or delete it")
    org_list = parse_orgs(orgs) if isinstance(orgs, str) else list(orgs or [])
    root.mkdir(parents=True, exist_ok=True)
    keys = [KeyPair.generate(suite) for _ in range(validators + standby)]
    accounts = write_account_keys(root / "keys", DEV_ACCOUNTS, suite, None)
    genesis = make_genesis(
        chain_id,
        suite,
        [(f"validator-{i}", key) for i, key in enumerate(keys[:validators])],
        [(acct.address, DEV_BALANCE) for acct, _ in accounts] + list(extra_allocations or []),
        params,
    )
    org_homes: list[OrgHome] = []
    if org_list:
        org_homes = create_orgs(root, org_list, validators, suite)
        identities = dev_identities(root, org_homes, [acct for acct, _ in accounts], suite)
        identities += list(extra_identities or [])
        genesis = permission_genesis(genesis, org_homes, identities, gov)
    genesis_json = genesis_to_json(genesis)
    write_text_atomic(root / GENESIS_FILE, genesis_json)
    if org_homes:
        owner = {i: h for h in org_homes for i in h.validators}
        node_cas = [(owner[i].ca_cert, owner[i].ca_key) for i in range(validators)]
        node_cas += [node_cas[0]] * standby
        bundle = [h.ca_cert for h in org_homes]
    else:
        ca_cert, ca_key = create_ca("consortia-local", root / "ca")
        node_cas = [(ca_cert, ca_key)] * (validators + standby)
        bundle = [ca_cert]
    nodes = validators + standby
    p2p = {i: base_port + P2P_PORT_OFFSET + i for i in range(nodes)}
    pins: dict[int, TlsPin] = {}
    for i in range(nodes):
        cert, _ = issue_node_cert(node_cas[i][0], node_cas[i][1], i, "node", root / f"node{i}" / TLS_DIR)
        write_ca_bundle(bundle, root / f"node{i}" / TLS_DIR / "ca-bundle.pem")
        pins[i] = make_pin(cert, node_cas[i][0])
    homes = []
    for i, key in enumerate(keys):
        home = root / f"node{i}"
        save_key_file(home / VALIDATOR_KEY_FILE, key, None)
        write_text_atomic(home / GENESIS_FILE, genesis_json)
        peers = [
            PeerConfig(j, host, p2p[j], keys[j].public_key, pins[j].spki_sha256, pins[j].ca_spki_sha256)
            for j in range(nodes)
            if j != i
        ]
        config = NodeConfig(
            name=f"node{i}",
            validator_index=i,
            api_host=host,
            api_port=base_port + i,
            p2p_host=host,
            p2p_port=p2p[i],
            peers=peers,
        )
        if org_homes and i < validators:
            # a validator key is no identity: the read audit anchors with the organisation's admin
            admin = os.path.relpath(owner[i].admin_key.resolve(), home.resolve())  # the home may move
            config = msgspec.structs.replace(config, read_audit=ReadAuditConfig(anchor_key_file=admin))
        write_config(home, config)
        homes.append(NodeHome(i, home, f"http://{host}:{base_port + i}", p2p[i]))
    return homes


# --- organisations (a permissioned network) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgHome:
    name: str
    role: str
    home: Path
    admin_key: Path
    admin_address: bytes
    ca_cert: Path
    ca_key: Path
    validators: list[int] = field(default_factory=list)
    index: int = 0
    """Position in the ``--orgs`` list."""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "home": str(self.home),
                "admin_key": str(self.admin_key), "admin": format_address(self.admin_address),
                "ca_cert": str(self.ca_cert), "ca_key": str(self.ca_key),
                "validators": self.validators, "index": self.index}


def parse_orgs(text: str) -> list[tuple[str, str]]:
    """``"cb:central-bank,bank-a:bank,reg:regulator"`` -> ``[("cb", "central-bank"), ...]``."""
    out: list[tuple[str, str]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, role = item.partition(":")
        name, role = name.strip(), role.strip()
        if not sep or not name or role not in ORG_ROLES:
            raise ConfigError(
                f"organisation {item!r} must be NAME:ROLE with ROLE one of {', '.join(ORG_ROLES)}"
            )
        out.append((name, role))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ConfigError("organisation names must be distinct")
    if not out:
        raise ConfigError("--orgs names no organisation")
    return out


def _spread(orgs: list[tuple[str, str]], validators: int) -> dict[str, list[int]]:
    """Validators round-robin over the organisations that are not regulators."""
    hosts = [name for name, role in orgs if role != REGULATOR]
    if not hosts:
        raise ConfigError("a network needs an organisation other than the regulator to run validators")
    spread: dict[str, list[int]] = {name: [] for name, _ in orgs}
    for i in range(validators):
        spread[hosts[i % len(hosts)]].append(i)
    return spread


def create_orgs(root: Path, orgs: list[tuple[str, str]], validators: int, suite: str) -> list[OrgHome]:
    """Each organisation's CA, admin key and ``org.json`` under ``root/orgs/<name>``."""
    spread = _spread(orgs, validators)
    out: list[OrgHome] = []
    for index, (name, role) in enumerate(orgs):
        home = root / ORGS_DIR / name
        ca_cert, ca_key, admin = create_org_material(home, name, suite, None)
        org = OrgHome(
            name, role, home, home / ADMIN_KEY_FILE, admin.address, ca_cert, ca_key, spread[name], index
        )
        write_text_atomic(home / ORG_FILE, json.dumps(org.to_json(), indent=2) + "\n")
        out.append(org)
    return out


def create_org_material(
    home: Path, name: str, suite: str, password: str | None
) -> tuple[Path, Path, KeyPair]:
    """One organisation's CA (``home/ca/``) and admin key (``home/admin.key``, encrypted with
    ``password`` unless it is None): what ``network init --orgs`` makes for every organisation
    and ``org init`` for one, in its own home."""
    home.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = create_ca(name, home / "ca")
    admin = KeyPair.generate(suite)
    save_key_file(home / ADMIN_KEY_FILE, admin, password)
    return ca_cert, ca_key, admin


def genesis_ca_pem(suite: str, ca_pem: bytes) -> bytes:
    """What an organisation's genesis record holds of its CA: the certificate on ed25519 (CA
    mode: identities enrol with certificates), nothing on sm2 (public-key mode)."""
    return ca_pem if suite == "ed25519" else b""


def load_orgs(root: Path) -> list[OrgHome]:
    """The organisations ``init_network`` wrote under ``root`` (empty for an open network)."""
    out: list[OrgHome] = []
    for path in sorted((root / ORGS_DIR).glob(f"*/{ORG_FILE}")):
        data = json.loads(path.read_text())
        out.append(OrgHome(data["name"], data["role"], Path(data["home"]), Path(data["admin_key"]),
                           bytes.fromhex(data["admin"][2:]), Path(data["ca_cert"]),
                           Path(data["ca_key"]), list(data["validators"]), int(data.get("index", 0))))
    return sorted(out, key=lambda o: o.index)


def member_org(orgs: list[OrgHome]) -> OrgHome:
    for role in BANK_PREFERENCE:
        for org in orgs:
            if org.role == role:
                return org
    return next(org for org in orgs if org.role != REGULATOR)


def dev_identities(
    root: Path, orgs: list[OrgHome], accounts: list[AccountKey], suite: str
) -> list[IdentitySpec]:
    """The dev accounts as members of the first bank; name and salt kept in ``keys/<name>.pii.json``."""
    owner = member_org(orgs)
    out: list[IdentitySpec] = []
    for acct in accounts:
        salt = os.urandom(32)
        pii = pii_commitment(salt, acct.name.encode(), suite)
        record = {"address": format_address(acct.address), "org": owner.name, "name": acct.name,
                  "salt": "0x" + salt.hex(), "pii_hash": "0x" + pii.hex(), "kyc_tier": DEV_KYC_TIER}
        write_text_atomic(acct.path.with_suffix(".pii.json"), json.dumps(record, indent=2) + "\n")
        out.append(IdentitySpec(acct.address, owner.name, "member", DEV_KYC_TIER, pii))
    return out


def permission_genesis(
    genesis: Genesis, orgs: list[OrgHome], identities: list[IdentitySpec], gov: GovParams | None
) -> Genesis:
    """``genesis`` with the organisations (CA mode on ed25519, public-key mode on sm2) and the
    e-CNY wallet tier limits (:data:`~consortia.types.org_specs.ECNY_TIER_LIMITS`; the dev
    members are tier 1, unlimited)."""
    specs = [
        OrgSpec(o.name, o.role, [o.admin_address], genesis_ca_pem(genesis.suite, o.ca_cert.read_bytes()))
        for o in orgs
    ]
    return org_genesis(genesis, specs, identities, gov)


def org_genesis(
    genesis: Genesis, specs: list[OrgSpec], identities: list[IdentitySpec], gov: GovParams | None
) -> Genesis:
    """``genesis`` made permissioned: organisations ``specs``, genesis ``identities``,
    governance ``gov`` (defaults if None) and the e-CNY tier limits."""
    return msgspec.structs.replace(
        genesis,
        orgs=specs,
        identities=identities,
        gov=gov or GovParams(),
        tier_limits=list(ECNY_TIER_LIMITS),
    )
