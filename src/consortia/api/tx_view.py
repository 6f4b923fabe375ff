"""Readable views of transactions, receipts and events: plain JSON, never an exception.

A transaction on the wire is MessagePack; people want the sender, the contract and method, the
nonce and expiry, the attached value and the arguments *by name*. These pure functions turn
wire bytes (or a :class:`~consortia.execution.tx_decode.CheckedTx`) and receipt events into
plain JSON (byte strings as ``0x`` hex), keeping the raw hex next to the decoded form.

* System contracts (``currency``, ``identity``, ``regulator``, ``governance``, ``contracts``):
  arguments and events get named fields, decoded with the contracts' own decoders where they
  have them (``currency.transfer`` → ``{"to": "0x…", "amount": n}``; ``contracts.deploy`` →
  name, code hash and source size, not the source).
* Any other contract: arguments are the generic MessagePack list as plain JSON; a Python
  contract's event is a MessagePack map, shown as its fields.
* Anything that does not decode as expected falls back to the generic form, and bytes that are
  not MessagePack at all to ``null`` with the raw hex: a view never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from consortia.api.views import EventView, ReceiptView, TxDecoded
from consortia.codec import decode, decode_any
from consortia.contracts import native_currency
from consortia.contracts.permissioned import gov_actions, monetary
from consortia.contracts.permissioned.records import Alert, ContractCode, OrgSpec, ParamChange
from consortia.contracts.permissioned.store import decode_args
from consortia.contracts.python.source_hash import code_hash_of
from consortia.crypto.address import address_from_public_key
from consortia.crypto.suites import Suite
from consortia.execution.tx_decode import CheckedTx
from consortia.types.ca_rotation import CaRotationRequest
from consortia.types.genesis import ValidatorInfo
from consortia.types.org_bundle import OrgBundle
from consortia.types.receipt import Event, Receipt
from consortia.types.transaction import SignedTx, TxBody

MAX_DEPTH = 32
"""Deeper values are shown as a marker string rather than walked (the view must stay cheap)."""
_ANY = msgspec.msgpack.Decoder()

ArgsDecoder = Callable[[bytes], dict[str, Any]]


# --- plain JSON of arbitrary decoded MessagePack ------------------------------------------------


def plain(value: Any, depth: int = 0) -> Any:
    """Decoded MessagePack as JSON-ready data: bytes as ``0x`` hex, map keys as strings."""
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_key(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, msgspec.msgpack.Ext):
        return {"ext": value.code, "data": "0x" + bytes(value.data).hex()}
    if isinstance(value, msgspec.Struct):
        return {f: plain(getattr(value, f), depth + 1) for f in value.__struct_fields__}
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return "0x" + key.hex()
    return str(plain(key, MAX_DEPTH))


def generic(data: bytes) -> Any:
    """Any MessagePack value as plain JSON, or ``None`` when ``data`` is not MessagePack."""
    try:
        return plain(_ANY.decode(data))
    except Exception:  # a view never raises: not MessagePack (or too deep)
        return None


def _named(names: tuple[str, ...], values: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    return {name: plain(v) for name, v in zip(names, values, strict=True)}


def _typed(names: tuple[str, ...], typ: object) -> ArgsDecoder:
    """A decoder of a canonical list of ``typ`` (a tuple type) into the named fields."""

    def run(data: bytes) -> dict[str, Any]:
        return _named(names, decode_args(data, typ, "[" + ", ".join(names) + "]"))

    return run


# --- system contract arguments ------------------------------------------------------------------


def _transfer(data: bytes) -> dict[str, Any]:
    try:
        to, amount = native_currency.decode_transfer_args(data)
    except Exception:  # an invalid transfer still shows its shape
        to, amount = decode_args(data, tuple[bytes, int], "[to, amount]")
    return {"to": plain(to), "amount": amount}


def _issue(data: bytes) -> dict[str, Any]:
    bank, amount = monetary.decode_issue_args(data)
    return {"bank": bank, "amount": amount}


def _redeem(data: bytes) -> dict[str, Any]:
    return {"amount": monetary.decode_redeem_args(data)}


def _fund(data: bytes) -> dict[str, Any]:
    address, amount = monetary.decode_fund_args(data)
    return {"address": plain(address), "amount": amount}


PAYLOAD_TYPES: dict[str, object] = {
    gov_actions.ADD_ORG: OrgSpec,
    gov_actions.REMOVE_ORG: str,
    gov_actions.ADD_VALIDATOR: ValidatorInfo,
    gov_actions.REMOVE_VALIDATOR: bytes,
    gov_actions.SET_PARAM: ParamChange,
    gov_actions.DEPLOY_CONTRACT: ContractCode,
    gov_actions.UPGRADE_CONTRACT: ContractCode,
    gov_actions.JOIN_ORG: OrgBundle,
    gov_actions.ROTATE_VALIDATOR: gov_actions.KeyChange,
    gov_actions.ROTATE_CA: CaRotationRequest,
}
"""What a governance proposal's payload is, by kind (see :mod:`~.gov_actions`)."""


