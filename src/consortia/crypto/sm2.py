"""SM2 suite (GB/T 32918 on the recommended curve, SM3, default user ID "1234567812345678").

Encodings (only these are accepted):
  * private key: 32 bytes big-endian scalar d, 1 <= d <= n-2;
  * public key: 65 bytes uncompressed ``04 || x || y``;
  * signature: 64 bytes raw ``r || s`` big-endian, 1 <= r, s <= n-1.

Signing uses gmalglib (faster); verification uses tongsuopy (faster, and its cffi calls release the
GIL so batches scale over cores; gmalglib holds the GIL).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from gmalglib.core import SM2 as _GmSM2
from tongsuopy.crypto import hashes as _ts_hashes
from tongsuopy.crypto.asymciphers import ec as _ts_ec

from consortia.crypto.hashing import sm3
from consortia.crypto.suites import Suite
from consortia.errors import CryptoError

DEFAULT_UID = b"1234567812345678"
N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
_PK = 65
_SIG = 64
_SK = 32
_CURVE = _ts_ec.SM2()
_ALG = _ts_ec.ECDSA(_ts_hashes.SM3())


@lru_cache(maxsize=4096)
def _tongsuo_key(public_key: bytes) -> _ts_ec.EllipticCurvePublicKey:
    """Parse (and cache) a public key; raises ValueError if not a point on the curve."""
    return _ts_ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, public_key)


def _split_signature(signature: bytes) -> tuple[int, int] | None:
    if len(signature) != _SIG:
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return None
    return r, s


def verify_tongsuo(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify with tongsuopy (the suite's verifier); never raises."""
    try:
        rs = _split_signature(signature)
        if rs is None or len(public_key) != _PK or public_key[0] != 4:
            return False
        key = _tongsuo_key(bytes(public_key))
        key.verify(encode_dss_signature(*rs), bytes(message), _ALG)
        return True
    except Exception:
        return False


def verify_gmalglib(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify with gmalglib (used to cross-check and benchmark); never raises."""
    try:
        if _split_signature(signature) is None or len(public_key) != _PK or public_key[0] != 4:
            return False
        return bool(_GmSM2(pk=bytes(public_key), uid=DEFAULT_UID).verify(bytes(message), bytes(signature)))
    except Exception:
        return False


def sign_tongsuo(private_key: bytes, message: bytes) -> bytes:
    """Sign with tongsuopy, returning raw r||s (for interop tests and benchmarks)."""
    key = _ts_ec.derive_private_key(int.from_bytes(_check_private(private_key), "big"), _CURVE)
    r, s = decode_dss_signature(key.sign(bytes(message), _ALG))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _check_private(private_key: bytes) -> bytes:
    if not isinstance(private_key, bytes | bytearray) or len(private_key) != _SK:
        raise CryptoError("sm2 private keys are 32 bytes")
    d = int.from_bytes(private_key, "big")
    if not 1 <= d <= N - 2:
        raise CryptoError("sm2 private key out of range [1, n-2]")
    return bytes(private_key)


class Sm2Suite(Suite):
    """SM2 signatures with SM3 as the chain hash."""

    name = "sm2"
    hash = staticmethod(sm3)
    public_key_size = _PK
    signature_size = _SIG

    def generate_private_key(self) -> bytes:
        return _GmSM2().generate_keypair()[0]

    def public_key(self, private_key: bytes) -> bytes:
        return _GmSM2.get_pk(_check_private(private_key))

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        return _GmSM2(sk=_check_private(private_key), uid=DEFAULT_UID).sign(bytes(message))

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        return verify_tongsuo(public_key, message, signature)

    def check_public_key(self, public_key: bytes) -> None:
        if not isinstance(public_key, bytes | bytearray) or len(public_key) != _PK or public_key[0] != 4:
            raise CryptoError(
                "sm2 public keys are 65 bytes, uncompressed: 04 || x || y",
                length=len(public_key) if isinstance(public_key, bytes | bytearray) else None,
            )
        try:
            _tongsuo_key(bytes(public_key))
        except Exception:
            raise CryptoError(
                "sm2 public key is not a point on the curve", public_key=bytes(public_key)
            ) from None
