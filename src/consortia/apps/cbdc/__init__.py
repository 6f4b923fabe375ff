"""``apps/cbdc``: programmable payments and controllable anonymity on the retail currency.

Contracts (deployed at genesis, owned by the consortium, upgradable only to governance-approved
code): ``escrow``, ``earmark``, ``payments``, ``resolve``. See :mod:`.sdk` for building their
calls and reading their views, and :mod:`consortia.crypto.sealed` for resolution answers.
"""

from consortia.apps.cbdc.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
