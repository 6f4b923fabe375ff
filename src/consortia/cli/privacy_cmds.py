"""``consortia privacy …``: sealing keys, the regulator's supervisor, organisations' stores of
sealed content, and lawful erasure (issue 14, apps/privacy, decisions/0024).

    consortia privacy register-key --key me.key                 # once per identity
    consortia privacy set-supervisor --key regulator.key        # content is sealed to it too
    consortia privacy set-store http://10.0.0.5:8700 --key orgs/bank-a/admin.key
    consortia privacy request-erasure 0x<content> --reason "GDPR art. 17" --key me.key
    consortia privacy erase 0x<content> --reason "approved: art. 17" --key regulator.key
    consortia privacy show 0x<content>                           # erased? by whom, when
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors
from consortia.client.client import Client
from consortia.client.privacy import PrivacyClient, PrivacyWallet
from consortia.client.wallet import Wallet
from consortia.contracts.python.json_data import to_json

privacy_app = typer.Typer(no_args_is_help=True,
                          help="Sealed content: sealing keys, the supervisor, stores, lawful erasure.")
REF = typer.Argument(..., metavar="CONTENT", help="The sealed content's SHA-256 (0x + 64 hex digits).")
REASON = typer.Option(..., "--reason", help="The legal basis (1-200 characters; never personal data).")


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")


def _wallet(key: Path, node: str, timeout: float) -> tuple[Client, PrivacyWallet]:
    signer = load_key(key)
    client = connect(node, signer, timeout=timeout + 10)
    return client, PrivacyWallet(Wallet(signer, client), timeout=timeout)


def _said(data: dict[str, Any], as_json: bool, line: str) -> None:
    emit(data, as_json, lambda: console.print(line, highlight=False))


@privacy_app.command("register-key")
@handles_errors
def register_key(key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """Publish this key's X25519 sealing key (derived from it): content can be sealed to it."""
    client, wallet = _wallet(key, node, timeout)
    with client:
        out = wallet.register_key()
    _said(out, as_json, f"sealing key {out['sealing_key']} " + ("registered" if out["registered"] else
                                                                "already registered"))


@privacy_app.command("set-supervisor")
@handles_errors
def set_supervisor(key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """The regulator: seal every new piece of content to this key too."""
    client, wallet = _wallet(key, node, timeout)
    with client:
        out = wallet.set_supervisor()
    _said(out, as_json, f"supervisor: {out['supervisor']}")


@privacy_app.command("set-store")
@handles_errors
def set_store(url: str = typer.Argument(..., help="The API URL of the organisation's node that keeps its "
                                        "sealed content."),
              key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON) -> None:
    """An organisation's admin: where its sealed content is sent."""
    client, wallet = _wallet(key, node, timeout)
    with client:
        out = wallet.set_store(url)
    _said(out, as_json, f"store: {out['store']}")


@privacy_app.command("request-erasure")
@handles_errors
def request_erasure(ref: str = REF, reason: str = REASON, key: Path = KEY, node: str = NODE,
                    timeout: float = TIMEOUT, as_json: bool = JSON) -> None:  # fmt: skip
    """Ask the regulator to erase content (on the record)."""
    client, wallet = _wallet(key, node, timeout)
    with client:
        out = wallet.request_erasure(ref, reason)
    _said(out, as_json, f"erasure of {out['ref']} requested")


@privacy_app.command("erase")
@handles_errors
def erase(ref: str = REF, reason: str = REASON, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
          as_json: bool = JSON) -> None:  # fmt: skip
    """The regulator: erase content; every node deletes its ciphertext and envelopes."""
    client, wallet = _wallet(key, node, timeout)
    with client:
        out = wallet.erase(ref, reason)
    _said(out, as_json, f"{out['ref']} erased (every node deletes its copy as the erasure commits)")


@privacy_app.command("show")
@handles_errors
def show(ref: str = REF, key: Path | None = READ_KEY, node: str = NODE, as_json: bool = JSON) -> None:
    """Whether content was erased: by whom, when, why (and who asked)."""
    with connect(node, key) as client:
        found = PrivacyClient(client).erasure(ref)
    data = {"ref": ref, "erased": found is not None, "erasure": None if found is None else to_json(found)}
    _said(data, as_json, f"{ref}: " + ("not erased" if found is None else
                                       f"erased at height {found['height']}: {found['reason']}"))
