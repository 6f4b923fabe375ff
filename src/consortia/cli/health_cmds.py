"""``consortia health …``: healthcare records with consent (issue 12, apps/health).

    consortia health enable --home net/node0 --key node0-health.key   # a hospital node keeps records
    consortia health register-key --key patient.key                   # once per identity
    consortia health put scan.pdf --patient 0x… --key doctor.key      # encrypted, kept by the node
    consortia health grant 0x<record> --to 0x… --purpose "second opinion" --until 2025-01-31 --key patient.key
    consortia health get 0x<record> --key doctor-b.key --out scan.pdf  # signed fetch, logged on chain
    consortia health revoke 0x<record> --from 0x… --key patient.key
    consortia health break-glass 0x<record> --reason "unconscious in the ED" --key doctor.key
    consortia health log 0x<record>                                   # every grant, opening, access
    consortia health patient 0x…                                      # a patient's records and alerts

``--node`` is the hospital's node for ``put`` and ``get`` (it keeps the ciphertext); any node
answers reads. Every argument is checked before anything is signed; a refusal exits non-zero
naming its code; ``--json`` prints one JSON document; values are never cut in a pipe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import typer

from consortia.apps.health.records import MAX_RECORD_BYTES
from consortia.apps.health.service import load_custodian_key
from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors, shorten
from consortia.client import health
from consortia.client.arguments import InvalidArgument
from consortia.client.wallet import Wallet
from consortia.crypto.address import format_address
from consortia.node.config import HealthStoreConfig, load_config, write_config

RECORD = typer.Argument(..., metavar="RECORD", help="The record's id (0x SHA-256 of its ciphertext).")

health_app = typer.Typer(no_args_is_help=True, help="Healthcare records with the patient's consent.")


def register(app: typer.Typer) -> None:
    app.add_typer(health_app, name="health")


@contextlib.contextmanager
def _signer(key: Path, node: str, timeout: float) -> Iterator[health.HealthWallet]:
    signer_key = load_key(key)
    with connect(node, signer_key, timeout=timeout + 10) as client:
        yield health.HealthWallet(Wallet(signer_key, client), timeout=timeout)


def _done(data: dict[str, Any], as_json: bool, what: str) -> None:
    emit(data, as_json, lambda: console.print(
        f"[bold green]{what}[/]: {data['tx_hash']} committed at height {data['height']}", highlight=False))


@health_app.command("enable")
@handles_errors
def enable(
    home: Path = typer.Option(..., "--home", help="The hospital node's home directory."),
    key: Path = typer.Option(..., "--key", help="The node's custodian key file (used by nothing else)."),
    max_record: int = typer.Option(MAX_RECORD_BYTES, "--max-record", help="Largest ciphertext kept, bytes."),
    as_json: bool = JSON,
) -> None:
    """Keep health records on a node (written to its node.json; takes effect at its next start).

    Register the key's sealing key once: consortia health register-key --key FILE."""
    config = load_config(home)
    store = HealthStoreConfig(str(key.resolve()), max_record)
    custodian = load_custodian_key(home, store)  # the key opens now, or the command says why
    write_config(home, msgspec.structs.replace(config, health=store))
    data = {"ok": True, "home": str(home), "key_file": store.key_file,
            "custodian": format_address(custodian.address), "max_record_bytes": max_record}
    emit(data, as_json, lambda: console.print(
        f"[bold green]health record store enabled[/] on {home}: custodian {data['custodian']} (restart the "
        "node)", highlight=False))


