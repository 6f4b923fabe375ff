"""The composition root of system contracts: which contracts a chain's executor runs.

The one place that decides, from the genesis, what runs under each system contract name — the
node, the permission layer's test harness and the benchmarks take the map from here. An open
chain (no organisations in genesis) has the plain currency and lets anyone deploy Python
contracts; a permissioned one adds identity, governance and the regulator, guards the currency
with the regulator's rules, and deploys or upgrades only code that governance approved.
"""

from __future__ import annotations

from collections.abc import Mapping

from consortia.contracts.native_currency import NativeCurrency
from consortia.contracts.permissioned import is_approved_code, permissioned_contracts
from consortia.contracts.permissioned.bridge import PermissionedBridge
from consortia.contracts.python.bridge import Bridge, OpenBridge
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.registry import ContractRegistry
from consortia.execution.context import CallContext
from consortia.execution.executor import NativeContract
from consortia.mempool.pool import Precheck
from consortia.types.genesis import Genesis


def _approved_by_governance(ctx: CallContext, name: str, code_hash: bytes) -> bool:
    return is_approved_code(ctx.state.get, name, code_hash)


def system_contracts_for(genesis: Genesis, host: PythonContractHost) -> dict[str, NativeContract]:
    """The executor's system contracts for this chain, by name (deployed contracts run in
    ``host``)."""
    if not genesis.orgs:
        return {"currency": NativeCurrency(), "contracts": ContractRegistry(host)}
    approved = _approved_by_governance
    return {
        **permissioned_contracts(),
        "contracts": ContractRegistry(host, may_deploy=approved, may_upgrade=approved),
    }


def _spends_nothing(method: str, args: bytes) -> int:
    return 0


def prechecks_of(contracts: Mapping[str, NativeContract]) -> dict[str, Precheck]:
    """Each system contract's stateless argument check, for admission (see ``Mempool``); one
    for every system contract (spending nothing when it has none), so that admission tells
    system contracts, which take no attached value, from deployed ones."""
    return {
        name: getattr(contract, "precheck", None) or _spends_nothing
        for name, contract in contracts.items()
    }


def bridge_for(genesis: Genesis) -> Bridge:
    """The contract bridge of this chain: the permission layer's rules of money and identity
    on a chain with organisations, plain balances on an open one (decisions/0011)."""
    if genesis.orgs:
        return PermissionedBridge(genesis.suite)
    return OpenBridge(genesis.suite)


def contract_host_for(genesis: Genesis) -> PythonContractHost:
    return PythonContractHost(bridge=bridge_for(genesis))
