"""The consortium's node directory on chain: nodes that joined after genesis, and validator keys
rotated by governance (decisions/0015).

Genesis nodes are known from the genesis and the organisations' bundles (``node init``); a node
that joins later is known only from here. A ``join-org`` proposal carries the new organisation's
signed bundle (:class:`~consortia.types.org_bundle.OrgBundle`); when it passes, the bundle is kept
as a :class:`NodeEntry` with the *transport index* the node's TLS certificate must name (the
next after the genesis validators and the nodes that joined before). Every node reads the
directory and dials the new peer at the address, and pins the TLS key and CA, of that bundle.

A ``rotate-validator`` proposal replaces a validator's consensus key in the set (a new epoch)
and records a :class:`KeyRotation`, so every node knows which transport peer signs with the
new key.

=============================  =====================================================
key                            value
=============================  =====================================================
``perm/node/count``            int: nodes joined after genesis
``perm/node/<n u32>``          :class:`NodeEntry` (n from 0)
``perm/rekey/count``           int: validator key rotations
``perm/rekey/<n u32>``         :class:`KeyRotation` (n from 0)
=============================  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import msgspec

from consortia.contracts.permissioned import keys, validators
from consortia.contracts.permissioned.store import StateGet, read, read_int, write
from consortia.execution.context import TxState
from consortia.invariant import InvariantViolation
from consortia.types.org_bundle import OrgBundle

NODE_COUNT = keys.P + b"node/count"
REKEY_COUNT = keys.P + b"rekey/count"
T = TypeVar("T")


def node_key(n: int) -> bytes:
    return keys.P + b"node/" + n.to_bytes(4, "big")


def rekey_key(n: int) -> bytes:
    return keys.P + b"rekey/" + n.to_bytes(4, "big")


class NodeEntry(msgspec.Struct, array_like=True, frozen=True):
    """A node that joined by governance: its transport index and its organisation's bundle."""

    index: int
    bundle: OrgBundle
    proposal_id: int
    height: int


class KeyRotation(msgspec.Struct, array_like=True, frozen=True):
    """Validator key ``old`` replaced by ``new`` (same node, same transport index)."""

    old_public_key: bytes
    new_public_key: bytes
    proposal_id: int
    height: int
    effective_height: int


def _listed(state_get: StateGet, count_key: bytes, key_of: Callable[[int], bytes], typ: type[T]) -> list[T]:
    out: list[T] = []
    for n in range(read_int(state_get, count_key)):
        record = read(state_get, key_of(n), typ)
        if record is None:
            raise InvariantViolation(f"directory record {n} under {count_key!r} is missing")
        out.append(record)
    return out


def joined_nodes(state_get: StateGet) -> list[NodeEntry]:
    """Every node that joined after genesis, in the order they joined."""
    return _listed(state_get, NODE_COUNT, node_key, NodeEntry)


def key_rotations(state_get: StateGet) -> list[KeyRotation]:
    """Every validator key rotation, oldest first."""
    return _listed(state_get, REKEY_COUNT, rekey_key, KeyRotation)


def genesis_node_count(state_get: StateGet) -> int:
    first = validators.epoch(state_get, 0)
    if first is None:
        raise InvariantViolation("the genesis validator set (epoch 0) is not in state")
    return len(first.validators)


def next_index(state_get: StateGet) -> int:
    """The transport index the next joining node gets."""
    return genesis_node_count(state_get) + read_int(state_get, NODE_COUNT)


def add_node(state: TxState, bundle: OrgBundle, proposal_id: int, height: int) -> NodeEntry:
    count = read_int(state.get, NODE_COUNT)
    entry = NodeEntry(next_index(state.get), bundle, proposal_id, height)
    write(state, node_key(count), entry)
    write(state, NODE_COUNT, count + 1)
    return entry


def add_rotation(state: TxState, rotation: KeyRotation) -> None:
    count = read_int(state.get, REKEY_COUNT)
    write(state, rekey_key(count), rotation)
    write(state, REKEY_COUNT, count + 1)


def transport_keys(state_get: StateGet, genesis_keys: list[bytes]) -> dict[bytes, int]:
    """Validator public key -> transport index, for every key a node ever signed with: the
    genesis validators (index = position), joined nodes, then each rotation (new key -> the
    index of the old one)."""
    out = {key: i for i, key in enumerate(genesis_keys)}
    for entry in joined_nodes(state_get):
        out[entry.bundle.body.validator_public_key] = entry.index
    for rotation in key_rotations(state_get):
        index = out.get(rotation.old_public_key)
        if index is not None:
            out[rotation.new_public_key] = index
    return out
