"""Misbehaviour evidence on chain: checked, recorded once per offence, queryable by anyone.

A block may carry canonically encoded consensus :data:`~consortia.consensus.Evidence` (two
conflicting signed proposals or votes of one validator in one round). Executing the block checks
every piece against the validator keys and records it in the world state under
``ev`` + kind + offender + round, with the height that recorded it; a second piece of evidence
for the same offence, or a piece that does not verify, makes the block invalid.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import msgspec

from consortia.codec import decode_any, encode
from consortia.consensus import Evidence, ProposalEquivocation, verify_evidence
from consortia.crypto.suites import Suite
from consortia.errors import ConsortiaError
from consortia.execution.executor import InvalidBlock
from consortia.execution.state_view import StateReader

EVIDENCE_PREFIX = b"ev"
MAX_EVIDENCE_PER_BLOCK = 64
_KEY = struct.Struct(">BIQ")


class EvidenceRecord(msgspec.Struct, array_like=True, frozen=True):
    height: int
    evidence: bytes


def evidence_key(evidence: Evidence) -> bytes:
    kind = 0 if isinstance(evidence, ProposalEquivocation) else 1
    return EVIDENCE_PREFIX + _KEY.pack(kind, evidence.offender, evidence.round)


def decode_evidence(raw: bytes) -> Evidence:
    return decode_any(raw, Evidence)  # type: ignore[no-any-return]


class EvidenceBook:
    def __init__(self, chain_id: str, suite: Suite, validators: Sequence[bytes]) -> None:
        self.chain_id = chain_id
        self.suite = suite
        self.validators = list(validators)

    def _verify(self, validator: int, message: bytes, signature: bytes) -> bool:
        if not 0 <= validator < len(self.validators):
            return False
        return self.suite.verify(self.validators[validator], message, signature)

    def check(self, raw: bytes) -> Evidence:
        try:
            evidence = decode_evidence(raw)
        except ConsortiaError as exc:
            raise InvalidBlock(f"malformed evidence: {exc.message}") from None
        if not verify_evidence(evidence, self.chain_id, self._verify):
            raise InvalidBlock("evidence does not prove a double signature")
        return evidence

    def unrecorded(self, state: StateReader, candidates: Sequence[bytes]) -> list[bytes]:
        """The valid candidates not yet on chain, one per offence, for a new block."""
        out: list[bytes] = []
        seen: set[bytes] = set()
        for raw in candidates:
            try:
                evidence = self.check(raw)
            except InvalidBlock:
                continue
            key = evidence_key(evidence)
            if key in seen or state.get(key) is not None:
                continue
            seen.add(key)
            out.append(raw)
            if len(out) >= MAX_EVIDENCE_PER_BLOCK:
                break
        return out

    def record(
        self,
        state: StateReader,
        writes: dict[bytes, bytes | None],
        evidence: Sequence[bytes],
        height: int,
    ) -> None:
        """Check and write each piece; any bad or repeated piece invalidates the block."""
        if len(evidence) > MAX_EVIDENCE_PER_BLOCK:
            raise InvalidBlock(f"a block records at most {MAX_EVIDENCE_PER_BLOCK} pieces of evidence")
        for raw in evidence:
            key = evidence_key(self.check(raw))
            if state.get(key) is not None or key in writes:
                raise InvalidBlock("evidence for this offence is already on chain")
            writes[key] = encode(EvidenceRecord(height, raw))
