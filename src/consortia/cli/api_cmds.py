"""``consortia api …``: the node's API as a person uses it (decisions/0021, 0022).

    consortia api signin --key alice.key --node http://127.0.0.1:8545
    # signed in as 0x… (member of bank-a) until 2026-12-01 04:30:00 UTC
    # http://127.0.0.1:8545/#token=cs1.…

``signin`` signs one request with the identity's key (``POST /v1/auth/session``, RFC 9421) and
prints the explorer's address carrying the session token it gets: the browser is signed in as
that identity for 15 minutes (renewed while the tab is open) and the private key never enters
it. The token is a bearer credential for this node: whoever has the link reads as the identity
until it expires. On a node whose API is open the explorer needs no sign-in, and ``signin`` says
so. Every command takes ``--json`` and never prints a traceback.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import typer

from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE
from consortia.cli.output import console, emit, handles_errors
from consortia.client.client import Client

api_app = typer.Typer(no_args_is_help=True, help="The node's API and explorer: sign in as an identity.")
SESSION_PATH = "/v1/auth/session"


def register(app: typer.Typer) -> None:
    app.add_typer(api_app, name="api")


def explorer_link(node: str, token: str) -> str:
    """The explorer's address on ``node`` that signs the browser in with ``token``."""
    return f"{node.rstrip('/')}/#token={token}"


def open_session(client: Client) -> dict[str, Any]:
    """A session on ``client``'s node for the key it signs with (one signed request); on an open
    API ``{"api_access": "open"}`` and no request is signed."""
    if client.status().get("api_access") == "open":
        return {"api_access": "open"}
    session: dict[str, Any] = client._request("POST", SESSION_PATH)
    return {"api_access": "signed", **session}


def _utc(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@api_app.command("signin")
@handles_errors
def signin(key: Path = KEY, node: str = NODE, as_json: bool = JSON) -> None:
    """Sign the explorer in as KEY's identity: prints the explorer's address with a session token
    (15 minutes, this node only; the key never enters the browser)."""
    signer = load_key(key)
    with connect(node, signer) as client:
        session = open_session(client)
    base = node.rstrip("/")
    if session["api_access"] == "open":
        data: dict[str, Any] = {"ok": True, "api_access": "open", "url": base + "/"}
        emit(data, as_json, lambda: console.print(f"this node's API is open: no sign-in needed\n{base}/",
                                                  markup=False))
        return
    data = {"ok": True, "api_access": "signed", "url": explorer_link(base, session["token"]),
            "token": session["token"], "expires": session["expires"], "address": session["address"],
            "org": session["org"], "role": session["role"]}  # fmt: skip

    def human() -> None:
        console.print(f"signed in as {data['address']} ({data['role']} of {data['org']}) until "
                      f"{_utc(int(data['expires']))}; open in a browser:", markup=False)
        console.print(data["url"], soft_wrap=True, markup=False, highlight=False)

    emit(data, as_json, human)
