"""A connection to a node's API that says who is asking.

On a chain with organisations a node answers only requests signed by an enrolled identity, each as
that identity may read (decisions/0021). Every command that talks to a node connects through
:func:`connect`: with the signer's key when the command signs a transaction, else with ``--key`` or
the key file named by ``CONSORTIA_KEY``. A development chain's open API ignores the signature.
"""

from __future__ import annotations

import os
from pathlib import Path

from consortia.cli.keys import load_key
from consortia.cli.options import KEY_ENV
from consortia.client.client import Client
from consortia.crypto.keys import KeyPair


def connect(node: str, key: Path | KeyPair | None = None, *, timeout: float = 30.0) -> Client:
    """A client of ``node`` signing every request with ``key`` (a key file or a loaded key), else
    with the key file ``CONSORTIA_KEY`` names; neither: anonymous, which an open (development)
    API serves and a chain with organisations refuses with a typed 401 that names both."""
    if key is None and os.environ.get(KEY_ENV):
        key = Path(os.environ[KEY_ENV])
    signer = load_key(key) if isinstance(key, Path) else key
    return Client(node, timeout=timeout, key=signer)
