from __future__ import annotations

import dataclasses

import pytest

from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import SUITES
from consortia.errors import CryptoError, UnknownSuite


@pytest.mark.parametrize("name", SUITES)
def test_generate_sign_and_rebuild(name: str) -> None:
    key = KeyPair.generate(name)
    assert key.suite.name == name
    sig = key.sign(b"payload")
    assert key.suite.verify(key.public_key, b"payload", sig)
    again = KeyPair.from_private_key(name, key.private_key)
    assert again == key
    assert again.address == key.address


def test_default_suite_is_ed25519() -> None:
    assert KeyPair.generate().suite_name == "ed25519"


@pytest.mark.parametrize("name", SUITES)
def test_repr_hides_private_key(name: str) -> None:
    key = KeyPair.generate(name)
    for text in (repr(key), str(key), f"{key}"):
        assert key.private_key.hex() not in text
        assert repr(key.private_key) not in text
        assert "0x" + key.address.hex() in text


def test_frozen_and_errors() -> None:
    key = KeyPair.generate()
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.suite_name = "sm2"  # type: ignore[misc]
    with pytest.raises(UnknownSuite):
        KeyPair.generate("rsa")
    with pytest.raises(CryptoError):
        KeyPair.from_private_key("ed25519", b"short")
    with pytest.raises(CryptoError):
        KeyPair.from_private_key("sm2", "not bytes")  # type: ignore[arg-type]
