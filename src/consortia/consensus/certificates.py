"""Checking quorum and timeout certificates: structure, quorum size, every signature."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from consortia.consensus.config import CoreConfig
from consortia.types.consensus import QuorumCert, TimeoutCert, timeout_bytes, vote_bytes

Verify = Callable[[int, bytes, bytes], bool]

_CACHE_LIMIT = 4096


def _signers_well_formed(signers: list[int], n_sigs: int, quorum: int, validators: int) -> bool:
    if len(signers) != n_sigs or len(signers) < quorum:
        return False
    if any(s < 0 or s >= validators for s in signers):
        return False
    return all(a < b for a, b in pairwise(signers))


class CertificateChecker:
    """Verifies certificates for one chain; remembers which (block, round, height) are certified.

    A QC whose (block_id, round, height) was already verified is accepted without re-checking its
    signatures: the fact it proves is already established.
    """

    def __init__(self, config: CoreConfig, verify: Verify, quorum: int) -> None:
        self._config = config
        self._verify = verify
        self.quorum = quorum
        self._certified: dict[tuple[bytes, int, int], None] = {}
        self._trusted: set[tuple[bytes, int, int]] = set()

    def trust(self, qc: QuorumCert) -> None:
        """Accept ``qc`` without checking it: the committed root's certificate, which may come
        from the previous validator set when an epoch starts."""
        self._trusted.add((qc.block_id, qc.round, qc.height))

    def is_genesis(self, qc: QuorumCert) -> bool:
        return (
            qc.round == 0
            and qc.height == 0
            and qc.block_id == self._config.genesis_id
            and not qc.signers
            and not qc.signatures
        )

    def qc_ok(self, qc: QuorumCert) -> bool:
        if qc.round == 0:
            return self.is_genesis(qc)
        key = (qc.block_id, qc.round, qc.height)
        if key in self._certified or key in self._trusted:
            return True
        if qc.round < 0 or qc.height <= 0:
            return False
        n = self._config.validators
        if not _signers_well_formed(qc.signers, len(qc.signatures), self.quorum, n):
            return False
        msg = vote_bytes(self._config.chain_id, qc.block_id, qc.round, qc.height)
        for signer, sig in zip(qc.signers, qc.signatures, strict=True):
            if not self._verify(signer, msg, sig):
                return False
        if len(self._certified) >= _CACHE_LIMIT:
            self._certified.clear()
        self._certified[key] = None
        return True

    def tc_ok(self, tc: TimeoutCert) -> bool:
        n = self._config.validators
        if tc.round <= 0 or len(tc.high_qc_rounds) != len(tc.signers):
            return False
        if not _signers_well_formed(tc.signers, len(tc.signatures), self.quorum, n):
            return False
        if max(tc.high_qc_rounds) != tc.high_qc.round or tc.high_qc.round >= tc.round:
            return False
        if not self.qc_ok(tc.high_qc):
            return False
        chain_id = self._config.chain_id
        for signer, qc_round, sig in zip(tc.signers, tc.high_qc_rounds, tc.signatures, strict=True):
            if not self._verify(signer, timeout_bytes(chain_id, tc.round, qc_round), sig):
                return False
        return True
