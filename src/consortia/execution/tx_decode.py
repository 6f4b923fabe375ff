"""Stateless checks of a transaction's bytes: size, canonical form, chain id, key shape.

Signature checks are separate (:func:`verify_signatures`) so that a batch can be verified on
every core at once, and so that a transaction already verified at admission is never verified
a second time on the same node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consortia.codec import decode
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import Suite
from consortia.errors import CryptoError, InvalidCall, TxTooLarge, WrongChainId
from consortia.execution.accounts import MAX_AMOUNT
from consortia.types.transaction import SignedTx, TxBody, signing_bytes


@dataclass(frozen=True, slots=True)
class CheckedTx:
    """A transaction that passed the stateless checks; ``hash`` is over its wire bytes."""

    raw: bytes
    hash: bytes
    body: TxBody
    sender: bytes
    signed_message: bytes
    signature: bytes


def decode_tx(raw: bytes, chain_id: str, suite: Suite, max_bytes: int) -> CheckedTx:
    """Decode and check ``raw`` without touching state; raises a typed error on any defect."""
    if len(raw) > max_bytes:
        raise TxTooLarge(
            f"transaction is {len(raw)} bytes; the limit is {max_bytes}",
            size=len(raw),
            limit=max_bytes,
        )
    signed = decode(raw, SignedTx)
    body = decode(signed.body, TxBody)
    if body.chain_id != chain_id:
        raise WrongChainId(
            f"transaction is for chain {body.chain_id!r}; this is chain {chain_id!r}",
            expected=chain_id,
            got=body.chain_id,
        )
    if len(body.public_key) != suite.public_key_size:
        raise CryptoError(
            f"{suite.name} public keys are {suite.public_key_size} bytes, got {len(body.public_key)}"
        )
    value = body.call.value
    if not 0 <= value <= MAX_AMOUNT:
        raise InvalidCall(f"attached value must be between 0 and {MAX_AMOUNT}, got {value}")
    return CheckedTx(
        raw=raw,
        hash=suite.hash(raw),
        body=body,
        sender=address_from_public_key(suite, body.public_key),
        signed_message=signing_bytes(signed.body),
        signature=signed.signature,
    )


def verify_signatures(suite: Suite, txs: Sequence[CheckedTx]) -> list[bool]:
    """Check every signature, on all cores; one result per transaction."""
    return suite.verify_batch([(t.body.public_key, t.signed_message, t.signature) for t in txs])
