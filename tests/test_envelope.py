"""Envelopes (crypto/envelope.py): every recipient opens, no one else does, tampering is caught."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.crypto import envelope as env
from consortia.crypto.keys import KeyPair

KEYS = [KeyPair.generate("ed25519") for _ in range(6)]
KEYS.append(KeyPair.generate("sm2"))
CONTEXT = b"scf.invoice\x00" + bytes(32)

recipients = st.lists(st.sampled_from(range(len(KEYS))), min_size=1, max_size=4, unique=True)
contents = st.binary(min_size=0, max_size=2048)


def _seal(plaintext: bytes, chosen: list[int], context: bytes = CONTEXT) -> env.Sealed:
    return env.seal(plaintext, {KEYS[i].address: env.sealing_public_key(KEYS[i]) for i in chosen}, context)


@settings(max_examples=40, deadline=None)
@given(contents, recipients)
def test_every_recipient_opens_and_no_one_else(plaintext: bytes, chosen: list[int]) -> None:
    sealed = env.from_bytes(env.to_bytes(_seal(plaintext, chosen)))
    assert sealed.ref == env.content_ref(sealed.ciphertext)
    assert plaintext not in sealed.ciphertext or len(plaintext) < 4
    for i, key in enumerate(KEYS):
        if i in chosen:
            assert env.open_sealed(sealed, key, CONTEXT) == plaintext
            assert env.open_sealed(sealed.only_for(key.address), key, CONTEXT) == plaintext
        else:
            with pytest.raises(env.NotARecipient):
                env.open_sealed(sealed, key, CONTEXT)
            # an outsider who takes a recipient's envelope still cannot open it
            for _, envelope in sealed.envelopes:
                with pytest.raises(env.CannotOpen):
                    env.open_key(key, envelope)


@settings(max_examples=40, deadline=None)
@given(contents, recipients, st.data())
def test_tampering_is_detected(plaintext: bytes, chosen: list[int], data: st.DataObject) -> None:
    sealed = _seal(plaintext, chosen)
    reader = KEYS[chosen[0]]
    where = data.draw(st.sampled_from(["ciphertext", "envelope", "context"]))
    if where == "ciphertext":
        at = data.draw(st.integers(0, len(sealed.ciphertext) - 1))
        flipped = bytearray(sealed.ciphertext)
        flipped[at] ^= data.draw(st.integers(1, 255))
        altered = env.Sealed(bytes(flipped), sealed.envelopes)
        assert altered.ref != sealed.ref  # the on-chain reference no longer matches
        with pytest.raises(env.CannotOpen):
            env.open_sealed(altered, reader, CONTEXT)
    elif where == "envelope":
        own = sealed.envelope_for(reader.address)
        assert own is not None
        at = data.draw(st.integers(0, len(own) - 1))
        flipped = bytearray(own)
        flipped[at] ^= data.draw(st.integers(1, 255))
        altered = env.Sealed(sealed.ciphertext, [(reader.address, bytes(flipped))])
        with pytest.raises(env.CannotOpen):
            env.open_sealed(altered, reader, CONTEXT)
    else:  # passed off as another object's content
        other = data.draw(st.binary(min_size=1, max_size=64).filter(lambda c: c != CONTEXT))
        with pytest.raises(env.CannotOpen):
            env.open_sealed(sealed, reader, other)


def test_each_object_has_its_own_data_key() -> None:
    one, two = _seal(b"same", [0, 1]), _seal(b"same", [0, 1])
    assert one.ciphertext != two.ciphertext
    key_one = env.open_key(KEYS[0], one.envelope_for(KEYS[0].address) or b"")
    key_two = env.open_key(KEYS[0], two.envelope_for(KEYS[0].address) or b"")
    assert key_one != key_two
    with pytest.raises(env.CannotOpen):
        env.decrypt(key_one, two.ciphertext, CONTEXT)


def test_bad_inputs_are_typed() -> None:
    with pytest.raises(env.BadEnvelope):
        env.seal(b"x", {}, CONTEXT)
    with pytest.raises(env.BadEnvelope):
        env.seal(b"x", {b"short": bytes(32)}, CONTEXT)
    with pytest.raises(env.BadEnvelope):
        env.seal(b"x", {KEYS[0].address: bytes(31)}, CONTEXT)
    with pytest.raises(env.BadEnvelope):
        env.seal(b"x" * (env.MAX_CONTENT_BYTES + 1), {KEYS[0].address: bytes(32)}, CONTEXT)
    with pytest.raises(env.BadEnvelope):
        env.seal(b"x", {KEYS[0].address: env.sealing_public_key(KEYS[0])}, b"")
    with pytest.raises(env.BadEnvelope):
        env.from_bytes(b"\x01\x02")
    sealed = _seal(b"x", [0, 1])
    unsorted = env.Sealed(sealed.ciphertext, list(reversed(sealed.envelopes)))
    with pytest.raises(env.BadEnvelope):
        env.from_bytes(env.to_bytes(unsorted))


def test_sealing_key_derives_from_the_signing_key() -> None:
    again = KeyPair.from_private_key(KEYS[0].suite_name, KEYS[0].private_key)
    assert env.sealing_public_key(again) == env.sealing_public_key(KEYS[0])
    assert env.sealing_public_key(KEYS[0]) != env.sealing_public_key(KEYS[1])
