from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortia.crypto.address import BadAddress, address_from_public_key, format_address, parse_address
from consortia.crypto.hashing import sha256, sm3
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import get_suite
from consortia.errors import ConsortiaError


def test_derivation_rule() -> None:
    pk = bytes(range(32))
    expected = sha256(b"consortia/address/v1" + b"ed25519:" + pk)[-20:]
    assert address_from_public_key(get_suite("ed25519"), pk) == expected
    pk2 = b"\x04" + bytes(64)
    assert address_from_public_key(get_suite("sm2"), pk2) == sm3(b"consortia/address/v1sm2:" + pk2)[-20:]


def test_keypair_address() -> None:
    key = KeyPair.generate("sm2")
    assert key.address == address_from_public_key(key.suite, key.public_key)
    assert len(key.address) == 20


@given(st.binary(min_size=20, max_size=20))
def test_round_trip(addr: bytes) -> None:
    text = format_address(addr)
    assert text.startswith("0x") and len(text) == 42 and text == text.lower()
    assert parse_address(text) == addr
    assert parse_address(text[2:]) == addr
    assert parse_address(text.upper()) == addr
    assert parse_address("0X" + text[2:].upper()) == addr


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "40 hex digits"),
        ("0x", "40 hex digits"),
        ("0x" + "ab" * 19, "got 38"),
        ("0x" + "ab" * 21, "got 42"),
        ("0x" + "zz" * 20, "hexadecimal"),
        ("0x" + "a " * 20, "hexadecimal"),
        ("0x" + "ab " * 13 + "a", "hexadecimal"),
        (" " + "ab" * 19 + "a", "hexadecimal"),
        ("0x" + "ab" * 19 + "a\n", "hexadecimal"),
        (" 0x" + "ab" * 20, "got 43"),
        ("0x" + "٠" * 40, "hexadecimal"),
    ],
)
def test_parse_errors(text: str, what: str) -> None:
    with pytest.raises(BadAddress, match=what) as info:
        parse_address(text)
    assert isinstance(info.value, ConsortiaError)
    assert info.value.code == "bad_address"


def test_parse_non_text_and_format_wrong_length() -> None:
    with pytest.raises(BadAddress):
        parse_address(b"\x00" * 20)  # type: ignore[arg-type]
    with pytest.raises(BadAddress, match="20 bytes"):
        format_address(b"\x00" * 19)
