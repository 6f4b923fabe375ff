"""``consortia org rotate-ca``: an organisation makes its new CA at home (decisions/0019).

In the organisation's home, nothing private leaving it:

* a new CA under ``ca/gen-<n>/`` (``org.json`` then names it as the CA, the one it replaces
  as ``previous_ca_cert``; ``node rotate-tls`` renews with whichever issued the current
  certificate);
* ``node/tls/node.next.crt``: the node's certificate from the new CA for the same TLS key and
  index, which the running node switches to at the rotation's effective height;
* the :class:`~consortia.types.ca_rotation.CaRotationRequest` signed by the admin key, to be
  proposed by ``consortia gov propose rotate-ca --request FILE``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from consortia.codec.plain import from_plain, to_plain
from consortia.crypto.keyfile import load_key_file
from consortia.errors import ConfigError, DecodeError
from consortia.node.ca_rollover import NEXT_CERT_FILE
from consortia.node.config import load_config, write_text_atomic
from consortia.node.network_setup import ADMIN_KEY_FILE, ORG_FILE, tls_files
from consortia.node.org_home import load_org_home
from consortia.node.org_node import issue_tls, issuing_ca
from consortia.p2p.certs import create_ca, load_certificate
from consortia.p2p.pinning import spki_sha256
from consortia.types.ca_rotation import (
    CA_ROTATION_FORMAT,
    CaRotationBody,
    CaRotationRequest,
    ca_rotation_signing_bytes,
)

CA_GENERATION_PREFIX = "gen-"


class CaRotationError(ConfigError):
    """A CA rotation request or home that cannot be used."""

    code = "invalid_ca_rotation"


@dataclass(frozen=True, slots=True)
class RotatedCa:
    org: str
    ca_cert: Path
    previous_ca_cert: Path
    next_node_cert: Path
    request: CaRotationRequest


def _next_generation(home: Path) -> Path:
    n = 2
    while (home / "ca" / f"{CA_GENERATION_PREFIX}{n}").exists():
        n += 1
    return home / "ca" / f"{CA_GENERATION_PREFIX}{n}"


def rotate_org_ca(home: Path, password: str | None) -> RotatedCa:
    """Make the organisation's new CA, its node's next certificate and the signed request.
    Checks first (the admin key, the node home, no rotation pending), then writes."""
    info = load_org_home(home)
    admin = load_key_file(home / ADMIN_KEY_FILE, password)
    if admin.public_key != info.admin_public_key:
        raise CaRotationError(f"{home / ADMIN_KEY_FILE} is not the admin key {ORG_FILE} names")
    node_home = info.node_home
    config = load_config(node_home)
    files = tls_files(node_home)
    next_cert = files.cert.with_name(NEXT_CERT_FILE)
    if next_cert.exists():
        raise CaRotationError(
            f"a CA rotation is pending: {next_cert} exists; the node switches to it at the rotation's "
            "height (propose the request first, or delete the file to start over)"
        )
    current_ca = issuing_ca(info, files.cert)
    if info.previous_ca_cert is not None and current_ca != info.ca_cert:
        raise CaRotationError(
            f"the node still presents a certificate of {current_ca}: the previous CA rotation has "
            "not taken effect on this node yet"
        )
    generation = _next_generation(home)
    new_ca, _key = create_ca(info.name, generation)
    made, _ = issue_tls(info, node_home, config.validator_index, config.p2p_host,
                         ca_cert=new_ca, out_dir=generation)
    os.replace(made, next_cert)
    body = CaRotationBody(
        CA_ROTATION_FORMAT, info.name, spki_sha256(load_certificate(current_ca)), new_ca.read_bytes(),
        time.time_ns() // 1_000_000,
    )
    request = CaRotationRequest(body, admin.public_key, admin.sign(ca_rotation_signing_bytes(body)))
    updated = replace(info, ca_cert=new_ca, previous_ca_cert=current_ca)
    write_text_atomic(home / ORG_FILE, json.dumps(updated.to_json(), indent=2) + "\n")
    return RotatedCa(info.name, new_ca, current_ca, next_cert, request)


def request_to_json(request: CaRotationRequest) -> str:
    return json.dumps(to_plain(request), indent=2) + "\n"


def load_ca_rotation_request(path: Path) -> CaRotationRequest:
    """A request file (structure only; the chain checks the signature and the CA)."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise CaRotationError(f"cannot read the CA rotation request {path}: {exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CaRotationError(f"{path} is not a CA rotation request (not JSON: {exc})") from None
    try:
        return from_plain(CaRotationRequest, data)
    except DecodeError as exc:
        raise CaRotationError(f"{path} is not a CA rotation request: {exc.message}") from None
