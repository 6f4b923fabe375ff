"""One organisation's own home: its keys never leave it; only a signed public bundle does.

```
ORG_HOME/
  org.json               name, role, suite and the public parts (admin, validator, TLS pin)
  admin.key              the organisation admin's signing key (signs the bundle, votes)
  ca/<name>-ca.crt,.key  the organisation's CA (issues its node's TLS certificate)
  node/validator.key     its validator's consensus key
  node/tls/node.key      its validator's TLS key (the certificate is issued by ``node init``
                         once the genesis fixes the validator's index; peers pin the key)
```
``consortia org init`` makes it, ``consortia org export`` writes the bundle
(:mod:`consortia.types.org_bundle`), :mod:`consortia.node.genesis_assembly` turns every
organisation's bundle into the genesis, :mod:`consortia.node.org_node` prepares the node.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from consortia.codec.plain import from_plain, to_plain
from consortia.contracts.permissioned.org_registry import NAME_PATTERN
from consortia.contracts.permissioned.records import ORG_ROLES
from consortia.crypto.address import address_from_public_key, format_address
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import SUITES, get_suite
from consortia.errors import ConfigError, CryptoError, DecodeError
from consortia.node.config import VALIDATOR_KEY_FILE, write_text_atomic
from consortia.node.network_setup import ADMIN_KEY_FILE, ORG_FILE, TLS_DIR, create_org_material
from consortia.p2p.certs import generate_tls_key, load_certificate, load_private_key
from consortia.p2p.errors import CertificateError
from consortia.p2p.pinning import spki_sha256
from consortia.types.org_bundle import BUNDLE_FORMAT, OrgBundle, OrgBundleBody, bundle_signing_bytes

NODE_DIR = "node"
TLS_KEY_FILE = "node.key"
MAX_PORT = 65_535
MAX_HOST = 253


class BundleError(ConfigError):
    """A bundle that cannot be used: unreadable, malformed, or with a bad signature."""

    code = "invalid_bundle"


@dataclass(frozen=True, slots=True)
class OrgHomeInfo:
    """What ``org.json`` says (public parts only) and where the private files are."""

    home: Path
    name: str
    role: str
    suite: str
    admin_public_key: bytes
    validator_public_key: bytes
    tls_spki_sha256: bytes
    ca_cert: Path
    created_ms: int
    previous_ca_cert: Path | None = None
    """The CA this organisation rotated away from (``org rotate-ca``, decisions/0019)."""

    @property
    def admin_address(self) -> bytes:
        return address_from_public_key(get_suite(self.suite), self.admin_public_key)

    @property
    def node_home(self) -> Path:
        return self.home / NODE_DIR

    @property
    def tls_key(self) -> Path:
        return self.node_home / TLS_DIR / TLS_KEY_FILE

    @property
    def ca_key(self) -> Path:
        return self.ca_cert.with_suffix(".key")

    def private_files(self) -> list[Path]:
        """Every file of the home that holds a private key."""
        return [self.home / ADMIN_KEY_FILE, self.ca_key, self.node_home / VALIDATOR_KEY_FILE, self.tls_key]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "role": self.role, "suite": self.suite,
            "admin": format_address(self.admin_address),
            "admin_public_key": "0x" + self.admin_public_key.hex(),
            "validator_public_key": "0x" + self.validator_public_key.hex(),
            "tls_spki_sha256": "0x" + self.tls_spki_sha256.hex(),
            "ca_cert": str(self.ca_cert.relative_to(self.home)),
            "created_ms": self.created_ms,
            **({"previous_ca_cert": str(self.previous_ca_cert.relative_to(self.home))}
               if self.previous_ca_cert is not None else {}),
        }


def check_org_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"organisation name {name!r} must be 1-64 of a-z, 0-9, '.', '_', '-' (starting alphanumeric)"
        )
    return name


def check_org_role(role: str) -> str:
    if role not in ORG_ROLES:
        raise ConfigError(f"organisation role {role!r} is not one of {', '.join(ORG_ROLES)}")
    return role


def check_suite(suite: str) -> str:
    if suite not in SUITES:
        raise ConfigError(f"suite {suite!r} is not one of {', '.join(sorted(SUITES))}")
    return suite


def init_org_home(home: Path, name: str, role: str, suite: str, password: str | None) -> OrgHomeInfo:
    """Create an organisation's CA, admin key, validator key and TLS key in ``home``."""
    check_org_name(name)
    check_org_role(role)
    check_suite(suite)
    if (home / ORG_FILE).exists():
        raise ConfigError(f"{home} already holds organisation material ({ORG_FILE}); use another --home")
    if home.exists() and any(home.iterdir()):
        raise ConfigError(f"{home} is not empty; an organisation home starts empty")
    ca_cert, _ca_key, admin = create_org_material(home, name, suite, password)
    validator = KeyPair.generate(suite)
    (home / NODE_DIR).mkdir(parents=True, exist_ok=True)
    save_key_file(home / NODE_DIR / VALIDATOR_KEY_FILE, validator, password)
    tls_key = generate_tls_key(home / NODE_DIR / TLS_DIR / TLS_KEY_FILE)
    info = OrgHomeInfo(
        home, name, role, suite, admin.public_key, validator.public_key,
        spki_sha256(load_private_key(tls_key).public_key()), ca_cert, time.time_ns() // 1_000_000,
    )
    write_text_atomic(home / ORG_FILE, json.dumps(info.to_json(), indent=2) + "\n")
    return info


