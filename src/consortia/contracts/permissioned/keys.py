"""State key layout of the permission layer: everything lives under ``perm/``.

The world state is a hashed-key tree with no prefix iteration, so every list (organisations,
proposals, alerts, validator epochs) has an explicit counter or index record.

=============================  ================================================================
key                            value (canonical MessagePack)
=============================  ================================================================
``perm/cfg``                   :class:`~.records.PermConfig` (suite, governance defaults)
``perm/orgs``                  :class:`~.records.OrgIndex` (names, sorted)
``perm/org/<name>``            :class:`~.records.Org`
``perm/id/<address>``          :class:`~.records.Identity`
``perm/frozen/<address>``      :class:`~.records.Freeze`
``perm/afrozen/<asset>``       :class:`~.records.Freeze`
``perm/limits/<tier u16>``     :class:`~.records.TierLimits`
``perm/rules``                 :class:`~.records.AlertRules`
``perm/alert/next``            int: the next alert id (ids start at 1)
``perm/alert/<id u64>``        :class:`~.records.Alert`
``perm/prop/next``             int: the next proposal id (ids start at 1)
``perm/prop/<id u64>``         :class:`~.records.Proposal`
``perm/param/<name>``          int: a governance override of a chain / governance parameter
``perm/code/<name>``           :class:`~.records.CodeApproval`
``perm/vset/count``            int: number of validator epochs written
``perm/vset/<index u32>``      :class:`~.records.ValidatorEpoch`
``perm/reserve/<address>``     str: the organisation whose reserve account this address is
``perm/supply``                :class:`~.records.SupplyTotals` (the whole chain)
``perm/supply/<org>``          :class:`~.records.SupplyTotals` (issued to / redeemed by ``org``)
``perm/supply-orgs``           :class:`~.records.OrgIndex` (names with a supply record, sorted)
=============================  ================================================================

Addresses are the raw 20 bytes; names are UTF-8; integers big-endian fixed width.
"""

from __future__ import annotations

from consortia.types.validator_epoch import EPOCH_KEY_PREFIX

P = b"perm/"
CONFIG = P + b"cfg"
ORG_INDEX = P + b"orgs"
ALERT_NEXT = P + b"alert/next"
PROPOSAL_NEXT = P + b"prop/next"
RULES = P + b"rules"
VSET_COUNT = P + b"vset/count"
SUPPLY = P + b"supply"
SUPPLY_ORGS = P + b"supply-orgs"


def org(name: str) -> bytes:
    return P + b"org/" + name.encode()


def identity(address: bytes) -> bytes:
    return P + b"id/" + address


def frozen(address: bytes) -> bytes:
    return P + b"frozen/" + address


def asset_frozen(asset: str) -> bytes:
    return P + b"afrozen/" + asset.encode()


def limits(tier: int) -> bytes:
    return P + b"limits/" + tier.to_bytes(2, "big")


def alert(alert_id: int) -> bytes:
    return P + b"alert/" + alert_id.to_bytes(8, "big")


def proposal(proposal_id: int) -> bytes:
    return P + b"prop/" + proposal_id.to_bytes(8, "big")


def param(name: str) -> bytes:
    return P + b"param/" + name.encode()


def code(name: str) -> bytes:
    return P + b"code/" + name.encode()


def validator_epoch(index: int) -> bytes:
    return EPOCH_KEY_PREFIX + index.to_bytes(4, "big")


def reserve(address: bytes) -> bytes:
    return P + b"reserve/" + address


def supply(org_name: str) -> bytes:
    return P + b"supply/" + org_name.encode()
