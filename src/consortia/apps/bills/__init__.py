"""``apps/bills``: digital cheques and bills of exchange (issue 10, decisions/0012).

One contract, ``bills`` (deployed at genesis, owned by the consortium, upgradable only to
governance-approved code): issue, acceptance, endorsement, split, discount (delivery versus
payment), pledge, presentment, payment from the drawer's cover or the acceptor's funds,
dishonour, recourse, stop-payment, cancellation and expiry. See :mod:`.sdk` for its calls and views.
"""

from consortia.apps.bills.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
