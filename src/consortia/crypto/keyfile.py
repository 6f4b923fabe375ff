"""Key files on disk: JSON, private key sealed with scrypt + AES-256-GCM (or clear in dev mode).

Layout (version 1)::

    {"version": 1, "suite": "ed25519", "address": "0x..", "public_key": "<hex>",
     "encrypted": true,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<hex>"},
     "cipher": {"name": "aes-256-gcm", "nonce": "<hex>", "ciphertext": "<hex>"}}

The header (version, suite, address, public_key) is the AEAD associated data, so editing it makes
decryption fail. Unencrypted (dev only): ``"encrypted": false, "private_key": "<hex>"``.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from consortia.crypto.address import format_address, parse_address
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import SUITES
from consortia.errors import ConsortiaError, KeyFileError

PASSWORD_ENV = "CONSORTIA_KEY_PASSWORD"
VERSION = 1
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_MAX_FILE = 64 * 1024


def password_from_env() -> str | None:
    """The key password from ``CONSORTIA_KEY_PASSWORD`` (None if unset or empty)."""
    return os.environ.get(PASSWORD_ENV) or None


def _header(suite: str, address: str, public_key: str) -> dict[str, Any]:
    return {"version": VERSION, "suite": suite, "address": address, "public_key": public_key}


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode("utf-8"))


def save_key_file(path: Path, key: KeyPair, password: str | None, *, overwrite: bool = False) -> None:
    """Write ``key`` to ``path`` (mode 0600, atomically); encrypted unless ``password`` is None."""
    path = Path(path)
    header = _header(key.suite_name, format_address(key.address), key.public_key.hex())
    doc: dict[str, Any] = dict(header)
    if password is None:
        doc.update(encrypted=False, private_key=key.private_key.hex())
    else:
        if not password:
            raise KeyFileError("empty password; pass None for an unencrypted (dev only) key file")
        salt, nonce = os.urandom(16), os.urandom(12)
        secret = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        ciphertext = AESGCM(secret).encrypt(nonce, key.private_key, _aad(header))
        doc.update(
            encrypted=True,
            kdf={"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": salt.hex()},
            cipher={"name": "aes-256-gcm", "nonce": nonce.hex(), "ciphertext": ciphertext.hex()},
        )
    _write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode(), overwrite)


def _write_atomic(path: Path, data: bytes, overwrite: bool) -> None:
    if not overwrite and path.exists():
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it", path=str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic create-if-absent
            except FileExistsError:
                raise KeyFileError(
                    f"key file {path} already exists; refusing to overwrite it", path=str(path)
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read(path: Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_FILE + 1)
    except OSError as e:
        raise KeyFileError(f"cannot read key file {path}: {e.strerror or e}", path=str(path)) from None
    if len(raw) > _MAX_FILE:
        raise KeyFileError(f"key file {path} is too large to be a key file", path=str(path))
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(f"key file {path} is not valid JSON", path=str(path)) from None
    if not isinstance(doc, dict):
        raise KeyFileError(f"key file {path} is not a JSON object", path=str(path))
    if doc.get("version") != VERSION:
        raise KeyFileError(f"key file {path} has unsupported version {doc.get('version')!r}", path=str(path))
    if doc.get("suite") not in SUITES:
        raise KeyFileError(f"key file {path} names unknown suite {doc.get('suite')!r}", path=str(path))
    if not isinstance(doc.get("encrypted"), bool):
        raise KeyFileError(f"key file {path} lacks the 'encrypted' flag", path=str(path))
    return doc


def _field(doc: dict[str, Any], *names: str, kind: type = str) -> Any:
    value: Any = doc
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KeyFileError(f"key file field {'.'.join(names)!r} is missing or not a {kind.__name__}")
    return value


def _hex(doc: dict[str, Any], *names: str) -> bytes:
    try:
        return bytes.fromhex(_field(doc, *names))
    except ValueError:
        raise KeyFileError(f"key file field {'.'.join(names)!r} is not hex") from None


def key_file_is_encrypted(path: Path) -> bool:
    """Whether the key file needs a password."""
    return bool(_read(path)["encrypted"])


def read_key_file_address(path: Path) -> bytes:
    """The address a key file declares (no password needed)."""
    return _parse_addr(path, _field(_read(path), "address"))


def load_key_file(path: Path, password: str | None = None) -> KeyPair:
    """Read a key file, decrypting it with ``password`` when it is encrypted."""
    doc = _read(path)
    suite_name: str = doc["suite"]
    header = _header(suite_name, _field(doc, "address"), _field(doc, "public_key"))
    public_key = _hex(doc, "public_key")
    address = _parse_addr(path, header["address"])
    if doc["encrypted"]:
        if password is None:
            raise KeyFileError(
                f"key file {path} is encrypted: give its password (or set {PASSWORD_ENV})",
                path=str(path),
            )
        private_key = _decrypt(doc, header, password)
    else:
        private_key = _hex(doc, "private_key")
    try:
        key = KeyPair.from_private_key(suite_name, private_key)
    except ConsortiaError as e:
        raise KeyFileError(f"key file {path} holds an invalid private key: {e.message}") from None
    if key.public_key != public_key or key.address != address:
        raise KeyFileError(
            f"key file {path} is inconsistent: the private key does not match its public key/address",
            path=str(path),
        )
    return key


def _parse_addr(path: Path, text: str) -> bytes:
    try:
        return parse_address(text)
    except ConsortiaError as e:
        raise KeyFileError(f"key file {path}: bad address: {e.message}", path=str(path)) from None


def _decrypt(doc: dict[str, Any], header: dict[str, Any], password: str) -> bytes:
    if _field(doc, "kdf", "name") != "scrypt" or _field(doc, "cipher", "name") != "aes-256-gcm":
        raise KeyFileError("key file uses an unsupported kdf or cipher")
    n, r, p = (_field(doc, "kdf", k, kind=int) for k in ("n", "r", "p"))
    if not (2**10 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise KeyFileError("key file has out-of-range scrypt parameters")
    salt, nonce = _hex(doc, "kdf", "salt"), _hex(doc, "cipher", "nonce")
    if len(nonce) != 12 or not 8 <= len(salt) <= 64:
        raise KeyFileError("key file has a malformed salt or nonce")
    secret = _derive(password, salt, n, r, p)
    try:
        return AESGCM(secret).decrypt(nonce, _hex(doc, "cipher", "ciphertext"), _aad(header))
    except InvalidTag:
        raise KeyFileError("wrong password or corrupted key file") from None
