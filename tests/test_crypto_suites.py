from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.crypto.suites import PARALLEL_MIN, SUITES, Suite, get_suite
from consortia.errors import CryptoError, UnknownSuite

KEYS = {name: get_suite(name).generate_private_key() for name in SUITES}


def _pk(name: str) -> bytes:
    return get_suite(name).public_key(KEYS[name])


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index % len(out)] ^= 0x01
    return bytes(out)


def test_registry() -> None:
    assert SUITES == ("ed25519", "sm2")
    for name in SUITES:
        suite = get_suite(name)
        assert isinstance(suite, Suite)
        assert suite.name == name
        assert get_suite(name) is suite
    for bad in ("", "ED25519", "secp256k1", None):
        with pytest.raises(UnknownSuite):
            get_suite(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SUITES)
def test_round_trip_and_sizes(name: str) -> None:
    suite = get_suite(name)
    sk = KEYS[name]
    pk = suite.public_key(sk)
    assert len(pk) == suite.public_key_size
    suite.check_public_key(pk)
    for msg in (b"", b"hello", bytes(range(256)) * 40):
        sig = suite.sign(sk, msg)
        assert len(sig) == suite.signature_size
        assert suite.verify(pk, msg, sig)


@pytest.mark.parametrize("name", SUITES)
def test_tampering_fails(name: str) -> None:
    suite = get_suite(name)
    sk, pk = KEYS[name], _pk(name)
    msg = b"transfer 100 to bob"
    sig = suite.sign(sk, msg)
    other_pk = suite.public_key(suite.generate_private_key())
    assert not suite.verify(pk, b"transfer 900 to bob", sig)
    assert not suite.verify(other_pk, msg, sig)
    for i in (0, 17, 31, 32, 50, len(sig) - 1):
        assert not suite.verify(pk, msg, _flip(sig, i))
    for i in (1, 5, 20, len(pk) - 1):
        assert not suite.verify(_flip(pk, i), msg, sig)


@pytest.mark.parametrize("name", SUITES)
def test_malformed_lengths_and_types(name: str) -> None:
    suite = get_suite(name)
    pk, msg = _pk(name), b"m"
    sig = suite.sign(KEYS[name], msg)
    assert not suite.verify(pk[:-1], msg, sig)
    assert not suite.verify(pk + b"\x00", msg, sig)
    assert not suite.verify(pk, msg, sig[:-1])
    assert not suite.verify(pk, msg, sig + b"\x00")
    assert not suite.verify(b"", b"", b"")
    for junk in (None, 5, "text", object()):
        assert not suite.verify(junk, msg, sig)  # type: ignore[arg-type]
        assert not suite.verify(pk, junk, sig)  # type: ignore[arg-type]
        assert not suite.verify(pk, msg, junk)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SUITES)
@settings(max_examples=150, deadline=None)
@given(pk=st.binary(max_size=80), msg=st.binary(max_size=64), sig=st.binary(max_size=80))
def test_garbage_never_raises(name: str, pk: bytes, msg: bytes, sig: bytes) -> None:
    suite = get_suite(name)
    assert suite.verify(pk, msg, sig) is False
    assert suite.verify(_pk(name), msg, sig) is False


@pytest.mark.parametrize("name", SUITES)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_right_length_garbage_never_raises(name: str, data: st.DataObject) -> None:
    suite = get_suite(name)
    pk = data.draw(st.binary(min_size=suite.public_key_size, max_size=suite.public_key_size))
    if name == "sm2":
        pk = b"\x04" + pk[1:]
    sig = data.draw(st.binary(min_size=suite.signature_size, max_size=suite.signature_size))
    assert suite.verify(pk, b"msg", sig) is False
    assert suite.verify(_pk(name), b"msg", sig) is False
    if name == "sm2":  # a random (x, y) is practically never on the curve
        with pytest.raises(CryptoError):
            suite.check_public_key(pk)


def _mixed_items(name: str, n: int) -> list[tuple[bytes, bytes, bytes]]:
    suite = get_suite(name)
    sk, pk = KEYS[name], _pk(name)
    items = []
    for i in range(n):
        msg = b"msg-%d" % i
        sig = suite.sign(sk, msg)
        kind = i % 5
        if kind == 1:
            msg += b"!"
        elif kind == 2:
            sig = _flip(sig, i)
        elif kind == 3 and i % 2:
            sig = sig[:-3]
        elif kind == 3:
            pk_bad = b"\x00" * 7
            items.append((pk_bad, msg, sig))
            continue
        items.append((pk, msg, sig))
    return items


@pytest.mark.parametrize("name", SUITES)
@pytest.mark.parametrize("n", [0, 1, 10, PARALLEL_MIN - 1, PARALLEL_MIN, 257])
def test_verify_batch_matches_verify(name: str, n: int) -> None:
    suite = get_suite(name)
    items = _mixed_items(name, n)
    expected = [suite.verify(*it) for it in items]
    assert suite.verify_batch(items) == expected
    assert suite.verify_many(items) == expected
    if n >= 5:
        assert any(expected) and not all(expected)


def test_verify_batch_other_keys_and_junk_items() -> None:
    suite = get_suite("ed25519")
    keys = [suite.generate_private_key() for _ in range(4)]
    items: list = []
    for i in range(200):
        sk = keys[i % 4]
        msg = bytes([i]) * (i % 7)
        items.append((suite.public_key(sk), msg, suite.sign(sk, msg)))
    items[3] = (items[3][0], items[3][1], "not bytes")
    items[9] = (bytearray(items[9][0]), items[9][1], items[9][2])
    items[11] = (items[11][0], bytes(10_000), items[11][2])  # grows the thread buffer
    expected = [suite.verify(*it) for it in items]
    assert expected[9] and not expected[3] and not expected[11]
    assert suite.verify_batch(items) == expected


def test_ed25519_rejects_non_canonical_s() -> None:
    suite = get_suite("ed25519")
    pk, msg = _pk("ed25519"), b"canonical"
    sig = suite.sign(KEYS["ed25519"], msg)
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little") + order
    assert not suite.verify(pk, msg, sig[:32] + s.to_bytes(32, "little"))


def test_check_public_key() -> None:
    for name in SUITES:
        suite = get_suite(name)
        with pytest.raises(CryptoError, match="bytes"):
            suite.check_public_key(b"\x04" * 10)
    sm2 = get_suite("sm2")
    pk = _pk("sm2")
    with pytest.raises(CryptoError, match="uncompressed"):
        sm2.check_public_key(b"\x02" + pk[1:33])
    with pytest.raises(CryptoError, match="point"):
        sm2.check_public_key(pk[:-1] + bytes([pk[-1] ^ 1]))
    with pytest.raises(CryptoError, match="small order"):
        get_suite("ed25519").check_public_key(bytes(32))  # y = 0: a point of order 4


@pytest.mark.parametrize("name", SUITES)
def test_bad_private_keys(name: str) -> None:
    suite = get_suite(name)
    for bad in (b"", b"\x01" * 31, b"\x01" * 33):
        with pytest.raises(CryptoError):
            suite.public_key(bad)
        with pytest.raises(CryptoError):
            suite.sign(bad, b"m")
    if name == "sm2":
        with pytest.raises(CryptoError, match="range"):
            suite.public_key(bytes(32))
        with pytest.raises(CryptoError, match="range"):
            suite.public_key(b"\xff" * 32)
