"""Drive a chain as its only validator without the network: build, certify and commit.

Used by the in-process benchmark and by tests that need committed blocks quickly. The
certificate is a real one: the single validator's signature over the block's vote bytes, so
receipts from such a chain verify offline exactly like those of a network.
"""

from __future__ import annotations

from consortia.crypto.keys import KeyPair
from consortia.node.chain import Chain, ExecutedBlock
from consortia.types.consensus import QuorumCert, vote_bytes


def self_certify(chain: Chain, key: KeyPair, executed: ExecutedBlock, validator: int = 0) -> QuorumCert:
    header = executed.header
    signature = key.sign(vote_bytes(chain.chain_id, executed.block_id, header.round, header.height))
    return QuorumCert(executed.block_id, header.round, header.height, [validator], [signature])


def produce_block(chain: Chain, key: KeyPair, timestamp_ms: int) -> ExecutedBlock:
    """Build the next block from the mempool on the head, certify it and commit it."""
    head = chain.head_header
    justify = chain.store.block(head.height).qc
    executed = chain.build_block(
        chain.head.block_id, head.round + 1, 0, timestamp_ms, justify
    )
    return chain.commit(executed.block_id, self_certify(chain, key, executed))
