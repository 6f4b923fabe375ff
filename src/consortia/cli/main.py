"""``consortia``: keys, a dev chain, nodes, transfers, queries and offline verification."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import msgspec
import typer

from consortia.cli import (
    api_cmds,
    audit_cmds,
    bills_cmds,
    cbdc_cmds,
    chain_cmds,
    console_cmd,
    contract_cmds,
    energy_cmds,
    health_cmds,
    index_cmds,
    notary_cmds,
    org_cmds,
    perm_cmds,
    privacy_cmds,
    scf_cmds,
    trace_cmds,
)
from consortia.cli import network as network_cli
from consortia.cli.connect import connect
from consortia.cli.help_format import PlainHelpGroup
from consortia.cli.keys import load_key, new_password
from consortia.cli.network import network_app
from consortia.cli.options import JSON, NODE, READ_KEY
from consortia.cli.output import console, emit, handles_errors
from consortia.client.arguments import (
    InvalidArgument,
    check_address_arg,
    check_amount,
    check_chain_id,
    check_timeout,
    parse_int_text,
)
from consortia.client.client import receipt_proof_from_json
from consortia.client.tls_trust import CA_ENV
from consortia.client.wallet import Wallet
from consortia.codec.plain import to_plain
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import read_key_file_address, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import DecodeError, FileUnreadable, KeyFileError, ProofError
from consortia.ledger.proofs import verify_receipt_proof
from consortia.node.config import GENESIS_FILE, load_config, write_config
from consortia.node.genesis import load_genesis
from consortia.node.home_setup import init_dev_home, list_account_keys
from consortia.node.network_setup import NETWORK_CHAIN_ID

app = typer.Typer(no_args_is_help=True, add_completion=False, cls=PlainHelpGroup,
                  help="Consortia: a permissioned BFT blockchain for regulated industry.")
keys_app = typer.Typer(no_args_is_help=True, help="Create and inspect key files.")
node_app = typer.Typer(no_args_is_help=True, help="Run a node.")


def _print_version(value: bool) -> None:
    if value:
        from consortia import __version__

        console.print(f"consortia {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
    ca: Path | None = typer.Option(None, "--ca", envvar=CA_ENV,
                                   help="CA certificates (PEM) to trust for an https:// node: "
                                        f"a node home's tls/ca-bundle.pem (or set {CA_ENV})."),
) -> None:
    """Consortia: a permissioned BFT blockchain for regulated industry."""
    if ca is not None:
        os.environ[CA_ENV] = str(ca)  # every client this command opens trusts it (client/tls_trust)


app.add_typer(keys_app, name="keys")
app.add_typer(node_app, name="node")
app.add_typer(network_app, name="network")
contract_cmds.register(app)
perm_cmds.register(app)
cbdc_cmds.register(app)
chain_cmds.register(app)
console_cmd.register(app)
index_cmds.register(app)
notary_cmds.register(app)
bills_cmds.register(app)
energy_cmds.register(app)
scf_cmds.register(app)
health_cmds.register(app)
privacy_cmds.register(app)
trace_cmds.register(app)
api_cmds.register(app)
audit_cmds.register(app)
org_cmds.register(app, node_app)

INDEX_DB = typer.Option(
    "", "--index-db",
    help="SQL index: empty for SQLite in the home (index.sqlite3), a file path, "
         "postgresql://user@host/db, or 'off'.",
)  # fmt: skip
MAX_PORT = 65_535
TX_HASH_SIZE = 32


def check_port(value: int, what: str) -> int:
    if not 0 <= value <= MAX_PORT:
        raise InvalidArgument(f"{what} must be a port from 0 to {MAX_PORT}, got {value}")
    return value


def check_count(value: int, what: str, low: int, high: int = 1000) -> int:
    if not low <= value <= high:
        raise InvalidArgument(f"{what} must be from {low} to {high}, got {value}")
    return value


def parse_tx_hash(text: str) -> bytes:
    """32 bytes as 64 hex digits (``0x`` optional), or ``DecodeError``."""
    body = text.strip().removeprefix("0x").removeprefix("0X")
    try:
        raw = bytes.fromhex(body) if body.isascii() else b""
    except ValueError:
        raw = b""
    if len(raw) != TX_HASH_SIZE:
        raise DecodeError(f"a transaction hash is {2 * TX_HASH_SIZE} hex digits (optional 0x), "
                          f"got {text[:80]!r}")
    return raw


# --- keys ---------------------------------------------------------------------------------


@keys_app.command("new")
@handles_errors
def keys_new(
    out: Path = typer.Option(..., "--out", help="Key file to write."),
    suite: str = typer.Option("ed25519", "--suite", help="ed25519 or sm2."),
    no_password: bool = typer.Option(
        False, "--no-password", help="Store the key unencrypted (dev only)."
    ),
    as_json: bool = JSON,
) -> None:
    """Create a key pair in an encrypted key file and print its address."""
    password = new_password(no_password)
    key = KeyPair.generate(suite)
    save_key_file(out, key, password)
    emit({"address": format_address(key.address), "suite": suite, "file": str(out),
          "encrypted": password is not None}, as_json,
         lambda: console.print(format_address(key.address)))


@keys_app.command("show")
@handles_errors
def keys_show(file: Path = typer.Argument(..., help="Key file."), as_json: bool = JSON) -> None:
    """Print a key file's address (no password needed)."""
    if not file.exists():
        raise KeyFileError(f"key file {file} does not exist")
    address = read_key_file_address(file)
    emit({"address": format_address(address), "file": str(file)}, as_json,
         lambda: console.print(format_address(address)))


