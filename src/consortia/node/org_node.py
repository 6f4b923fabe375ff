"""``consortia node init``: an organisation's node home, from its own keys, the agreed genesis
and the other organisations' bundles.

Nothing private arrives from elsewhere: the node's TLS certificate is issued here by the
organisation's own CA for the TLS key ``org init`` made (the genesis fixes the validator index
the certificate names); every peer comes from a bundle whose signature checks against an admin
the genesis names, and is pinned to its organisation's CA and the TLS key its bundle carries.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import get_suite
from consortia.errors import ConfigError
from consortia.node.ca_rollover import issued_by
from consortia.node.config import (
    CONFIG_FILE,
    GENESIS_FILE,
    NodeConfig,
    PeerConfig,
    load_config,
    write_config,
)
from consortia.node.genesis import genesis_from_json, genesis_hash
from consortia.node.network_setup import TLS_DIR, genesis_ca_pem, tls_files
from consortia.node.org_home import BundleError, OrgHomeInfo, check_bundle_ca, load_org_home, verify_bundle
from consortia.p2p.certs import (
    NODE_VALID_DAYS,
    issue_node_cert,
    load_certificate,
    write_ca_bundle,
    write_public_atomic,
)
from consortia.p2p.pinning import make_pin, spki_sha256
from consortia.types.genesis import Genesis
from consortia.types.org_bundle import OrgBundle

PEER_CA_DIR = "peer-cas"


class GenesisMismatch(ConfigError):
    """The genesis file is not the one the organisations agreed on (its hash differs)."""

    code = "genesis_mismatch"


@dataclass(frozen=True, slots=True)
class PreparedNode:
    home: Path
    index: int
    api_url: str
    p2p: str
    genesis_hash: bytes
    peers: list[str]


LOOPBACK = "127.0.0.1"


def parse_genesis_hash(text: str) -> bytes:
    body = text.strip().removeprefix("0x")
    try:
        raw = bytes.fromhex(body)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"a genesis hash is 64 hex digits (optional 0x), got {text[:80]!r}")
    return raw


def bundle_index(genesis: Genesis, bundle: OrgBundle) -> int:
    """The validator (and transport) index of a bundle's node in ``genesis``, after checking that
    the genesis names the bundle's organisation with that admin, CA and validator key."""
    body = bundle.body
    org = next((o for o in genesis.orgs if o.name == body.name), None)
    if org is None:
        raise BundleError(f"the bundle of {body.name!r} names an organisation the genesis does not have")
    admin = address_from_public_key(get_suite(genesis.suite), body.admin_public_key)
    if admin not in org.admins or org.role != body.role:
        raise BundleError(f"the bundle of {body.name!r} does not match the genesis (admin or role differs)")
    if org.ca_pem != genesis_ca_pem(genesis.suite, body.ca_pem):
        raise BundleError(f"the bundle of {body.name!r} carries another CA certificate than the genesis")
    keys = [v.public_key for v in genesis.validators]
    if body.validator_public_key not in keys:
        raise BundleError(f"the validator of the bundle of {body.name!r} is not in the genesis")
    return keys.index(body.validator_public_key)


