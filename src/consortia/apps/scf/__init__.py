"""``apps/scf``: supply-chain finance and shared credit records (issue 11, decisions/0017).

Two contracts deployed at genesis (owned by the consortium, upgradable only to
governance-approved code): ``scf`` — credit lines, confirmed payables split and passed down the
supply chain, factoring as delivery versus payment, settlement at maturity, defaults and
recourse claims, and the invoice registry that locks what is financed; ``credit`` — loans
recorded by lenders, the borrower's consent, consented queries logged on chain. See
:mod:`.sdk` for their calls and views.
"""

from consortia.apps.scf.contracts import CONTRACTS, source

__all__ = ["CONTRACTS", "source"]
