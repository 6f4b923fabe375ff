"""SM2 cross-library interoperability and the GM/T 0003.5-2012 / GB/T 32918.5-2017 example."""

from __future__ import annotations

from gmalglib.core import SM2 as GmSM2

from consortia.crypto import sm2
from consortia.crypto.hashing import sm3
from consortia.crypto.suites import get_suite

# GB/T 32918.5-2017 (GM/T 0003.5-2012) appendix A: signature on the recommended curve.
D_A = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
P_A = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
MSG = b"message digest"
K = bytes.fromhex("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21")
Z_A = bytes.fromhex("B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3")
E = bytes.fromhex("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640")
SIG = bytes.fromhex(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)
CURVE_A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
CURVE_B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
G_X = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
G_Y = bytes.fromhex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")


def test_standard_public_key() -> None:
    assert get_suite("sm2").public_key(D_A) == P_A


def test_standard_z_and_digest() -> None:
    uid = sm2.DEFAULT_UID
    z = sm3((8 * len(uid)).to_bytes(2, "big") + uid + CURVE_A + CURVE_B + G_X + G_Y + P_A[1:33] + P_A[33:])
    assert z == Z_A
    assert sm3(Z_A + MSG) == E


def test_standard_signature_verifies_with_both_libraries() -> None:
    assert get_suite("sm2").verify(P_A, MSG, SIG)
    assert sm2.verify_tongsuo(P_A, MSG, SIG)
    assert sm2.verify_gmalglib(P_A, MSG, SIG)
    assert not get_suite("sm2").verify(P_A, MSG + b".", SIG)


def test_standard_signature_reproduced_with_fixed_k() -> None:
    # gmalglib reads the random k as a little-endian integer.
    signer = GmSM2(sk=D_A, uid=sm2.DEFAULT_UID, rnd_fn=lambda n: K[::-1][:n])
    assert signer.sign(MSG) == SIG


def test_cross_library_interop() -> None:
    suite = get_suite("sm2")
    for i in range(20):
        sk = suite.generate_private_key()
        pk = suite.public_key(sk)
        msg = b"interop %d " % i * i
        by_gmalglib = suite.sign(sk, msg)
        by_tongsuo = sm2.sign_tongsuo(sk, msg)
        for sig in (by_gmalglib, by_tongsuo):
            assert sm2.verify_tongsuo(pk, msg, sig)
            assert sm2.verify_gmalglib(pk, msg, sig)
            assert not sm2.verify_tongsuo(pk, msg + b"x", sig)
            assert not sm2.verify_gmalglib(pk, msg + b"x", sig)


def test_out_of_range_r_s_rejected_by_both() -> None:
    n = sm2.N.to_bytes(32, "big")
    zero = bytes(32)
    for sig in (zero + SIG[32:], SIG[:32] + zero, n + SIG[32:], SIG[:32] + n):
        assert not sm2.verify_tongsuo(P_A, MSG, sig)
        assert not sm2.verify_gmalglib(P_A, MSG, sig)


def test_compressed_public_key_rejected() -> None:
    compressed = bytes([2 + (P_A[-1] & 1)]) + P_A[1:33]
    assert not get_suite("sm2").verify(compressed, MSG, SIG)
