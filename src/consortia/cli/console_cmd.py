"""``consortia console``: an interactive Python session connected to a node, as Hardhat's and
FISCO BCOS's consoles give — a client, the network's dev wallets and every SDK already imported.

IPython is used when it is installed; otherwise Python's own interactive console. Input may come
from a pipe (``echo 'client.height()' | consortia console``), so a session can be scripted.
"""

from __future__ import annotations

import code
import importlib
import sys
from pathlib import Path
from typing import Any

import typer

from consortia import __version__
from consortia.cli.connect import connect
from consortia.cli.options import NODE, READ_KEY
from consortia.cli.output import handles_errors
from consortia.client.client import Client
from consortia.client.wallet import Wallet
from consortia.crypto.keyfile import load_key_file
from consortia.errors import KeyFileError

SDK_MODULES = {
    "contracts": "consortia.client.contracts", "perm": "consortia.client.permissioned",
    "cbdc": "consortia.client.cbdc", "bills": "consortia.client.bills", "notary": "consortia.client.notary",
    "energy": "consortia.client.energy", "health": "consortia.client.health", "scf": "consortia.client.scf",
    "index": "consortia.client.index", "tx_builder": "consortia.client.tx_builder",
}
DEFAULT_HOMES = (Path(".consortia"), Path(".consortia-dev"))


def dev_wallets(homes: list[Path], client: Client) -> dict[str, Wallet]:
    """A Wallet for every unencrypted dev key under ``homes`` (``keys/*.key``), by its name."""
    wallets: dict[str, Wallet] = {}
    for home in homes:
        for path in sorted((home / "keys").glob("*.key")):
            try:
                wallets.setdefault(path.stem, Wallet(load_key_file(path, None), client))
            except KeyFileError:
                continue  # a key with a password is not preloaded
    return wallets


def namespace(client: Client, homes: list[Path]) -> dict[str, Any]:
    names: dict[str, Any] = {"client": client, "Client": Client, "Wallet": Wallet,
                             "load_key_file": load_key_file}
    for name, module in SDK_MODULES.items():
        names[name] = importlib.import_module(module)
    wallets = dev_wallets(homes, client)
    names["wallets"] = wallets
    names.update(wallets)  # alice, bob, ... directly
    return names


def banner(client: Client, names: dict[str, Any]) -> str:
    wallets = ", ".join(names["wallets"]) or "none found (pass --home)"
    return (f"Consortia {__version__} console — {client.url}\n"
            f"  client (Client), wallets: {wallets}\n"
            f"  SDKs: {', '.join(SDK_MODULES)}   e.g. client.height(), alice.transfer(bob.address, 5)")


@handles_errors
def console_command(
    node: str = NODE, key: Path | None = READ_KEY,
    home: list[Path] = typer.Option([], "--home", help="Network home(s) whose dev keys to preload "
                                    "(default: .consortia and .consortia-dev when present)."),
) -> None:
    """An interactive Python session with a connected client, the dev wallets and the SDKs."""
    client = connect(node, key)
    names = namespace(client, home or [h for h in DEFAULT_HOMES if h.is_dir()])
    text = banner(client, names)
    try:
        if sys.stdin.isatty():
            try:
                from IPython import start_ipython

                start_ipython(argv=["--no-banner"], user_ns=names, display_banner=False)
                return
            except ImportError:
                pass
        if not sys.stdin.isatty():  # a script on stdin: its output only, no prompts
            sys.ps1 = sys.ps2 = ""
        code.interact(banner=text if sys.stdin.isatty() else "", local=names, exitmsg="")
    finally:
        client.close()


def register(app: typer.Typer) -> None:
    app.command("console")(console_command)
