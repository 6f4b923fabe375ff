"""``consortia notary …``: notarisation (issue 12, apps/notary, decisions/0012).

    consortia notary stamp a.pdf b.pdf --key alice.key --out receipts/   # one transaction
    consortia notary stamp a.pdf --service --out receipts/                # the node's stamping service
    consortia notary verify a.pdf receipts/a.pdf.notary.json --genesis genesis.json   # offline
    consortia notary show a.pdf          # or a SHA-256 / root: who stamped it first, and when
    consortia notary stamps 0x<address>  # the roots an address anchored
    consortia notary enable --home net/node0 --key notary.key             # run the service on a node

Every command takes ``--json`` (one JSON document) and never prints a traceback; a refusal exits
non-zero naming its code.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import msgspec
import typer

from consortia.apps.notary.errors import UnknownDocument
from consortia.apps.notary.receipts import VerifiedStamp, file_hash, receipt_file_bytes
from consortia.apps.notary.service import check_service_config, load_service_key
from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, NODE, READ_KEY
from consortia.cli.output import console, emit, handles_errors
from consortia.client import notary
from consortia.client.arguments import check_timeout
from consortia.client.wallet import Wallet
from consortia.crypto.address import format_address
from consortia.errors import ConfigError
from consortia.node.config import NotaryServiceConfig, load_config, write_config
from consortia.node.genesis import load_genesis

notary_app = typer.Typer(no_args_is_help=True, help="Notarisation: stamp documents, verify receipts offline.")


def register(app: typer.Typer) -> None:
    app.add_typer(notary_app, name="notary")


def _time(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(timespec="milliseconds")


def _verified_json(v: VerifiedStamp) -> dict[str, Any]:
    return {"ok": True, "document": "0x" + v.document.hex(), "root": "0x" + v.root.hex(),
            "height": v.height, "timestamp_ms": v.timestamp_ms, "time": _time(v.timestamp_ms),
            "stamper": format_address(v.stamper), "tx_hash": "0x" + v.tx_hash.hex(),
            "block_id": "0x" + v.block_id.hex(), "batch_documents": v.documents}


@notary_app.command("stamp")
@handles_errors
def stamp(
    files: list[Path] = typer.Argument(..., help="Documents to notarise (any number)."),
    out: Path = typer.Option(..., "--out", help="Directory for the receipts (one FILE.notary.json each)."),
    key: Path = typer.Option(None, "--key", help="Key file that signs the anchoring transaction."),
    service: bool = typer.Option(False, "--service", help="Use the node's stamping service (no key)."),
    no_register: bool = typer.Option(False, "--no-register",
                                     help="With --key: do not record the documents in the node's index."),
    node: str = NODE,
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for finality."),
    as_json: bool = JSON,
) -> None:
    """Anchor the SHA-256 of every file in one transaction; write one receipt per file."""
    if (key is None) == (not service):
        raise ConfigError("give either --key FILE (sign the anchoring yourself) or --service (the node's "
                          "stamping service)")
    check_timeout(timeout)
    if service and timeout > 60:
        raise ConfigError("--service waits at most 60 seconds (--timeout)")
    hashes = notary.hash_files(files)
    receipt_paths = notary.receipt_paths(out, [f.name for f in files])
    existing = [p for p in receipt_paths if p.exists()]
    if existing:
        raise ConfigError(f"{existing[0]} already exists; choose another --out directory")
    signer = load_key(key) if key is not None else None
    with connect(node, signer, timeout=timeout + 30) as client:
        if signer is not None:
            stamped = notary.NotaryWallet(Wallet(signer, client), timeout).stamp(hashes, not no_register)
        else:
            stamped = notary.NotaryClient(client).stamp_hashes(hashes, timeout)
    written = stamped.save(out, [f.name for f in files])
    data = {"ok": True, "tx_hash": "0x" + stamped.tx_hash.hex(), "height": stamped.height,
            "timestamp_ms": stamped.timestamp_ms, "time": _time(stamped.timestamp_ms),
            "root": "0x" + stamped.root.hex(), "documents": len(files), "indexed": stamped.indexed,
            "receipts": [{"file": str(f), "sha256": "0x" + h.hex(), "receipt": str(p)}
                         for f, h, p in zip(files, hashes, written, strict=True)]}
    emit(data, as_json, lambda: console.print(
        f"[bold green]stamped[/] {len(files)} document(s) in block {stamped.height} ({data['time']}), "
        f"root {data['root']}; receipts in {out}"))


@notary_app.command("verify")
@handles_errors
def verify(
    file: Path = typer.Argument(..., help="The document."),
    receipt: Path = typer.Argument(..., help="Its receipt (FILE.notary.json)."),
    genesis: Path = typer.Option(..., "--genesis", help="The chain's genesis.json."),
    as_json: bool = JSON,
) -> None:
    """Check offline, with only the genesis file, that the document was anchored (non-zero exit
    if the file or the receipt was changed)."""
    verified = notary.verify_file(file, receipt, load_genesis(genesis))
    data = _verified_json(verified)
    emit(data, as_json, lambda: console.print(
        f"[bold green]valid[/]: {file} (SHA-256 {data['document']}) was anchored by {data['stamper']} "
        f"in block {verified.height} at {data['time']}, certified by the validators"))


@notary_app.command("show")
@handles_errors
def show(
    what: str = typer.Argument(..., metavar="FILE|SHA256", help="A document file, its SHA-256 or a root."),
    receipt_out: Path = typer.Option(None, "--receipt-out", help="Write the document's receipt here."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Who stamped a document (or a root) first, and when."""
    path = Path(what)
    try:
        digest = file_hash(path) if path.is_file() else notary.check_hash(what, "the argument")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    with connect(node, key) as client:
        api = notary.NotaryClient(client)
        try:
            found = api.document(digest)
            kind = "document"
        except UnknownDocument:
            try:
                found = {"root": "0x" + digest.hex(), **api.root(digest)}
            except UnknownDocument:
                raise UnknownDocument(f"node {node} knows no stamp of 0x{digest.hex()}, neither as a "
                                      "document nor as an anchored root", document="0x" + digest.hex()) \
                    from None
            kind = "root"
    if receipt_out is not None:
        if kind != "document":
            raise ConfigError(f"0x{digest.hex()} is a root, not a document: there is no receipt to write")
        if receipt_out.exists():
            raise ConfigError(f"{receipt_out} already exists")
        receipt_out.write_bytes(receipt_file_bytes(notary.receipt_of(found)))
    found.pop("receipt", None)
    data = {"kind": kind, **found, "time": _time(int(found["timestamp_ms"])),
            "receipt_file": str(receipt_out) if receipt_out else None}
    emit(data, as_json, lambda: console.print(
        f"{kind} 0x{digest.hex()}: first stamped by {data['stamper']} in block {data['height']} "
        f"at {data['time']}" + (f"; receipt written to {receipt_out}" if receipt_out else "")))


