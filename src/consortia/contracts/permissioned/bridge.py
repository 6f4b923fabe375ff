"""The contract bridge on a permissioned chain (decisions/0011): contracts' money obeys the
regulator's rules, and contracts see who they deal with.

* :meth:`PermissionedBridge.pay` — every movement through a contract (an attached value in,
  a payout) goes through :func:`~.policy.pay` — the rules before it, the alert rules after
  it — exactly as a native transfer does.
* :meth:`PermissionedBridge.identity` — organisation, its role, the identity's role, KYC tier,
  status and freeze: what an application needs to decide, never personal data.
* :meth:`PermissionedBridge.alert` — a contract's alert (``self.alert_regulator``) is a
  regulator alert record named ``<contract>.<rule>``, written and emitted as the chain's own
  rules' alerts are (``/v1/reg/alerts``, the regulator's feed).
* :meth:`PermissionedBridge.check_contract_call` — a regulator asset freeze of a contract's
  name stops every state-changing call into it, so tokens that contract issues are frozen too.
"""

from __future__ import annotations

from typing import Any

from consortia.contracts.permissioned.alerting import raise_alert
from consortia.contracts.permissioned.directory import identity, org
from consortia.contracts.permissioned.errors import AssetFrozen
from consortia.contracts.permissioned.policy import pay
from consortia.contracts.permissioned.regulator import is_asset_frozen, is_frozen
from consortia.contracts.python.bridge import contract_identity
from consortia.crypto.suites import get_suite
from consortia.execution.context import CallContext
from consortia.execution.state_view import StateReader


class PermissionedBridge:
    def __init__(self, suite: str) -> None:
        self.suite = get_suite(suite)

    def pay(self, ctx: CallContext, frm: bytes, to: bytes, amount: int) -> None:
        pay(ctx, frm, to, amount)

    def alert(self, ctx: CallContext, contract: str, rule: str, address: bytes, amount: int,
              detail: str) -> None:  # fmt: skip
        raise_alert(ctx, f"{contract}.{rule}", address, amount, detail)

    def identity(self, state: StateReader, address: bytes) -> dict[str, Any] | None:
        record = identity(state.get, address)
        if record is None:
            found = contract_identity(state, address)
            if found is not None:
                found["frozen"] = is_frozen(state.get, address)
            return found
        owner = org(state.get, record.org)
        return {
            "org": record.org,
            "org_role": owner.role if owner is not None else None,
            "role": record.role,
            "kyc_tier": record.kyc_tier,
            "status": record.status if owner is None or owner.status == "active" else owner.status,
            "frozen": is_frozen(state.get, address),
        }

    def check_contract_call(self, state: StateReader, contract: str) -> None:
        if is_asset_frozen(state.get, contract):
            raise AssetFrozen(
                f"contract {contract!r} is frozen by the regulator (asset freeze): it cannot "
                "change state until unfrozen",
                asset=contract,
            )