def proposal_payload(kind: str, payload: bytes) -> Any:
    """A proposal's payload decoded by its kind; the generic form if it does not fit."""
    typ = PAYLOAD_TYPES.get(kind)
    if typ is not None:
        try:
            return plain(decode_any(payload, typ))
        except Exception:  # fall back to the generic form
            pass
    return generic(payload)


def _propose(data: bytes) -> dict[str, Any]:
    kind, payload, deadline = decode_args(data, tuple[str, bytes, int], "[kind, payload, deadline]")
    return {"kind": kind, "payload": proposal_payload(kind, payload),
            "payload_raw": "0x" + payload.hex(), "deadline_height": deadline}


def _code_fields(name: Any, source: Any) -> dict[str, Any]:
    if not isinstance(name, str) or not isinstance(source, str):
        raise ValueError("deploy and upgrade take [name: str, source: str, ...]")
    return {"name": name, "code_hash": "0x" + code_hash_of(source).hex(),
            "source_bytes": len(source.encode("utf-8"))}


def _deploy(data: bytes) -> dict[str, Any]:
    values = _ANY.decode(data)
    if not isinstance(values, list) or len(values) not in (2, 3):
        raise ValueError("deploy takes [name, source] or [name, source, init_args]")
    out = _code_fields(values[0], values[1])
    out["init_args"] = plain(values[2]) if len(values) == 3 else []
    return out


def _upgrade(data: bytes) -> dict[str, Any]:
    values = _ANY.decode(data)
    if not isinstance(values, list) or len(values) != 2:
        raise ValueError("upgrade takes [name, source]")
    return _code_fields(values[0], values[1])


_ADDRESS = ("address",)
_ASSET = ("asset",)
ARGS: dict[tuple[str, str], ArgsDecoder] = {
    ("currency", "transfer"): _transfer,
    ("currency", "issue"): _issue,
    ("currency", "redeem"): _redeem,
    ("currency", "fund"): _fund,
    ("identity", "enroll"): _typed(
        ("address", "role", "kyc_tier", "pii_hash", "certificate_pem"), tuple[bytes, str, int, bytes, bytes]
    ),
    ("identity", "revoke"): _typed(_ADDRESS, tuple[bytes]),
    ("identity", "open_wallet"): _typed(("address", "tier", "commitment"), tuple[bytes, int, bytes]),
    ("identity", "set_tier"): _typed(("address", "tier"), tuple[bytes, int]),
    ("identity", "close_wallet"): _typed(_ADDRESS, tuple[bytes]),
    ("regulator", "freeze"): _typed(_ADDRESS, tuple[bytes]),
    ("regulator", "unfreeze"): _typed(_ADDRESS, tuple[bytes]),
    ("regulator", "freeze_asset"): _typed(_ASSET, tuple[str]),
    ("regulator", "unfreeze_asset"): _typed(_ASSET, tuple[str]),
    ("regulator", "set_limits"): _typed(
        ("tier", "per_payment", "daily", "balance"), tuple[int, int | None, int | None, int | None]
    ),
    ("regulator", "set_rule"): _typed(("rule", "params"), tuple[str, list[int]]),
    ("governance", "propose"): _propose,
    ("governance", "vote"): _typed(("proposal_id", "approve"), tuple[int, bool]),
    ("contracts", "deploy"): _deploy,
    ("contracts", "upgrade"): _upgrade,
}
"""Named-field decoders of system contract calls, by (contract, method)."""


def args_view(contract: str, method: str, data: bytes) -> tuple[Any, bool]:
    """``(arguments as plain JSON, named)``: a dict of named fields for a known system method,
    else the generic MessagePack value (``None`` if ``data`` is not MessagePack)."""
    decoder = ARGS.get((contract, method))
    if decoder is not None:
        try:
            return decoder(data), True
        except Exception:  # an unexpected shape: show it generically
            pass
    return generic(data), False


# --- events --------------------------------------------------------------------------------------


