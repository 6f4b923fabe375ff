"""``apps/trace``: industrial traceability (issue 18, decisions/0021).

One contract, ``trace`` (deployed at genesis, owned by the consortium, upgradable only to
governance-approved code): items and batches under GS1 or industrial-internet identifiers
(:mod:`.identifiers`), EPCIS 2.0 events in meaning (observe, aggregate, disaggregate, transform,
two-sided custody handover), inspections by ``inspector`` organisations, recalls that flag every
item downstream and alert its holder. EPCIS 2.0 JSON-LD import and export in :mod:`.epcis`; the
queries (provenance, where-used, status, the public view) are the SQL index's
(:mod:`consortia.index.trace_queries`).
"""

from consortia.apps.trace.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
