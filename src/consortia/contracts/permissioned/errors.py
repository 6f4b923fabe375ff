"""Typed errors of the permission layer, each with a stable ``code``.

All derive from :class:`~consortia.errors.TxRejected`: raised inside a system contract they fail
the transaction (its writes dropped); raised by :mod:`.policy` at admission they refuse it.
"""

from __future__ import annotations

from consortia.errors import TxRejected

# --- who is sending -------------------------------------------------------------------------


class IdentityRefused(TxRejected):
    """Base: the sender (or a recipient) may not take part in transactions right now."""

    code = "identity_refused"
    http_status = 403


class UnknownIdentity(IdentityRefused):
    code = "unknown_identity"


class IdentityRevoked(IdentityRefused):
    code = "identity_revoked"


class OrganisationRemoved(IdentityRefused):
    code = "org_removed"


class AccountFrozen(IdentityRefused):
    code = "account_frozen"


class AssetFrozen(TxRejected):
    code = "asset_frozen"
    http_status = 403


class LimitExceeded(TxRejected):
    code = "limit_exceeded"
    http_status = 403


# --- roles ------------------------------------------------------------------------------------


class PermissionDenied(TxRejected):
    """Base: the sender's role does not allow this action."""

    code = "permission_denied"
    http_status = 403


class NotOrgAdmin(PermissionDenied):
    code = "not_org_admin"


class NotCommitteeMember(PermissionDenied):
    code = "not_committee_member"


class NotRegulator(PermissionDenied):
    code = "not_regulator"


class RegulatorCannotTransfer(PermissionDenied):
    code = "regulator_cannot_transfer"


class NotIssuer(PermissionDenied):
    """Only admins of a ``central-bank`` organisation issue currency."""

    code = "not_issuer"


class NotOperatorBank(PermissionDenied):
    """Redeeming, funding and opening wallets are for admins of an operator bank."""

    code = "not_operator_bank"


# --- identity contract ------------------------------------------------------------------------


class AlreadyEnrolled(TxRejected):
    code = "already_enrolled"
    http_status = 409


class AlreadyRevoked(TxRejected):
    code = "already_revoked"
    http_status = 409


class CertificateRejected(TxRejected):
    code = "certificate_rejected"


class NotAWallet(TxRejected):
    code = "not_a_wallet"
    http_status = 409


class WalletNotOpen(TxRejected):
    code = "wallet_closed"
    http_status = 409


# --- governance -------------------------------------------------------------------------------


class InvalidProposal(TxRejected):
    code = "invalid_proposal"


class UnknownProposal(TxRejected):
    code = "unknown_proposal"
    http_status = 404


class ProposalExpired(TxRejected):
    code = "proposal_expired"


class ProposalClosed(TxRejected):
    code = "proposal_closed"
    http_status = 409


class DuplicateVote(TxRejected):
    code = "duplicate_vote"
    http_status = 409


# --- regulator --------------------------------------------------------------------------------


class AlreadyFrozen(TxRejected):
    code = "already_frozen"
    http_status = 409


class NotFrozen(TxRejected):
    code = "not_frozen"
    http_status = 409


class InvalidRule(TxRejected):
    code = "invalid_rule"


# --- monetary base --------------------------------------------------------------------------


class UnknownBank(TxRejected):
    """``issue`` names no active organisation with role ``bank``."""

    code = "unknown_bank"
    http_status = 404


class SupplyOverflow(TxRejected):
    """Cumulative issuance would no longer fit an unsigned 64-bit integer."""

    code = "supply_overflow"
