"""``apps/notary``: notarisation. The SHA-256 of any number of documents in one RFC 6962 root,
anchored by one transaction; per document a receipt that verifies offline against the genesis
file (:mod:`.receipts`); a node-side stamping service that batches many clients' hashes per
block (:mod:`.service`); a node index of documents, first stamp first (:mod:`.index`).

Contract (deployed at genesis, owned by the consortium): ``notary`` (:mod:`.contracts`).
Decision record: docs/decisions/0012-notarisation.md.
"""

from consortia.apps.notary.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
