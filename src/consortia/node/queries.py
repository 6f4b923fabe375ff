"""Read-side questions a node answers from committed data, with proofs where asked."""

from __future__ import annotations

from consortia.codec import encode
from consortia.contracts.permissioned.validators import epoch, epoch_count
from consortia.errors import NotFound
from consortia.execution.accounts import Account, account_key, decode_account
from consortia.ledger.merkle import inclusion_proof
from consortia.ledger.proofs import EpochLink, ReceiptProof, StateValueProof
from consortia.node.chain import Chain
from consortia.types.block import CommittedBlock
from consortia.types.receipt import Receipt
from consortia.types.validator_epoch import EPOCH_KEY_PREFIX


def committed_tx(chain: Chain, tx_hash: bytes) -> tuple[CommittedBlock, int, Receipt]:
    committed, index, receipts = _committed_with_receipts(chain, tx_hash)
    return committed, index, receipts[index]


def _committed_with_receipts(
    chain: Chain, tx_hash: bytes
) -> tuple[CommittedBlock, int, list[Receipt]]:
    location = chain.store.tx_location(tx_hash)
    if location is None:
        raise NotFound(f"transaction 0x{tx_hash.hex()} is not committed")
    height, index = location
    return chain.store.block(height), index, chain.store.receipts(height)


def epoch_links(chain: Chain, height: int) -> list[EpochLink]:
    """The validator-set changes an offline verifier must follow to check a header at ``height``."""
    state_get = chain.store.state_get
    links: list[EpochLink] = []
    for number in range(1, epoch_count(state_get)):
        record = epoch(state_get, number)
        if record is None or record.effective_height > height:
            break
        last_old = chain.store.block(record.effective_height - 1)
        key = EPOCH_KEY_PREFIX + number.to_bytes(4, "big")
        raw = state_get(key)
        if raw is None:
            raise NotFound(f"validator-set record {number} is missing")
        proof = chain.tree.get_proof(last_old.block.header.state_root, key)
        links.append(EpochLink(last_old.block.header, last_old.qc, number, raw, proof))
    return links


def receipt_proof(chain: Chain, tx_hash: bytes) -> ReceiptProof:
    committed, index, receipts = _committed_with_receipts(chain, tx_hash)
    height = committed.block.header.height
    receipt = receipts[index]
    tx_hashes = [chain.hash(raw) for raw in committed.block.txs]
    return ReceiptProof(
        tx=committed.block.txs[index],
        receipt=receipt,
        header=committed.block.header,
        qc=committed.qc,
        tx_proof=inclusion_proof(tx_hashes, index, chain.hash),
        receipt_proof=inclusion_proof([encode(r) for r in receipts], index, chain.hash),
        epochs=epoch_links(chain, height),
    )


def state_value_proof(chain: Chain, key: bytes) -> StateValueProof:
    """The value under ``key`` at the committed head, with its proof (or proof of absence)."""
    head = chain.store.block(chain.head.height)
    proof = chain.tree.get_proof(head.block.header.state_root, key)
    header = head.block.header
    return StateValueProof(
        key, chain.store.state_get(key), header, head.qc, proof, epoch_links(chain, header.height)
    )


def account(chain: Chain, address: bytes) -> Account | None:
    raw = chain.store.state_get(account_key(address))
    return decode_account(raw) if raw is not None else None


def block_by_hash(chain: Chain, block_id: bytes) -> CommittedBlock:
    return chain.store.block(chain.store.height_of_block(block_id))
