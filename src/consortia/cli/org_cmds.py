"""A consortium across machines: ``consortia org init|export``, ``consortia genesis assemble``
and ``consortia node init`` (each organisation on its own machine; only bundles travel)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from consortia.cli.keys import new_password, read_password
from consortia.cli.options import JSON
from consortia.cli.output import console, emit, handles_errors
from consortia.cli.perm_cmds import DEADLINE, KEY, NODE, TIMEOUT, _propose, propose_app
from consortia.client.arguments import check_address_arg, check_amount, parse_int_text
from consortia.client.consortium import (
    JOIN_ORG,
    ROTATE_CA,
    ROTATE_VALIDATOR,
    home_key_change,
    join_org_payload,
    make_next_validator_key,
    parse_public_key,
    rotate_ca_payload,
    rotate_validator_payload,
)
from consortia.crypto.address import format_address
from consortia.errors import ConfigError
from consortia.node.config import NEXT_VALIDATOR_KEY_FILE, write_text_atomic
from consortia.node.genesis import genesis_hash, genesis_to_json
from consortia.node.genesis_assembly import assemble_genesis
from consortia.node.network_setup import ADMIN_KEY_FILE
from consortia.node.org_ca_rotation import load_ca_rotation_request, request_to_json, rotate_org_ca
from consortia.node.org_home import BundleError, bundle_to_json, export_bundle, init_org_home, load_bundle
from consortia.node.org_node import init_org_node, parse_genesis_hash, rotate_tls
from consortia.p2p.certs import NODE_VALID_DAYS

org_app = typer.Typer(no_args_is_help=True, help="An organisation's own keys and its public bundle.")
genesis_app = typer.Typer(no_args_is_help=True, help="Agree on a genesis from the organisations' bundles.")


def register(app: typer.Typer, node_app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(genesis_app, name="genesis")
    node_app.command("init")(node_init)
    node_app.command("rotate-tls")(node_rotate_tls)
    node_app.command("new-key")(node_new_key)
    propose_app.command("join-org")(propose_join_org)
    propose_app.command("rotate-validator")(propose_rotate_validator)
    propose_app.command("rotate-ca")(propose_rotate_ca)


@org_app.command("init")
@handles_errors
def org_init(
    name: str = typer.Option(..., "--name", help="Organisation name (a-z, 0-9, '.', '_', '-')."),
    role: str = typer.Option(..., "--role",
                             help="central-bank, bank, enterprise, hospital, grid, regulator, inspector"),
    home: Path = typer.Option(..., "--home", help="The organisation's own (empty) directory."),
    suite: str = typer.Option("ed25519", "--suite", help="ed25519 or sm2."),
    no_password: bool = typer.Option(False, "--no-password", help="Store the keys unencrypted (dev only)."),
    as_json: bool = JSON,
) -> None:
    """Create the organisation's CA, admin key, validator key and TLS key in its own home."""
    password = new_password(no_password)
    info = init_org_home(home, name, role, suite, password)
    data = {**info.to_json(), "home": str(home), "node_home": str(info.node_home),
            "encrypted": password is not None}
    emit(data, as_json, lambda: console.print(
        f"[bold green]organisation {name}[/] ({role}, {suite}) in {home}: admin {data['admin']}; "
        "private keys stay here. Next: `consortia org export`"))


@org_app.command("export")
@handles_errors
def org_export(
    home: Path = typer.Option(..., "--home", help="The organisation's home (`org init`)."),
    host: str = typer.Option(..., "--host", help="Address the organisation's node is reached at."),
    p2p_port: int = typer.Option(..., "--p2p-port", help="Port of the node's validator links."),
    api_port: int = typer.Option(..., "--api-port", help="Port of the node's REST API."),
    out: Path = typer.Option(..., "--out", help="Bundle file to write (public parts only)."),
    as_json: bool = JSON,
) -> None:
    """Write the organisation's bundle: public keys, CA certificate, TLS pin, address; signed."""
    bundle = export_bundle(home, host, p2p_port, api_port, read_password(home / ADMIN_KEY_FILE))
    write_text_atomic(out, bundle_to_json(bundle))
    data = {"file": str(out), "name": bundle.body.name, "host": host, "p2p_port": p2p_port,
            "api_port": api_port, "tls_spki_sha256": "0x" + bundle.body.tls_spki_sha256.hex()}
    emit(data, as_json, lambda: console.print(f"bundle of {bundle.body.name} written to {out}"))


