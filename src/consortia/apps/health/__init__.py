"""``apps/health``: healthcare records with the patient's consent. Records are encrypted under a
fresh AES-256-GCM data key and kept off chain in their hospital node's record store
(:mod:`.store`); the chain holds the record's hash, patient and hospital, the data key sealed
to each party, consent grants, emergency openings and every access (:mod:`.contracts`).
Cryptography in :mod:`.records`, calls in :mod:`.sdk`, the node side in :mod:`.service`.

Decision record: docs/decisions/0020-health-records.md.
"""

from consortia.apps.health.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
