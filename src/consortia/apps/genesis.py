"""Deploying the applications at genesis: the state records of every app contract at height 0.

Each contract is written exactly as the ``contracts`` registry's deploy writes it
(:meth:`ContractRegistry.store`: code, meta, version and address records), owned by
:data:`CONSORTIUM` (``bytes(20)``: no key; the consortium as a whole), with a governance code
approval (``perm/code/<name>`` = ``CodeApproval(name, code_hash, 1, 0, 0)``). So no one deploys
another contract under these names, and an upgrade needs a new approval: governance passes
``upgrade-contract`` with the new code's hash, then anyone submits ``contracts.upgrade`` with
exactly that code.
"""

from __future__ import annotations

import functools

from consortia.apps.bills.contracts import CONTRACTS as BILLS_CONTRACTS
from consortia.apps.bills.contracts import source as bills_source
from consortia.apps.cbdc.contracts import CONTRACTS as CBDC_CONTRACTS
from consortia.apps.cbdc.contracts import source as cbdc_source
from consortia.apps.energy.contracts import CONTRACTS as ENERGY_CONTRACTS
from consortia.apps.energy.contracts import source as energy_source
from consortia.apps.health.contracts import CONTRACTS as HEALTH_CONTRACTS
from consortia.apps.health.contracts import source as health_source
from consortia.apps.notary.contracts import CONTRACTS as NOTARY_CONTRACTS
from consortia.apps.notary.contracts import source as notary_source
from consortia.apps.privacy.contracts import CONTRACTS as PRIVACY_CONTRACTS
from consortia.apps.privacy.contracts import source as privacy_source
from consortia.apps.scf.contracts import CONTRACTS as SCF_CONTRACTS
from consortia.apps.scf.contracts import source as scf_source
from consortia.apps.trace.contracts import CONTRACTS as TRACE_CONTRACTS
from consortia.apps.trace.contracts import source as trace_source
from consortia.contracts.permissioned import keys
from consortia.contracts.permissioned.records import CodeApproval
from consortia.contracts.permissioned.store import write
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.layout import ContractMeta
from consortia.contracts.python.registry import CONSORTIUM, ContractRegistry
from consortia.contracts.python.source_hash import code_hash_of
from consortia.crypto.suites import get_suite
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.invariant import invariant

GENESIS_HEIGHT = 0


class _Empty:
    def get(self, key: bytes) -> bytes | None:
        return None


def app_sources() -> dict[str, str]:
    """Every application contract deployed at genesis: name -> source."""
    sources = {name: cbdc_source(name) for name in CBDC_CONTRACTS}
    sources.update({name: bills_source(name) for name in BILLS_CONTRACTS})
    sources.update({name: notary_source(name) for name in NOTARY_CONTRACTS})
    sources.update({name: energy_source(name) for name in ENERGY_CONTRACTS})
    sources.update({name: scf_source(name) for name in SCF_CONTRACTS})
    sources.update({name: health_source(name) for name in HEALTH_CONTRACTS})
    sources.update({name: trace_source(name) for name in TRACE_CONTRACTS})
    sources.update({name: privacy_source(name) for name in PRIVACY_CONTRACTS})
    return sources


def app_records(suite: str) -> dict[bytes, bytes]:
    """The state records deploying every app contract at height 0 (merge them into the
    genesis state of a permissioned chain; they need the governance records' layout).

    Compiling every application's source takes about a second, and the records depend on
    nothing but the sources shipped with this package: they are made once per process (a
    fresh dict each call, so callers may change theirs)."""
    get_suite(suite)  # an unknown suite fails here, as the rest of genesis would
    return dict(_app_records())


@functools.cache
def _app_records() -> tuple[tuple[bytes, bytes], ...]:
    ctx = CallContext(
        sender=CONSORTIUM, tx_hash=b"", block=BlockContext("genesis", GENESIS_HEIGHT, 0, 0),
        state=TxState(_Empty()),
    )
    host = PythonContractHost()
    for name, source in app_sources().items():
        code_hash = host.compile(source).code_hash  # refuses code the chain would not run
        invariant(code_hash == code_hash_of(source), "a contract's code hash is the hash of its source")
        ContractRegistry.store(ctx, name, source, ContractMeta(code_hash, 1, CONSORTIUM, GENESIS_HEIGHT))
        write(ctx.state, keys.code(name), CodeApproval(name, code_hash, 1, 0, GENESIS_HEIGHT))
    return tuple((key, value) for key, value in ctx.state.writes.items() if value is not None)