@org_app.command("rotate-ca")
@handles_errors
def org_rotate_ca(
    home: Path = typer.Option(..., "--home", help="The organisation's home (after `node init`)."),
    out: Path = typer.Option(..., "--out", help="Signed request to write (public parts only)."),
    as_json: bool = JSON,
) -> None:
    """Make the organisation's new CA and its node's certificate from it (both stay in the home),
    and write the admin-signed request for `consortia gov propose rotate-ca`."""
    rotated = rotate_org_ca(home, read_password(home / ADMIN_KEY_FILE))
    write_text_atomic(out, request_to_json(rotated.request))
    data = {"file": str(out), "org": rotated.org, "ca_cert": str(rotated.ca_cert),
            "previous_ca_cert": str(rotated.previous_ca_cert),
            "next_node_cert": str(rotated.next_node_cert),
            "old_ca_spki_sha256": "0x" + rotated.request.body.old_ca_spki_sha256.hex()}
    emit(data, as_json, lambda: console.print(
        f"new CA of {rotated.org} in {rotated.ca_cert}; the node switches to {rotated.next_node_cert} "
        f"when the rotation takes effect. Next: `consortia gov propose rotate-ca --request {out}`"))


def _allocation(text: str) -> tuple[bytes, int]:
    address, sep, amount = text.partition(":")
    if not sep:
        raise BundleError(f"--alloc must be ADDRESS:AMOUNT, got {text!r}")
    units = check_amount(parse_int_text(amount, "--alloc amount"), "--alloc amount")
    return check_address_arg(address, "--alloc"), units


@genesis_app.command("assemble")
@handles_errors
def genesis_assemble(
    bundles: list[Path] = typer.Argument(..., help="Every organisation's bundle (any order)."),
    chain_id: str = typer.Option(..., "--chain-id", help="The chain's identifier."),
    out: Path = typer.Option(..., "--out", help="genesis.json to write."),
    alloc: list[str] = typer.Option([], "--alloc", help="ADDRESS:AMOUNT funded at genesis (repeat)."),
    timestamp_ms: int = typer.Option(None, "--timestamp-ms", help="Genesis time (default: latest bundle's)."),
    as_json: bool = JSON,
) -> None:
    """Assemble the genesis (same bundles and options: same bytes) and print its hash, which
    every organisation compares out of band before `node init`."""
    loaded = [load_bundle(path) for path in bundles]
    genesis = assemble_genesis(loaded, chain_id, [_allocation(a) for a in alloc], timestamp_ms=timestamp_ms)
    write_text_atomic(out, genesis_to_json(genesis))
    digest = "0x" + genesis_hash(genesis).hex()
    data = {"file": str(out), "genesis_hash": digest, "chain_id": chain_id, "suite": genesis.suite,
            "orgs": [o.name for o in genesis.orgs],
            "validators": [v.name for v in genesis.validators],
            "admins": {o.name: [format_address(a) for a in o.admins] for o in genesis.orgs}}

    def human() -> None:
        console.print(f"genesis of {chain_id} ({len(genesis.orgs)} organisations) written to {out}")
        console.print(f"genesis hash: [bold]{digest}[/] — compare it with every organisation")

    emit(data, as_json, human)


def _bundle_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(path.glob("*.bundle.json"))
        else:
            out.append(path)
    if not out:
        raise BundleError("no bundle given: pass --bundle FILE (or a directory of *.bundle.json "
                          "files) for every organisation")
    return out