def load_org_home(home: Path) -> OrgHomeInfo:
    path = home / ORG_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist: is {home} an organisation home (`consortia org init`)?"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        return OrgHomeInfo(
            home, check_org_name(data["name"]), check_org_role(data["role"]), check_suite(data["suite"]),
            _hex(data["admin_public_key"]), _hex(data["validator_public_key"]),
            _hex(data["tls_spki_sha256"]), home / str(data["ca_cert"]), int(data["created_ms"]),
            home / str(data["previous_ca_cert"]) if "previous_ca_cert" in data else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path} is not an organisation file: {exc}") from None


def _hex(text: object) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"expected 0x-hex, got {text!r}")
    return bytes.fromhex(text[2:])


def check_endpoint(host: str, p2p_port: int, api_port: int) -> None:
    if not host or len(host) > MAX_HOST or any(c.isspace() for c in host):
        raise ConfigError(f"host must be an address or name of 1-{MAX_HOST} characters, got {host!r}")
    for what, port in (("--p2p-port", p2p_port), ("--api-port", api_port)):
        if not 1 <= port <= MAX_PORT:
            raise ConfigError(f"{what} must be from 1 to {MAX_PORT}, got {port}")
    if p2p_port == api_port:
        raise ConfigError(f"the p2p and API ports must differ (both {p2p_port})")


def export_bundle(
    home: Path, host: str, p2p_port: int, api_port: int, password: str | None
) -> OrgBundle:
    """The organisation's public bundle, signed by its admin key."""
    info = load_org_home(home)
    check_endpoint(host, p2p_port, api_port)
    admin = load_key_file(home / ADMIN_KEY_FILE, password)
    if admin.public_key != info.admin_public_key:
        raise ConfigError(f"{home / ADMIN_KEY_FILE} is not the admin key {ORG_FILE} names")
    current_pin = spki_sha256(load_private_key(info.tls_key).public_key())
    if current_pin != info.tls_spki_sha256:
        raise ConfigError(f"{info.tls_key} is not the TLS key {ORG_FILE} names")
    body = OrgBundleBody(
        BUNDLE_FORMAT, info.name, info.role, info.suite, info.admin_public_key,
        info.validator_public_key, info.ca_cert.read_bytes(), info.tls_spki_sha256,
        host, p2p_port, api_port, info.created_ms,
    )
    return OrgBundle(body, admin.sign(bundle_signing_bytes(body)))


def bundle_to_json(bundle: OrgBundle) -> str:
    return json.dumps(to_plain(bundle), indent=2) + "\n"


def load_bundle(path: Path) -> OrgBundle:
    """A bundle file, checked (:func:`verify_bundle`); :class:`BundleError` naming the file."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise BundleError(f"cannot read the bundle {path}: {exc}", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not a bundle (not JSON: {exc})", file=str(path)) from None
    try:
        bundle = from_plain(OrgBundle, data)
    except DecodeError as exc:
        raise BundleError(f"{path} is not a bundle: {exc.message}", file=str(path)) from None
    try:
        verify_bundle(bundle)
    except BundleError as exc:
        raise BundleError(f"{path}: {exc.message}", file=str(path)) from None
    return bundle


def verify_bundle(bundle: OrgBundle) -> None:
    """Raise :class:`BundleError` unless ``bundle`` is well formed and signed by its admin key."""
    body = bundle.body
    who = f"the bundle of {body.name!r}"
    if body.format != BUNDLE_FORMAT:
        raise BundleError(f"{who} has format {body.format!r}, expected {BUNDLE_FORMAT!r}")
    try:
        check_org_name(body.name)
        check_org_role(body.role)
        check_suite(body.suite)
        check_endpoint(body.host, body.p2p_port, body.api_port)
    except ConfigError as exc:
        raise BundleError(f"{who}: {exc.message}") from None
    suite = get_suite(body.suite)
    for what, key in (("admin", body.admin_public_key), ("validator", body.validator_public_key)):
        try:
            suite.check_public_key(key)
        except CryptoError as exc:
            raise BundleError(f"{who}: its {what} public key is invalid: {exc.message}") from None
    if len(body.tls_spki_sha256) != 32:
        raise BundleError(f"{who}: its TLS key digest must be 32 bytes")
    check_bundle_ca(body.name, body.ca_pem)
    if not suite.verify(body.admin_public_key, bundle_signing_bytes(body), bundle.signature):
        raise BundleError(
            f"{who} has a bad signature: it was changed after its admin "
            f"{format_address(address_from_public_key(suite, body.admin_public_key))} signed it"
        )


def check_bundle_ca(name: str, ca_pem: bytes) -> x509.Certificate:
    """The organisation's CA certificate of a bundle: one self-issued CA certificate."""
    try:
        cert = load_certificate(ca_pem)
    except CertificateError as exc:
        raise BundleError(
            f"the CA certificate in the bundle of {name!r} is unreadable: {exc.message}"
        ) from None
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise BundleError(f"the CA certificate in the bundle of {name!r} is not a CA certificate")
    return cert