def init_org_node(
    org_home: Path,
    genesis_text: bytes,
    bundles: list[OrgBundle],
    expected_hash: bytes | None = None,
    join_index: int | None = None,
    api_host: str = LOOPBACK,
) -> PreparedNode:
    """Write the node home ``org_home/node``: ``node.json`` with every peer pinned,
    ``genesis.json``, the TLS certificate and the CA bundle. The validator and TLS keys are
    already there (``org init``). Everything is checked before anything is written.

    ``join_index``: an organisation that joined after genesis by a ``join-org`` proposal passes
    the transport index the proposal's outcome gave its node (decisions/0015); its peers are the
    genesis organisations (their bundles checked against the genesis), and nodes that joined
    later are learnt from the chain once it runs.

    ``api_host``: where the API listens — loopback unless the operator names an address (the
    peers reach the node on its bundle's p2p address; its API is the organisation's own door)."""
    api_host = api_host.strip()
    if not api_host:
        raise ConfigError("--api-host needs an address (127.0.0.1, the host's own address, or 0.0.0.0)")
    info = load_org_home(org_home)
    home = info.node_home
    if (home / CONFIG_FILE).exists():
        raise ConfigError(f"{home} is already a node home ({CONFIG_FILE} exists)")
    genesis = genesis_from_json(genesis_text)
    digest = genesis_hash(genesis)
    if expected_hash is not None and digest != expected_hash:
        raise GenesisMismatch(
            f"the genesis file's hash is 0x{digest.hex()}, not the agreed 0x{expected_hash.hex()}: "
            "do not start a node on it; compare the bundles used to assemble it",
            actual="0x" + digest.hex(), expected="0x" + expected_hash.hex(),
        )
    if genesis.suite != info.suite:
        raise ConfigError(f"the genesis uses suite {genesis.suite!r}, this organisation {info.suite!r}")
    by_index: dict[int, OrgBundle] = {}
    if join_index is not None:
        bundles = _take_own_bundle(genesis, info, bundles, join_index, by_index)
    for bundle in bundles:
        verify_bundle(bundle)
        index = bundle_index(genesis, bundle)
        if index in by_index and by_index[index] != bundle:
            raise BundleError(f"two different bundles of {bundle.body.name!r}")
        by_index[index] = bundle
    me = join_index if join_index is not None else _own_index(genesis, info, by_index)
    missing = [v.name for i, v in enumerate(genesis.validators) if i not in by_index]
    if missing:
        raise BundleError(f"no bundle for the genesis validators {', '.join(missing)}: "
                          "pass every organisation's bundle")
    own = by_index[me].body
    cert, _ = issue_tls(info, home, me, own.host)
    peers = _write_trust(home, by_index, me)
    home.mkdir(parents=True, exist_ok=True)
    write_public_atomic(home / GENESIS_FILE, genesis_text)
    write_config(home, NodeConfig(
        name=info.name, validator_index=me, api_host=api_host, api_port=own.api_port,
        p2p_host=own.host, p2p_port=own.p2p_port, peers=peers,
    ))
    make_pin(cert, info.ca_cert)  # the certificate is ours and issued by our CA (raises if not)
    return PreparedNode(
        home, me, f"http://{api_host}:{own.api_port}", f"{own.host}:{own.p2p_port}", digest,
        [f"{by_index[p.index].body.name}@{p.host}:{p.port}" for p in peers],
    )


def _take_own_bundle(
    genesis: Genesis, info: OrgHomeInfo, bundles: list[OrgBundle], join_index: int,
    by_index: dict[int, OrgBundle],
) -> list[OrgBundle]:
    """Put a joining organisation's own bundle at ``join_index``; the other bundles."""
    if join_index < len(genesis.validators):
        raise ConfigError(
            f"--join-index {join_index} is a genesis validator's; a node that joined later has an "
            f"index from {len(genesis.validators)} on (the outcome of its join-org proposal names it)"
        )
    if any(v.public_key == info.validator_public_key for v in genesis.validators):
        raise ConfigError(f"organisation {info.name!r} is in the genesis: run node init without --join-index")
    own = [b for b in bundles if b.body.validator_public_key == info.validator_public_key]
    if not own:
        raise BundleError(f"pass organisation {info.name!r}'s own bundle too (the one its join-org "
                          "proposal carried)")
    verify_bundle(own[0])
    if own[0].body.tls_spki_sha256 != info.tls_spki_sha256:
        raise BundleError(f"the bundle of {info.name!r} pins another TLS key than this home's {info.tls_key}")
    by_index[join_index] = own[0]
    return [b for b in bundles if b.body.validator_public_key != info.validator_public_key]


def _own_index(genesis: Genesis, info: OrgHomeInfo, by_index: dict[int, OrgBundle]) -> int:
    keys = [v.public_key for v in genesis.validators]
    if info.validator_public_key not in keys:
        raise ConfigError(f"organisation {info.name!r}: its validator key is not in the genesis")
    me = keys.index(info.validator_public_key)
    own = by_index.get(me)
    if own is None:
        raise BundleError(f"pass organisation {info.name!r}'s own bundle too (where its node listens)")
    if own.body.tls_spki_sha256 != info.tls_spki_sha256:
        raise BundleError(f"the bundle of {info.name!r} pins another TLS key than this home's {info.tls_key}")
    return me


