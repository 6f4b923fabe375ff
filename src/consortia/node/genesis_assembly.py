"""The genesis of a consortium, assembled from its organisations' public bundles alone.

Deterministic: the bundles are sorted by organisation name and nothing of the assembling
machine (no clock, no file order, no random value) enters the result, so every organisation
that assembles the same bundles with the same options writes the same bytes and computes the
same genesis hash, which they compare out of band before starting their nodes. The genesis
time is the latest ``created_ms`` of the bundles unless given.

Organisation ``k`` (in name order) contributes the validator ``<name>-validator`` at index
``k``; that index is also its node's transport index (its TLS certificate names it).
"""

from __future__ import annotations

from collections.abc import Sequence

from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import get_suite
from consortia.node.network_setup import genesis_ca_pem, org_genesis
from consortia.node.org_home import BundleError, verify_bundle
from consortia.types.genesis import Allocation, ChainParams, Genesis, ValidatorInfo
from consortia.types.org_bundle import OrgBundle
from consortia.types.org_specs import GovParams, OrgSpec

MAX_CHAIN_ID = 64
VALIDATOR_SUFFIX = "-validator"


def validator_name(org: str) -> str:
    return org + VALIDATOR_SUFFIX


def ordered_bundles(bundles: Sequence[OrgBundle]) -> list[OrgBundle]:
    """The bundles checked (each, and against each other) and in genesis order (by name)."""
    if not bundles:
        raise BundleError("a genesis needs at least one organisation's bundle")
    for bundle in bundles:
        verify_bundle(bundle)
    suites = sorted({b.body.suite for b in bundles})
    if len(suites) != 1:
        raise BundleError(f"the bundles use different crypto suites ({', '.join(suites)}); a chain has one")
    _distinct(bundles, "organisation name", lambda b: b.body.name)
    _distinct(bundles, "admin key", lambda b: b.body.admin_public_key.hex())
    _distinct(bundles, "validator key", lambda b: b.body.validator_public_key.hex())
    _distinct(bundles, "TLS key", lambda b: b.body.tls_spki_sha256.hex())
    _distinct(bundles, "p2p address", lambda b: f"{b.body.host}:{b.body.p2p_port}")
    return sorted(bundles, key=lambda b: b.body.name)


def _distinct(bundles: Sequence[OrgBundle], what: str, field: object) -> None:
    seen: dict[str, str] = {}
    for bundle in bundles:
        value = field(bundle)  # type: ignore[operator]
        if value in seen:
            raise BundleError(
                f"the bundles of {seen[value]!r} and {bundle.body.name!r} have the same {what} {value}",
            )
        seen[value] = bundle.body.name


def assemble_genesis(
    bundles: Sequence[OrgBundle],
    chain_id: str,
    allocations: Sequence[tuple[bytes, int]] = (),
    *,
    params: ChainParams | None = None,
    gov: GovParams | None = None,
    timestamp_ms: int | None = None,
) -> Genesis:
    """The genesis of the organisations of ``bundles`` (any order): one validator each, the
    committee of their admins, their CAs, the e-CNY tier limits, and ``allocations``."""
    if not 1 <= len(chain_id) <= MAX_CHAIN_ID or not chain_id.isprintable() or chain_id != chain_id.strip():
        raise BundleError(f"--chain-id must be 1-{MAX_CHAIN_ID} printable characters, got {chain_id!r}")
    ordered = ordered_bundles(bundles)
    suite = ordered[0].body.suite
    allocs: dict[bytes, int] = {}
    for address, amount in allocations:
        if len(address) != 20 or not 0 < amount < 2**64:
            raise BundleError(f"an allocation needs a 20-byte address and an amount in [1, 2**64), "
                              f"got {amount}")
        if address in allocs:
            raise BundleError(f"address 0x{address.hex()} is allocated twice")
        allocs[address] = amount
    when = timestamp_ms if timestamp_ms is not None else max(b.body.created_ms for b in ordered)
    if when < 0:
        raise BundleError(f"the genesis time must be >= 0, got {when}")
    genesis = Genesis(
        chain_id=chain_id,
        suite=suite,
        timestamp_ms=when,
        validators=[ValidatorInfo(validator_name(b.body.name), b.body.validator_public_key) for b in ordered],
        allocations=[Allocation(a, allocs[a]) for a in sorted(allocs)],
        params=params or ChainParams(),
    )
    specs = [
        OrgSpec(
            b.body.name, b.body.role,
            [address_from_public_key(get_suite(suite), b.body.admin_public_key)],
            genesis_ca_pem(suite, b.body.ca_pem),
        )
        for b in ordered
    ]
    return org_genesis(genesis, specs, [], gov)
