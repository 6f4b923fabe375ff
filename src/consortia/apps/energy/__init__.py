"""``apps/energy``: metered energy (issue 12). A grid operator enrols meters by their keys;
meters submit signed interval readings; production issues green certificates (one per MWh, the
remainder carried forward per meter) that transfer and are retired once; prosumers sell surplus
energy peer to peer, settled in the chain's currency for the energy actually metered.

Contract (deployed at genesis, owned by the consortium): ``energy`` (:mod:`.contracts`); calls
and views in :mod:`.sdk`. Decision record: docs/decisions/0018-energy.md.
"""

from consortia.apps.energy.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
