from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from consortia.crypto.keyfile import (
    PASSWORD_ENV,
    key_file_is_encrypted,
    load_key_file,
    password_from_env,
    read_key_file_address,
    save_key_file,
)
from consortia.crypto.keys import KeyPair
from consortia.errors import KeyFileError

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module", params=["ed25519", "sm2"])
def key(request: pytest.FixtureRequest) -> KeyPair:
    return KeyPair.generate(request.param)


@pytest.fixture(scope="module")
def encrypted_doc(key: KeyPair, tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("kf") / "k.json"
    save_key_file(path, key, PASSWORD)
    return json.loads(path.read_text())


def _write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_encrypted_round_trip(key: KeyPair, tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    save_key_file(path, key, PASSWORD)
    text = path.read_text()
    assert key.private_key.hex() not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_file_is_encrypted(path)
    assert read_key_file_address(path) == key.address
    assert load_key_file(path, PASSWORD) == key
    assert [p.name for p in tmp_path.iterdir()] == ["node.key"]  # no temp file left behind


def test_wrong_password(encrypted_doc: dict, tmp_path: Path) -> None:
    path = _write(tmp_path / "k", encrypted_doc)
    with pytest.raises(KeyFileError, match="wrong password or corrupted key file"):
        load_key_file(path, "not the password")


def test_missing_password_names_env_var(encrypted_doc: dict, tmp_path: Path) -> None:
    path = _write(tmp_path / "k", encrypted_doc)
    with pytest.raises(KeyFileError, match=PASSWORD_ENV):
        load_key_file(path)


@pytest.mark.parametrize("field", ["address", "public_key", "suite", "ciphertext"])
def test_tampered_file_fails(field: str, encrypted_doc: dict, tmp_path: Path) -> None:
    doc = json.loads(json.dumps(encrypted_doc))
    other = KeyPair.generate(doc["suite"])
    if field == "address":
        doc["address"] = "0x" + other.address.hex()
    elif field == "public_key":
        doc["public_key"] = other.public_key.hex()
    elif field == "suite":
        doc["suite"] = "sm2" if doc["suite"] == "ed25519" else "ed25519"
    else:
        ct = bytearray.fromhex(doc["cipher"]["ciphertext"])
        ct[0] ^= 1
        doc["cipher"]["ciphertext"] = ct.hex()
    path = _write(tmp_path / "k", doc)
    with pytest.raises(KeyFileError, match="wrong password or corrupted"):
        load_key_file(path, PASSWORD)


def test_unencrypted_dev_file(key: KeyPair, tmp_path: Path) -> None:
    path = tmp_path / "dev.key"
    save_key_file(path, key, None)
    doc = json.loads(path.read_text())
    assert doc["encrypted"] is False
    assert not key_file_is_encrypted(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_file(path) == key
    assert load_key_file(path, "ignored") == key
    doc["public_key"] = KeyPair.generate(key.suite_name).public_key.hex()
    with pytest.raises(KeyFileError, match="does not match"):
        load_key_file(_write(tmp_path / "bad", doc))


def test_no_overwrite(key: KeyPair, tmp_path: Path) -> None:
    path = tmp_path / "k"
    save_key_file(path, key, None)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        save_key_file(path, KeyPair.generate(), None)
    assert path.read_bytes() == before
    other = KeyPair.generate()
    save_key_file(path, other, None, overwrite=True)
    assert load_key_file(path) == other
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_empty_password_refused(key: KeyPair, tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="empty password"):
        save_key_file(tmp_path / "k", key, "")


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        '{"version": 2}',
        '{"version": 1, "suite": "rsa", "encrypted": false}',
        '{"version": 1, "suite": "ed25519", "encrypted": false}',
        '{"version": 1, "suite": "ed25519", "encrypted": "yes"}',
        '{"version": 1, "suite": "ed25519", "encrypted": false, "address": "0x12",'
        ' "public_key": "00", "private_key": "00"}',
    ],
)
def test_malformed_files(content: str, tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text(content)
    with pytest.raises(KeyFileError):
        load_key_file(path, PASSWORD)


def test_malformed_encrypted_fields(encrypted_doc: dict, tmp_path: Path) -> None:
    for mutate in (
        lambda d: d["kdf"].update(n=3),
        lambda d: d["kdf"].update(n=2**30),
        lambda d: d["kdf"].update(salt="zz"),
        lambda d: d["cipher"].update(nonce="00"),
        lambda d: d.pop("cipher"),
        lambda d: d["kdf"].update(name="pbkdf2"),
    ):
        doc = json.loads(json.dumps(encrypted_doc))
        mutate(doc)
        with pytest.raises(KeyFileError):
            load_key_file(_write(tmp_path / "k", doc), PASSWORD)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read"):
        load_key_file(tmp_path / "absent")


def test_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert password_from_env() is None
    monkeypatch.setenv(PASSWORD_ENV, "")
    assert password_from_env() is None
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    assert password_from_env() == "s3cret"