# --- running ------------------------------------------------------------------------------


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
@handles_errors
def dev(
    home: Path = typer.Option(Path(".consortia-dev"), "--home", help="Chain home directory."),
    api_port: int = typer.Option(8545, "--api-port", help="Port of the REST API."),
    suite: str = typer.Option("ed25519", "--suite", help="ed25519 or sm2 (first start only)."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Log debug lines too (empty blocks, peers)."),
    index_db: str = INDEX_DB,
    as_json: bool = JSON,
) -> None:
    """Start a one-validator chain; on first start create its genesis and funded dev keys."""
    from consortia.node.node import Node
    from consortia.node.runner import run_node

    check_port(api_port, "--api-port")
    _setup_logging(verbose)
    created = not (home / GENESIS_FILE).exists()
    if created:
        init_dev_home(home, api_port=api_port, suite=suite)
    config = load_config(home)
    if config.api_port != api_port and not created:
        write_config(home, msgspec.structs.replace(config, api_port=api_port))
    node = Node(home, index_db=index_db)
    url = f"http://{node.config.api_host}:{node.config.api_port}"
    keys = [
        {"name": p.stem, "file": str(p), "address": format_address(read_key_file_address(p))}
        for p in list_account_keys(home)
    ]

    def ready() -> None:
        info = {"home": str(home), "api": url, "chain_id": node.genesis.chain_id,
                "height": node.chain.head.height, "created": created, "keys": keys,
                "genesis": str(home / GENESIS_FILE)}
        if as_json:
            emit(info, True)
            return
        console.print(f"[bold green]Consortia dev chain[/] {node.genesis.chain_id} "
                      f"at height {node.chain.head.height}")
        console.print(f"  API and explorer: {url}")
        console.print(f"  genesis: {home / GENESIS_FILE}")
        console.print("  funded dev keys (unencrypted, for development only):")
        for k in keys:
            console.print(f"    {k['file']}  {k['address']}")
        console.print("  stop with Ctrl-C")

    run_node(node, ready)


@node_app.command("start")
@handles_errors
def node_start(
    home: Path = typer.Option(..., "--home", help="Node home directory."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Log debug lines too (empty blocks, peers)."),
    index_db: str = INDEX_DB,
    api_host: str | None = typer.Option(
        None, "--api-host", help="Address the API listens on (default: node.json's api_host, "
        "127.0.0.1: this machine only; 0.0.0.0: every interface)."),
    api_tls: bool | None = typer.Option(
        None, "--api-tls/--no-api-tls", help="Serve the API over HTTPS with the node's "
        "organisation certificate (default: node.json's api_tls); clients pass --ca."),
    as_json: bool = JSON,
) -> None:
    """Run one node from its home directory until stopped."""
    from consortia.node.node import Node
    from consortia.node.runner import run_node

    _setup_logging(verbose)
    if api_host is not None and not api_host.strip():
        raise InvalidArgument("--api-host is empty: give an address (127.0.0.1, 0.0.0.0, a host name)")
    node = Node(home, index_db=index_db)
    node.config = msgspec.structs.replace(
        node.config, api_host=node.config.api_host if api_host is None else api_host.strip(),
        api_tls=node.config.api_tls if api_tls is None else api_tls)
    scheme = "https" if node.config.api_tls else "http"
    url = f"{scheme}://{node.config.api_host}:{node.config.api_port}"
    run_node(node, lambda: emit({"home": str(home), "api": url}, as_json,
                                lambda: console.print(f"node {node.config.name} serving {url}")))


@network_app.command("init")
@handles_errors
def network_init(
    validators: int = typer.Option(4, "--validators", help="How many validators (3f+1)."),
    home: Path = typer.Option(..., "--home", help="Directory for the network."),
    suite: str = typer.Option("ed25519", "--suite", help="ed25519 or sm2."),
    base_port: int = typer.Option(8600, "--base-port", help="API of node i on base+i, p2p on base+100+i."),
    orgs: str = typer.Option(None, "--orgs", help=network_cli.ORGS_HELP),
    standby: int = typer.Option(0, "--standby", help="Extra nodes that governance may add later."),
    chain_id: str = typer.Option(NETWORK_CHAIN_ID, "--chain-id", help="The chain's identifier."),
    as_json: bool = JSON,
) -> None:
    """Write complete homes for a local network of validators."""
    check_count(validators, "--validators", 1)
    check_count(standby, "--standby", 0)
    check_port(base_port, "--base-port")
    network_cli.init_command(home, validators, suite, base_port, as_json, orgs, standby,
                             check_chain_id(chain_id, "--chain-id"))


@network_app.command("status")
@handles_errors
def network_status(
    home: Path = typer.Option(None, "--home", help="Directory of a local network."),
    api: list[str] = typer.Option([], "--api", help="Or a node's API URL, on any host (repeat)."),
    as_json: bool = JSON,
) -> None:
    """Height, round, leader, peers, state root and warnings of each node (of the network in
    .consortia, the one `consortia up` runs, unless --home or --api says otherwise)."""
    network_cli.status_command(home if home is not None or api else Path(".consortia"), as_json, api)


@app.command()
@handles_errors
def up(
    validators: int = typer.Option(4, "--validators", help="How many validators (first start)."),
    home: Path = typer.Option(Path(".consortia"), "--home", help="Directory of the network."),
    suite: str = typer.Option("ed25519", "--suite", help="ed25519 or sm2 (first start)."),
    base_port: int = typer.Option(None, "--base-port",
                                  help="API of node i on base+i (first start; default 8600)."),
    orgs: str = typer.Option(None, "--orgs", help="Organisations NAME:ROLE,... (first start)."),
    standby: int = typer.Option(0, "--standby", help="Extra nodes governance may add (first start)."),
    chain_id: str = typer.Option(NETWORK_CHAIN_ID, "--chain-id",
                                 help="The chain's identifier (first start)."),
    as_json: bool = JSON,
) -> None:
    """Run a local network (initialising it first if needed) until Ctrl-C."""
    check_count(validators, "--validators", 1)
    check_count(standby, "--standby", 0)
    if base_port is not None:
        check_port(base_port, "--base-port")
    network_cli.up_command(home, validators, suite, base_port, as_json, orgs, standby,
                           check_chain_id(chain_id, "--chain-id"))


@app.command()
def sim(
    validators: int = typer.Option(4, "--validators", help="Validators per simulated network."),
    seeds: int = typer.Option(100, "--seeds", help="How many seeds to run."),
    seed: int = typer.Option(None, "--seed", help="Run (replay) this one seed."),
    whole_node: bool = typer.Option(
        False, "--whole-node", help="Simulate complete nodes (storage, mempool, crashes), not only consensus."
    ),
    verbose: bool = typer.Option(False, "--verbose", help="With --whole-node: print the nodes' log."),
    as_json: bool = JSON,
) -> None:
    """Run the deterministic simulator; non-zero exit on any violation."""
    from consortia.sim.cli_entry import sim_command

    raise typer.Exit(sim_command(validators, seeds, seed, as_json, whole_node=whole_node, verbose=verbose))


# --- queries ------------------------------------------------------------------------------


@app.command()
@handles_errors
def status(node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Height, ids and roots of a node's chain."""
    with connect(node, key) as client:
        emit(client.status(), as_json)


@app.command()
@handles_errors
def balance(
    address: str = typer.Argument(..., help="0x address."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON
) -> None:
    """An account's balance and nonce."""
    target = check_address_arg(address)
    with connect(node, key) as client:
        data = client.account(target)
    emit(data, as_json, lambda: console.print(str(data["balance"])))


@app.command()
@handles_errors
def transfer(
    key: Path = typer.Option(..., "--key", help="Sender's key file."),
    to: str = typer.Option(..., "--to", help="Recipient address."),
    amount: str = typer.Option(..., "--amount", help="Units to send: a whole number from 1 to 2**64 - 1."),
    node: str = NODE,
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for finality."),
    as_json: bool = JSON,
) -> None:
    """Send units and wait until final; exits non-zero on rejection or timeout.

    The recipient, amount and timeout are checked before the key is read or anything is signed."""
    recipient = check_address_arg(to, "--to")
    units = check_amount(parse_int_text(amount, "amount"), "amount")
    check_timeout(timeout)
    wallet_key = load_key(key)
    with connect(node, wallet_key, timeout=timeout + 10) as client:
        result = Wallet(wallet_key, client).transfer(recipient, units, timeout=timeout)
    data = {"ok": result.status == "ok", "tx_hash": "0x" + result.tx_hash.hex(),
            "height": result.height, "status": result.status, "error": result.error}
    emit(data, as_json, lambda: console.print(
        f"committed 0x{result.tx_hash.hex()} at height {result.height}: {result.status}"
        + (f" ({result.error})" if result.error else "")))
    if result.status != "ok":
        raise typer.Exit(1)


@app.command()
@handles_errors
def receipt(
    tx_hash: str = typer.Argument(..., metavar="TXHASH"),
    out: Path = typer.Option(None, "--out", help="Write the receipt proof to this file."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """A transaction's receipt with its inclusion proofs and the certified block header."""
    import json

    raw_hash = parse_tx_hash(tx_hash)
    with connect(node, key) as client:
        proof = client.receipt_proof(raw_hash)
    plain = to_plain(proof)
    if out is not None:
        out.write_text(json.dumps(plain, indent=2) + "\n")
    summary = {"tx_hash": tx_hash, "height": proof.header.height,
               "status": proof.receipt.status, "file": str(out) if out else None}
    emit(summary if out else plain, as_json, lambda: console.print(
        f"receipt of {tx_hash} at height {proof.header.height}: {proof.receipt.status}"
        + (f", written to {out}" if out else "")))


@app.command()
@handles_errors
def verify(
    file: Path = typer.Argument(..., help="Receipt file from `consortia receipt --out`."),
    genesis: Path = typer.Option(..., "--genesis", help="The chain's genesis.json."),
    as_json: bool = JSON,
) -> None:
    """Verify a receipt offline against the genesis validators; non-zero exit if it fails."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise FileUnreadable(f"cannot read the receipt file {file}: {exc.strerror or exc}",
                             path=str(file)) from None
    try:
        proof = receipt_proof_from_json(text)
    except DecodeError as exc:
        raise ProofError(f"{file} is not a receipt proof: {exc.message}") from None
    verified = verify_receipt_proof(proof, load_genesis(genesis))
    data = {"ok": True, "tx_hash": "0x" + verified.tx_hash.hex(), "height": verified.height,
            "status": verified.status, "sender": format_address(verified.sender),
            "block_id": "0x" + verified.block_id.hex()}
    emit(data, as_json, lambda: console.print(
        f"[bold green]valid[/]: 0x{verified.tx_hash.hex()} from {data['sender']} is in block "
        f"{verified.height} certified by the validators; status {verified.status}"))



def main() -> None:
    app()