@health_app.command("register-key")
@handles_errors
def register_key(key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """Publish this identity's X25519 sealing key, so data keys can be sealed to it."""
    with _signer(key, node, timeout) as wallet:
        data = wallet.register_key()
    emit(data, as_json, lambda: console.print(
        f"[bold green]sealing key {'registered' if data['registered'] else 'already registered'}[/] for "
        f"{data['address']}: {data['sealing_key']}", highlight=False))


@health_app.command("put")
@handles_errors
def put(
    file: Path = typer.Argument(..., help="The record (any file); encrypted before it leaves this machine."),
    patient: str = typer.Option(..., "--patient", help="0x address of the patient."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Encrypt FILE, record its hash for the patient on chain, keep the ciphertext on --node."""
    if not file.is_file():
        raise InvalidArgument(f"{file} is not a file")
    with _signer(key, node, timeout) as wallet:
        data = wallet.put(file.read_bytes(), patient)
    emit(data, as_json, lambda: console.print(
        f"[bold green]record stored[/]: {data['record']} for patient {data['patient']} ({data['size']} bytes "
        f"of ciphertext on {node}), committed at height {data['height']}", highlight=False))


@health_app.command("grant")
@handles_errors
def grant(
    record: str = RECORD,
    to: str = typer.Option(..., "--to", help="0x address of the grantee (a doctor, an insurer)."),
    purpose: str = typer.Option(..., "--purpose", help="What it is for (on chain: no personal data)."),
    until: str = typer.Option(..., "--until", help="Last day of access YYYY-MM-DD (UTC), or ISO time+zone."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Grant access to a record (the patient): its data key sealed to the grantee on chain."""
    until_ms = health.parse_until(until)
    with _signer(key, node, timeout) as wallet:
        data = wallet.grant(record, to, purpose, until_ms)
    _done(data, as_json, f"access granted to {data['grantee']} until {until}")


@health_app.command("revoke")
@handles_errors
def revoke(
    record: str = RECORD,
    grantee: str = typer.Option(..., "--from", help="0x address of the grantee whose access ends."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Revoke a grant (the patient): later fetches are refused.

    A grantee who already fetched keeps what it decrypted and the data key: revocation cannot undo that."""
    with _signer(key, node, timeout) as wallet:
        data = wallet.revoke(record, grantee)
    _done(data, as_json, f"access of {data['grantee']} revoked")


@health_app.command("break-glass")
@handles_errors
def break_glass(
    record: str = RECORD,
    reason: str = typer.Option(..., "--reason", help="The emergency (no diagnosis: it is on chain)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Open a record without consent in an emergency: the regulator and the patient are alerted.

    Hospital staff only; then `health get` works for one hour."""
    with _signer(key, node, timeout) as wallet:
        data = wallet.break_glass(record, reason)
    _done(data, as_json, "emergency access opened (regulator and patient alerted)")


@health_app.command("get")
@handles_errors
def get(
    record: str = RECORD,
    out: Path = typer.Option(..., "--out", help="Where to write the decrypted record."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Fetch a record from its hospital's node (--node), logged on chain, and decrypt it."""
    with _signer(key, node, timeout) as wallet:
        plaintext, answer = wallet.get(record)
    out.write_bytes(plaintext)
    data = {**answer, "out": str(out), "size": len(plaintext)}
    emit(data, as_json, lambda: console.print(
        f"[bold green]record fetched[/] ({data['basis']}): {len(plaintext)} bytes to {out}; access logged in "
        f"{shorten(data['log_tx'], 12, 6)} at height {data['height']}", highlight=False))


@health_app.command("log")
@handles_errors
def log(record: str = RECORD, node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """The record's whole access log: stored, granted, revoked, break-glass, every access."""
    with connect(node, key) as client:
        entries = health.HealthClient(client).log(record)
    data = {"record": "0x" + health.check_record(record).hex(), "count": len(entries), "log": entries}

    def human() -> None:
        console.print(f"[bold]record {data['record']}[/]: {len(entries)} entries", highlight=False)
        for e in entries:
            line = f"{e['n']:>4}  height {e['height']:>7}  {e['kind']:<12} {e['party']}  {e['detail']}"
            console.print(line, highlight=False, markup=False)

    emit(data, as_json, human)


@health_app.command("patient")
@handles_errors
def patient(address: str = typer.Argument(..., help="0x address of the patient."),
            node: str = NODE, key: Path | None = READ_KEY,
            as_json: bool = JSON) -> None:  # fmt: skip
    """A patient's records and the emergency openings of them."""
    with connect(node, key) as client:
        data = health.HealthClient(client).patient(address)
    emit(data, as_json)
