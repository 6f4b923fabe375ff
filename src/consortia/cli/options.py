"""The options every command group shares, defined once.

``--node`` defaults to the ``CONSORTIA_NODE`` environment variable when it is set (so a user of a
network on other ports sets it once), else to the dev chain's API.
"""

from __future__ import annotations

import typer

from consortia.client.client import DEFAULT_NODE

NODE_ENV = "CONSORTIA_NODE"

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
NODE = typer.Option(DEFAULT_NODE, "--node", envvar=NODE_ENV,
                    help=f"URL of a node's API (or set {NODE_ENV}).")
KEY = typer.Option(..., "--key", help="Key file of the signer.")
TIMEOUT = typer.Option(30.0, "--timeout",
                       help="Seconds to wait for finality (the transaction may still commit after).")
