from __future__ import annotations

import hashlib

import pytest
from tongsuopy.crypto import hashes as ts_hashes

from consortia.crypto.hashing import hash_for_suite, sha256, sm3
from consortia.errors import UnknownSuite

# GB/T 32905-2016 appendix A examples.
SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]


@pytest.mark.parametrize(("data", "digest"), SM3_VECTORS)
def test_sm3_standard_vectors(data: bytes, digest: str) -> None:
    assert sm3(data).hex() == digest


def _tongsuo_sm3(data: bytes) -> bytes:
    h = ts_hashes.Hash(ts_hashes.SM3())
    h.update(data)
    return h.finalize()


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 1000, 100_000])
def test_sm3_matches_tongsuo(size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    assert sm3(data) == _tongsuo_sm3(data)
    assert len(sm3(data)) == 32


def test_sha256() -> None:
    assert sha256(b"abc") == hashlib.sha256(b"abc").digest()


def test_hash_for_suite() -> None:
    assert hash_for_suite("ed25519") is sha256
    assert hash_for_suite("sm2") is sm3
    with pytest.raises(UnknownSuite):
        hash_for_suite("rsa")
