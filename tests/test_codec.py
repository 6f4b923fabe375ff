from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortia.codec import decode, encode
from consortia.codec.plain import from_plain, to_plain
from consortia.errors import DecodeError
from consortia.types.transaction import Call, SignedTx, TxBody

bodies = st.builds(
    TxBody,
    chain_id=st.text(max_size=20),
    public_key=st.binary(max_size=65),
    nonce=st.integers(0, 2**64 - 1),
    expiry=st.integers(0, 2**64 - 1),
    call=st.builds(Call, st.text(max_size=10), st.text(max_size=10), st.binary(max_size=40)),
)


@given(bodies)
def test_round_trip(body: TxBody) -> None:
    assert decode(encode(body), TxBody) == body


@given(bodies, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_rejected(body: TxBody, extra: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(encode(body) + extra, TxBody)


@given(st.binary(max_size=200))
def test_garbage_never_crashes(data: bytes) -> None:
    try:
        obj = decode(data, SignedTx)
    except DecodeError:
        return
    assert encode(obj) == data  # anything accepted is exactly canonical


def test_non_minimal_integer_rejected() -> None:
    canonical = encode(SignedTx(b"a", b"b"))
    assert decode(canonical, SignedTx) == SignedTx(b"a", b"b")
    # nonce 1 written as uint16 (0xcd 0x0001) instead of a positive fixint
    body = encode(TxBody("c", b"k", 1, 2, Call("x", "y", b"")))
    longer = body.replace(b"\x01\x02", b"\xcd\x00\x01\x02", 1)
    assert longer != body
    with pytest.raises(DecodeError, match="canonical"):
        decode(longer, TxBody)


def test_wrong_shape_rejected() -> None:
    with pytest.raises(DecodeError):
        decode(msgspec.msgpack.encode([1, 2, 3]), SignedTx)


@given(bodies)
def test_plain_round_trip(body: TxBody) -> None:
    assert from_plain(TxBody, to_plain(body)) == body


def test_plain_names_the_bad_field() -> None:
    data = to_plain(TxBody("c", b"k", 1, 2, Call("x", "y", b"")))
    data["call"]["args"] = "zz"
    with pytest.raises(DecodeError, match=r"TxBody.call.args"):
        from_plain(TxBody, data)
    data["call"]["args"] = "0x"
    data["extra"] = 1
    with pytest.raises(DecodeError, match="unknown field"):
        from_plain(TxBody, data)
