"""Which certificates an SDK client trusts for an ``https://`` node (issue 14).

A node with ``api_tls`` serves its API with its organisation-issued certificate; a client trusts
the consortium's CA bundle (a node home's ``tls/ca-bundle.pem``) or its own organisation's CA
certificate, given as ``Client(url, ca=FILE)``, ``consortia --ca FILE ...`` or the file the
``CONSORTIA_CA`` environment variable names. Without any, the system's trust store decides (a
node behind a publicly certified proxy).
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from consortia.errors import FileUnreadable

CA_ENV = "CONSORTIA_CA"


def trust(ca: str | Path | None = None) -> ssl.SSLContext | bool:
    """An SSL context trusting the CA certificates in ``ca`` (else ``CONSORTIA_CA``'s file);
    ``True`` (the system's store) when neither names one. A file that is not PEM certificates
    is a typed error, not a later handshake failure."""
    chosen = ca if ca is not None else os.environ.get(CA_ENV) or None
    if chosen is None:
        return True
    path = Path(chosen)
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=str(path))
    except FileNotFoundError:
        raise FileUnreadable(f"the CA file {path} does not exist", path=str(path)) from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise FileUnreadable(f"the CA file {path} holds no PEM certificates: {exc}", path=str(path)) from None
    return context
