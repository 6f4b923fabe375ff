"""Reading key files from the command line: the password comes from the environment or a prompt."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from consortia.crypto.keyfile import key_file_is_encrypted, load_key_file, password_from_env
from consortia.crypto.keys import KeyPair
from consortia.errors import KeyFileError

PASSWORD_ENV = "CONSORTIA_KEY_PASSWORD"


def read_password(path: Path) -> str | None:
    if not key_file_is_encrypted(path):
        return None
    password = password_from_env()
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise KeyFileError(f"{path} is encrypted: set {PASSWORD_ENV} or run in a terminal")
    return getpass.getpass(f"password for {path}: ")


def load_key(path: Path) -> KeyPair:
    if not path.exists():
        raise KeyFileError(f"key file {path} does not exist")
    return load_key_file(path, read_password(path))


def new_password(no_password: bool) -> str | None:
    """The password for a new key file (None: stored unencrypted, for dev only)."""
    if no_password:
        return None
    password = password_from_env()
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise KeyFileError(
            f"set {PASSWORD_ENV}, run in a terminal, or pass --no-password for an unencrypted dev key"
        )
    first = getpass.getpass("password for the new key: ")
    if first != getpass.getpass("repeat the password: "):
        raise KeyFileError("the passwords do not match")
    if len(first) < 8:
        raise KeyFileError("use a password of at least 8 characters")
    return first