@handles_errors
def node_init(
    org_home: Path = typer.Option(..., "--org-home", help="The organisation's home (`org init`)."),
    genesis: Path = typer.Option(..., "--genesis", help="The assembled genesis.json."),
    bundle: list[Path] = typer.Option(
        [], "--bundle", help="Bundle file, or a directory of *.bundle.json files (repeat)."),
    genesis_hash_text: str = typer.Option(None, "--genesis-hash", help="The hash agreed out of band."),
    join_index: int = typer.Option(
        None, "--join-index",
        help="Joined after genesis: the node index the join-org proposal's outcome names."),
    api_host: str = typer.Option(
        "127.0.0.1", "--api-host",
        help="Address the node's API listens on: loopback unless you name the host's own address."),
    as_json: bool = JSON,
) -> None:
    """Prepare the organisation's node: TLS certificate from its own CA, pinned peers, config."""
    expected = parse_genesis_hash(genesis_hash_text) if genesis_hash_text else None
    try:
        text = genesis.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the genesis file {genesis}: {exc}") from None
    loaded = [load_bundle(path) for path in _bundle_files(bundle)]
    node = init_org_node(org_home, text, loaded, expected, join_index, api_host)
    data = {"home": str(node.home), "index": node.index, "api": node.api_url, "p2p": node.p2p,
            "genesis_hash": "0x" + node.genesis_hash.hex(), "peers": node.peers}
    emit(data, as_json, lambda: console.print(
        f"node {node.index} prepared in {node.home} (genesis 0x{node.genesis_hash.hex()[:16]}…); "
        f"start it with `consortia node start --home {node.home}`\n{json.dumps(node.peers)}"))


@handles_errors
def node_rotate_tls(
    home: Path = typer.Option(..., "--home", help="The node's home (made by `node init`)."),
    days: int = typer.Option(NODE_VALID_DAYS, "--days", help="Validity of the new certificate."),
    as_json: bool = JSON,
) -> None:
    """Renew the node's TLS certificate for the same key; a running node takes it up for new
    connections within seconds (no restart, its peers' pins unchanged)."""
    rotated = rotate_tls(home, days)
    data = {"cert": str(rotated.cert), "not_after": rotated.not_after,
            "tls_spki_sha256": "0x" + rotated.tls_spki_sha256.hex()}
    emit(data, as_json, lambda: console.print(
        f"renewed {rotated.cert}, valid until {rotated.not_after}; same key, peers need nothing"))


@handles_errors
def node_new_key(
    home: Path = typer.Option(..., "--home", help="The node's home."),
    as_json: bool = JSON,
) -> None:
    """Make the validator key a rotation will switch to (``validator.next.key``, encrypted with
    CONSORTIA_KEY_PASSWORD when set); the node takes it up at the epoch governance decides."""
    key = make_next_validator_key(home)
    data = {"file": str(home / NEXT_VALIDATOR_KEY_FILE), "public_key": "0x" + key.public_key.hex()}
    emit(data, as_json, lambda: console.print(
        f"new validator key 0x{key.public_key.hex()} in {data['file']}; next: "
        "`consortia gov propose rotate-validator --home " + str(home) + "`"))


@handles_errors
def propose_join_org(
    bundle: Path = typer.Option(..., "--bundle", help="The joining organisation's bundle (`org export`)."),
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose that an organisation join with its bundle (admin, CA, validator); once it passes
    every node learns the new node's address and TLS pin from the bundle."""
    payload = join_org_payload(load_bundle(bundle))
    _propose(key, node, timeout, as_json, JOIN_ORG, payload, deadline_blocks)


@handles_errors
def propose_rotate_validator(
    home: Path = typer.Option(None, "--home", help="The node's home: validator.key and validator.next.key."),
    old_public_key: str = typer.Option(None, "--old-public-key", help="Or: the current key (hex) ..."),
    new_public_key: str = typer.Option(None, "--new-public-key", help="... and the new one (hex)."),
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose replacing a validator's consensus key; the node switches at the epoch."""
    if home is not None:
        old, new = home_key_change(home)
    elif old_public_key is not None and new_public_key is not None:
        old, new = parse_public_key(old_public_key, "--old-public-key"), parse_public_key(
            new_public_key, "--new-public-key")
    else:
        raise ConfigError("pass --home NODE_HOME (after `node new-key`), "
                          "or --old-public-key and --new-public-key")
    payload = rotate_validator_payload(old, new)
    _propose(key, node, timeout, as_json, ROTATE_VALIDATOR, payload, deadline_blocks)


@handles_errors
def propose_rotate_ca(
    request: Path = typer.Option(..., "--request", help="The signed request (`org rotate-ca --out`)."),
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose replacing an organisation's CA; once passed every node accepts both CAs, the
    organisation's node presents its new certificate at the epoch, the old CA retires later."""
    payload = rotate_ca_payload(load_ca_rotation_request(request))
    _propose(key, node, timeout, as_json, ROTATE_CA, payload, deadline_blocks)
