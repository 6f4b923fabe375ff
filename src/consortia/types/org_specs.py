"""Genesis specifications of the permission layer: organisations, identities, governance.

Plain data (canonical msgspec Structs) so that the genesis type can hold them; the rules that
interpret them live in :mod:`consortia.contracts.permissioned`.
"""

from __future__ import annotations

import msgspec


class OrgSpec(msgspec.Struct, array_like=True, frozen=True):
    """An organisation as genesis (or an ``add-org`` proposal) names it.

    ``ca_pem`` is the organisation's CA certificate (PEM); empty means public-key mode.
    """

    name: str
    role: str
    admins: list[bytes]
    ca_pem: bytes = b""


class IdentitySpec(msgspec.Struct, array_like=True, frozen=True):
    """An identity enrolled at genesis (e.g. the dev accounts), besides the org admins."""

    address: bytes
    org: str
    role: str
    kyc_tier: int
    pii_hash: bytes = b""


class GovParams(msgspec.Struct, array_like=True, frozen=True):
    """Governance defaults; each can be overridden later by ``set-param`` (names ``gov.*``)."""

    threshold_num: int = 2
    threshold_den: int = 3
    max_voting_blocks: int = 1_000_000
    validator_delay: int = 2
