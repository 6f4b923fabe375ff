"""The options every command group shares, defined once.

``--node`` defaults to the ``CONSORTIA_NODE`` environment variable when it is set (so a user of a
network on other ports sets it once), else to the dev chain's API. ``--key`` defaults to the key file
``CONSORTIA_KEY`` names: the signer of a transaction, and on a read the identity the node answers.
"""

from __future__ import annotations

import typer

from consortia.client.client import DEFAULT_NODE

NODE_ENV = "CONSORTIA_NODE"
KEY_ENV = "CONSORTIA_KEY"

JSON = typer.Option(False, "--json", help="Print one JSON document instead of text.")
NODE = typer.Option(DEFAULT_NODE, "--node", envvar=NODE_ENV,
                    help=f"URL of a node's API (or set {NODE_ENV}).")
KEY = typer.Option(..., "--key", envvar=KEY_ENV, help=f"Key file of the signer (or set {KEY_ENV}).")
READ_KEY = typer.Option(
    None, "--key", envvar=KEY_ENV,
    help=f"Key file to sign the requests with (or set {KEY_ENV}): a chain with organisations "
         "answers enrolled identities only, each with what it may read.")  # fmt: skip
TIMEOUT = typer.Option(30.0, "--timeout",
                       help="Seconds to wait for finality (the transaction may still commit after).")