EVENT_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("currency", "Transfer"): ("from", "to", "amount"),
    ("currency", "Issued"): ("bank", "amount", "by"),
    ("currency", "Redeemed"): ("bank", "amount", "by"),
    ("currency", "Funded"): ("bank", "address", "amount"),
    ("identity", "Enrolled"): ("address", "org", "role", "kyc_tier", "by"),
    ("identity", "Revoked"): ("address", "org", "by"),
    ("identity", "WalletOpened"): ("address", "org", "tier"),
    ("identity", "TierChanged"): ("address", "org", "old_tier", "tier"),
    ("identity", "WalletClosed"): ("address", "org", "swept"),
    ("regulator", "Frozen"): ("address", "by"),
    ("regulator", "Unfrozen"): ("address", "by"),
    ("regulator", "AssetFrozen"): ("asset", "by"),
    ("regulator", "AssetUnfrozen"): ("asset", "by"),
    ("regulator", "LimitsSet"): ("tier", "per_payment", "daily", "balance", "by"),
    ("regulator", "RuleSet"): ("rule", "params", "by"),
    ("regulator", "Alert"): Alert.__struct_fields__,
    ("governance", "Proposed"): ("proposal_id", "kind", "proposer", "org", "deadline_height"),
    ("governance", "Voted"): ("proposal_id", "org", "voter", "approve"),
    ("governance", "Closed"): ("proposal_id", "kind", "status", "outcome"),
}
"""Field names of the system contracts' list-shaped events (the order they are encoded in)."""


def event_fields(contract: str, name: str, data: bytes) -> dict[str, Any]:
    """An event's fields by name: a system event's list zipped with its known names, a map
    (Python contract events, ``contracts.Deployed``) as is, anything else as ``{"value": …}``."""
    value: Any = None
    try:
        value = _ANY.decode(data)
    except Exception:  # not MessagePack: the raw hex is kept by the caller
        return {"value": None}
    names = EVENT_FIELDS.get((contract, name))
    if names is not None and isinstance(value, list) and len(value) == len(names):
        return _named(names, value)
    if isinstance(value, dict):
        out = plain(value)
        return out if isinstance(out, dict) else {"value": out}
    return {"value": plain(value)}


def event_view(event: Event) -> EventView:
    """``{"contract", "name", "data" (raw hex), "fields"}``."""
    return {"contract": event.contract, "name": event.name, "data": "0x" + event.data.hex(),
            "fields": event_fields(event.contract, event.name, event.data)}


def receipt_view(receipt: Receipt) -> ReceiptView:
    """A receipt as plain JSON (the same fields as before) with each event's ``fields``."""
    return {"tx_hash": "0x" + receipt.tx_hash.hex(), "status": receipt.status,
            "error": receipt.error, "steps": receipt.steps,
            "events": [event_view(e) for e in receipt.events]}


# --- transactions --------------------------------------------------------------------------------


def body_view(body: TxBody, sender: bytes | None) -> dict[str, Any]:
    call = body.call
    args, named = args_view(call.contract, call.method, call.args)
    return {
        "sender": None if sender is None else "0x" + sender.hex(),
        "public_key": "0x" + body.public_key.hex(),
        "nonce": body.nonce,
        "expiry": body.expiry,
        "chain_id": body.chain_id,
        "contract": call.contract,
        "method": call.method,
        "value": call.value,
        "args": args,
        "args_named": named,
        "args_raw": "0x" + call.args.hex(),
    }


def tx_view(raw: bytes, suite: Suite) -> TxDecoded:
    """A transaction's wire bytes as readable JSON: hash, sender, public key, nonce, expiry,
    chain id, contract, method, value, decoded ``args`` and the ``raw`` hex. Bytes that are
    not a transaction give ``{"hash", "raw", "error"}``."""
    out: dict[str, Any] = {"hash": "0x" + suite.hash(raw).hex()}
    try:
        signed = decode(raw, SignedTx)
        body = decode(signed.body, TxBody)
    except Exception as exc:  # a view never raises
        return {**out, "raw": "0x" + raw.hex(), "error": f"not a transaction: {exc}"}
    try:
        sender: bytes | None = address_from_public_key(suite, body.public_key)
    except Exception:  # a key of the wrong shape has no address
        sender = None
    return {**out, **body_view(body, sender), "signature": "0x" + signed.signature.hex(),
            "raw": "0x" + raw.hex()}


def checked_tx_view(tx: CheckedTx) -> TxDecoded:
    """The same view of a transaction that passed the stateless checks."""
    return {"hash": "0x" + tx.hash.hex(), **body_view(tx.body, tx.sender),
            "signature": "0x" + tx.signature.hex(), "raw": "0x" + tx.raw.hex()}
