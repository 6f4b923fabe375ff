"""The world state at height 0, as the genesis file defines it (pure: genesis in, writes out)."""

from __future__ import annotations

from consortia.apps.genesis import app_records
from consortia.contracts.permissioned import genesis_records, param_records, required_accounts
from consortia.errors import ConfigError
from consortia.execution.accounts import Account, account_key, encode_account
from consortia.types.genesis import Genesis


def genesis_writes(genesis: Genesis) -> dict[bytes, bytes | None]:
    """Allocations; on a permissioned chain also the organisations (with their reserve
    accounts), identities, tier limits, governance settings, validator epoch 0, the supply
    records (allocations count as issuance), every chain parameter (so that state owns them)
    and the applications of ``consortia.apps`` (deployed at height 0)."""
    writes: dict[bytes, bytes | None] = {}
    for alloc in genesis.allocations:
        key = account_key(alloc.address)
        if len(alloc.address) != 20 or key in writes or alloc.balance < 0:
            raise ConfigError(f"bad genesis allocation for 0x{alloc.address.hex()}")
        writes[key] = encode_account(Account(0, alloc.balance))
    if genesis.tier_limits and not genesis.orgs:
        raise ConfigError("genesis tier_limits need organisations (a permissioned chain)")
    if genesis.orgs:
        writes.update(
            genesis_records(
                genesis.orgs,
                suite=genesis.suite,
                validators=genesis.validators,
                identities=genesis.identities,
                gov=genesis.gov,
                allocations=genesis.allocations,
                tier_limits=genesis.tier_limits,
            )
        )
        writes.update(param_records(genesis.params))
        writes.update(app_records(genesis.suite))  # the applications, governance-upgradable
        for address in required_accounts(genesis.orgs, genesis.identities):
            writes.setdefault(account_key(address), encode_account(Account(0, 0)))
    return writes