def issue_tls(
    info: OrgHomeInfo, home: Path, index: int, host: str, valid_days: int = NODE_VALID_DAYS,
    ca_cert: Path | None = None, out_dir: Path | None = None,
) -> tuple[Path, Path]:
    """Certify the node's TLS key for ``index`` with the organisation's CA (or ``ca_cert``,
    whose key lies beside it), written to the node's TLS directory (or ``out_dir``)."""
    ca = info.ca_cert if ca_cert is None else ca_cert
    try:
        ips = [str(ipaddress.ip_address(host))]
        dns: list[str] = []
    except ValueError:
        ips, dns = [], [host]
    files = tls_files(home)
    return issue_node_cert(
        ca, ca.with_suffix(".key"), index, files.cert.stem, files.cert.parent if out_dir is None else out_dir,
        extra_ips=[ip for ip in ips if ip != "127.0.0.1"], extra_dns=[d for d in dns if d != "localhost"],
        key_path=info.tls_key, valid_days=valid_days,
    )


def _write_trust(home: Path, by_index: dict[int, OrgBundle], me: int) -> list[PeerConfig]:
    """Every organisation's CA into the node's CA bundle; a pinned peer for each other node."""
    ca_dir = home / TLS_DIR / PEER_CA_DIR
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca_paths = []
    peers = []
    for index in sorted(by_index):
        body = by_index[index].body
        ca = check_bundle_ca(body.name, body.ca_pem)
        path = ca_dir / f"{body.name}-ca.crt"
        write_public_atomic(path, body.ca_pem)
        ca_paths.append(path)
        if index != me:
            peers.append(PeerConfig(
                index, body.host, body.p2p_port, body.validator_public_key,
                body.tls_spki_sha256, spki_sha256(ca),
            ))
    write_ca_bundle(ca_paths, tls_files(home).ca_bundle)
    return peers


def issuing_ca(info: OrgHomeInfo, cert: Path) -> Path:
    """Which of the organisation's CAs issued the node certificate ``cert``: the current one or,
    while a CA rotation is not yet in effect, the previous one (decisions/0019)."""
    node_cert = load_certificate(cert)
    for ca in (info.ca_cert, info.previous_ca_cert):
        if ca is not None and issued_by(node_cert, ca.read_bytes()):
            return ca
    raise ConfigError(f"{cert} is issued by none of organisation {info.name!r}'s CAs ({info.ca_cert})")


@dataclass(frozen=True, slots=True)
class RotatedTls:
    cert: Path
    not_after: str
    tls_spki_sha256: bytes


def rotate_tls(node_home: Path, valid_days: int = NODE_VALID_DAYS) -> RotatedTls:
    """Renew the node's TLS certificate: the organisation's CA certifies the same TLS key again
    (every peer's pin still holds); the running node presents it from its next handshake on."""
    if not 1 <= valid_days <= NODE_VALID_DAYS:
        raise ConfigError(f"--days must be from 1 to {NODE_VALID_DAYS}, got {valid_days}")
    config = load_config(node_home)
    try:
        info = load_org_home(node_home.parent)
    except ConfigError:
        raise ConfigError(
            f"{node_home} was not made by `consortia node init` (no organisation home with its CA "
            f"above it); renew its certificate with the CA that issued it"
        ) from None
    if info.node_home.resolve() != node_home.resolve():
        raise ConfigError(f"{node_home} is not the node of organisation {info.name!r} ({info.node_home})")
    ca_cert = issuing_ca(info, tls_files(node_home).cert)
    cert, _ = issue_tls(info, node_home, config.validator_index, config.p2p_host, valid_days, ca_cert)
    pin = make_pin(cert, ca_cert)
    if pin.spki_sha256 != info.tls_spki_sha256:
        raise ConfigError(f"{cert} does not carry the TLS key the organisation's bundle pins")
    after = load_certificate(cert).not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return RotatedTls(cert, after, pin.spki_sha256)
