"""The consensus core and offline proof verification agree on the quorum, from one definition.

Issue 17: the quorum arithmetic existed twice (``CoreConfig`` and ``types/validators``). These
tests check the behaviour of both verifiers, not the formulas: for every set size 1..100 each
accepts a certificate with exactly the quorum of signatures and refuses one with a signature
fewer; and changing the one shared function changes both.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest

from consortia.consensus import CoreConfig, genesis_qc
from consortia.consensus.certificates import CertificateChecker
from consortia.crypto.suites import Suite, get_suite
from consortia.errors import ProofError
from consortia.ledger.proofs import verify_qc
from consortia.types import validators as validator_set
from consortia.types.block import Header, block_id
from consortia.types.consensus import QuorumCert, vote_bytes

CHAIN = "quorum-chain"
MAX_N = 100
GENESIS_ID = b"\x01" * 32


@cache
def _material() -> tuple[Suite, list[bytes], Header, bytes, list[bytes]]:
    """One header, MAX_N keys and each key's vote on it (a set of n uses the first n keys)."""
    suite = get_suite("ed25519")
    private = [suite.generate_private_key() for _ in range(MAX_N)]
    keys = [suite.public_key(p) for p in private]
    header = Header(chain_id=CHAIN, height=1, round=1, timestamp_ms=0, parent_id=GENESIS_ID,
                    proposer=0, tx_count=0, tx_root=b"\x00" * 32, receipts_root=b"\x00" * 32,
                    state_root=b"\x00" * 32, evidence_root=b"\x00" * 32,
                    justify=genesis_qc(GENESIS_ID))
    bid = block_id(suite.hash, header)
    message = vote_bytes(CHAIN, bid, header.round, header.height)
    return suite, keys, header, bid, [suite.sign(p, message) for p in private]


def _qc(signers: int) -> QuorumCert:
    _suite, _keys, header, bid, sigs = _material()
    return QuorumCert(block_id=bid, round=header.round, height=header.height,
                      signers=list(range(signers)), signatures=sigs[:signers])


def _core_accepts(n: int, signers: int) -> bool:
    suite, keys, _header, _bid, _sigs = _material()
    config = CoreConfig(chain_id=CHAIN, validators=n, genesis_id=GENESIS_ID)

    def verify(i: int, msg: bytes, sig: bytes) -> bool:
        return suite.verify(keys[i], msg, sig)

    # the quorum the core really uses: ConsensusCore passes config.quorum to its checker
    return CertificateChecker(config, verify, config.quorum).qc_ok(_qc(signers))


def _proof_accepts(n: int, signers: int) -> bool:
    suite, keys, header, _bid, _sigs = _material()
    try:
        verify_qc(suite, header, _qc(signers), CHAIN, keys[:n], CHAIN)
    except ProofError:
        return False
    return True


def _accepted_minimum(accepts: Callable[[int, int], bool], n: int) -> int:
    """The fewest signatures ``accepts`` takes for a set of ``n``."""
    least = next(k for k in range(1, n + 1) if accepts(n, k))
    assert accepts(n, n), f"n={n}: all signatures refused"
    return least


def test_core_and_offline_proofs_agree_on_the_quorum_for_1_to_100() -> None:
    for n in range(1, MAX_N + 1):
        quorum = validator_set.quorum_size(n)
        assert CoreConfig(chain_id=CHAIN, validators=n, genesis_id=GENESIS_ID).quorum == quorum
        for accepts in (_core_accepts, _proof_accepts):
            assert accepts(n, quorum), f"n={n}: {accepts.__name__} refuses a quorum"
            assert not accepts(n, quorum - 1), f"n={n}: {accepts.__name__} takes quorum - 1"
        # 2f + 1 of n = 3f + 1, and any two quorums share an honest validator
        f = validator_set.max_faulty(n)
        assert 3 * f + 1 <= n and 2 * quorum - n >= f + 1


@pytest.mark.parametrize("n", [1, 4, 7, 10])
def test_one_definition_changing_it_changes_core_and_proofs(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CoreConfig.quorum and the proof verifier are computed by the shared function: patching
    it (here to 'every validator must sign') moves both."""
    monkeypatch.setattr(validator_set, "quorum_size", lambda size: size)
    assert CoreConfig(chain_id=CHAIN, validators=n, genesis_id=GENESIS_ID).quorum == n
    assert _accepted_minimum(_core_accepts, n) == n
    assert _accepted_minimum(_proof_accepts, n) == n
    monkeypatch.setattr(validator_set, "max_faulty", lambda size: 0)
    assert CoreConfig(chain_id=CHAIN, validators=n, genesis_id=GENESIS_ID).max_faulty == 0