@notary_app.command("stamps")
@handles_errors
def stamps(
    address: str = typer.Argument(..., help="The stamper's 0x address."),
    start: int = typer.Option(1, "--start", help="From the n-th root (1-based)."),
    limit: int = typer.Option(20, "--limit", help="How many (1 to 100)."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """The roots an address anchored first: height, time, documents."""
    with connect(node, key) as client:
        data = notary.NotaryClient(client).stamper(address, start, limit)

    def human() -> None:
        console.print(f"{data['stamper']} anchored {data['count']} root(s)")
        for r in data["roots"]:
            console.print(f"  {r['root']}  block {r['height']}  {_time(int(r['timestamp_ms']))}  "
                          f"{r['documents']} document(s)")

    emit(data, as_json, human)


@notary_app.command("service")
@handles_errors
def service_status(node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """The node's stamping service: its stamper, pending work, limits and counts."""
    with connect(node, key) as client:
        emit(notary.NotaryClient(client).service(), as_json)


@notary_app.command("enable")
@handles_errors
def enable(
    home: Path = typer.Option(..., "--home", help="The node's home directory."),
    key: Path = typer.Option(..., "--key", help="Key file the service signs with (used by nothing else)."),
    max_request: int = typer.Option(10_000, "--max-request", help="Hashes one request may carry."),
    max_pending: int = typer.Option(1_000_000, "--max-pending", help="Documents pending over all clients."),
    max_requests: int = typer.Option(10_000, "--max-requests", help="Requests pending over all clients."),
    as_json: bool = JSON,
) -> None:
    """Run the stamping service on a node (written to its node.json; takes effect at its next start)."""
    config = load_config(home)
    service = check_service_config(NotaryServiceConfig(str(key.resolve()), max_request, max_pending,
                                                       max_requests))
    signer = load_service_key(home, service)  # the key opens now, or the command says why
    write_config(home, msgspec.structs.replace(config, notary=service))
    data = {"ok": True, "home": str(home), "key_file": service.key_file,
            "stamper": format_address(signer.address), "max_request_hashes": max_request,
            "max_pending_documents": max_pending, "max_pending_requests": max_requests}
    emit(data, as_json, lambda: console.print(
        f"[bold green]notary service enabled[/] on {home}: stamper {data['stamper']} (restart the node)"))

