"""The SDK for Python contracts on a node: deploy, call, view and inspect.

    with Client("http://127.0.0.1:8545") as client:
        alice = Wallet(load_key_file(Path("alice.key")), client)
        deploy(alice, "token", Path("token.py").read_text(), ["TOK", 1000])
        receipt = call(alice, "token", "transfer", bob, 5)      # waits for finality
        print(receipt.steps, receipt.events)
        print(view(client, "token", "balance_of", bob))          # 5, from committed state

A call the contract refuses raises the typed error of its receipt (``ContractFailed`` with the
contract's own message, ``OutOfSteps``, ``BadArguments``, ...); nothing it wrote is kept.
Arguments are plain data (None, bool, int, str, bytes, list, dict). Everything is checked before
it is signed: contract and method names and plain arguments (``InvalidArgument``), the attached
value, 0 .. 2**64 - 1 (``InvalidAmount``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from consortia.client.arguments import (
    InvalidArgument,
    check_call_args,
    check_contract_name,
    check_method_name,
    check_value,
)
from consortia.client.client import Client
from consortia.client.wallet import Wallet, status_error
from consortia.codec import encode
from consortia.contracts.python import errors as contract_errors
from consortia.contracts.python.json_data import from_json, to_json
from consortia.errors import ConsortiaError
from consortia.invariant import invariant
from consortia.types.transaction import Call

REGISTRY = "contracts"
_ERROR_MODULES = (contract_errors,)  # imported so their codes map back to typed errors


@dataclass(frozen=True, slots=True)
class ContractEvent:
    contract: str
    name: str
    fields: dict[str, Any]
    """Decoded plain data (bytes stay bytes)."""

    def to_json(self) -> dict[str, Any]:
        return {"contract": self.contract, "name": self.name, "fields": to_json(self.fields)}


@dataclass(frozen=True, slots=True)
class ContractReceipt:
    tx_hash: bytes
    height: int
    status: str
    error: str
    steps: int
    events: list[ContractEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "tx_hash": "0x" + self.tx_hash.hex(), "height": self.height,
                "status": self.status, "error": self.error, "steps": self.steps,
                "events": [e.to_json() for e in self.events]}


def receipt_from_json(tx_hash: bytes, data: dict[str, Any]) -> ContractReceipt:
    """A contract receipt from a node's ``/v1/tx/{hash}/wait`` answer."""
    raw = data["receipt"]
    events = [ContractEvent(e["contract"], e["name"], decode_fields(e["data"])) for e in raw["events"]]
    return ContractReceipt(tx_hash, int(data["height"]), raw["status"], raw["error"],
                           int(raw["steps"]), events)


def decode_fields(hex_data: str) -> dict[str, Any]:
    try:
        fields = msgspec.msgpack.decode(bytes.fromhex(hex_data.removeprefix("0x")))
    except (ValueError, msgspec.DecodeError):
        return {"raw": hex_data}
    return fields if isinstance(fields, dict) else {"value": fields}


def receipt_error(receipt: ContractReceipt) -> ConsortiaError:
    """The typed error a failed receipt stands for, with the contract's own message."""
    return status_error(receipt.status, receipt.error, result=receipt, tx_hash=receipt.tx_hash,
                        height=receipt.height, steps=receipt.steps)


def send(wallet: Wallet, contract: str, method: str, args: list[Any], timeout: float = 30.0,
         check: bool = True, value: int = 0) -> ContractReceipt:
    """Sign and send one contract call, wait for finality; raise its typed error if it failed
    (unless ``check`` is false). ``value`` native units go with the call (the contract's
    ``self.value``), moved to the contract's account before it runs."""
    value = check_value(value)
    contract, method = check_contract_name(contract), check_method_name(method)
    values = check_call_args(args)
    tx_hash = wallet.send(Call(contract, method, encode(values), value), wait=False)
    invariant(isinstance(tx_hash, bytes), "a send without waiting returns the hash")
    assert isinstance(tx_hash, bytes)  # for the type checker
    receipt = receipt_from_json(tx_hash, wallet.client.wait(tx_hash, timeout))
    if check and not receipt.ok:
        raise receipt_error(receipt)
    return receipt


def call(wallet: Wallet, contract: str, method: str, *args: Any, timeout: float = 30.0,
         check: bool = True, value: int = 0) -> ContractReceipt:
    """Call ``contract.method(*args)`` in a transaction and wait until it is final, attaching
    ``value`` native units."""
    return send(wallet, contract, method, list(args), timeout, check, value)


def deploy(wallet: Wallet, name: str, source: str, init_args: list[Any] | None = None,
           timeout: float = 30.0, check: bool = True) -> ContractReceipt:
    """Deploy ``source`` as contract ``name``; its ``init(*init_args)`` runs as the wallet."""
    check_contract_name(name)
    check_source_text(source)
    values = check_call_args([] if init_args is None else init_args, "init arguments")
    return send(wallet, REGISTRY, "deploy", [name, source, values], timeout, check)


def upgrade(wallet: Wallet, name: str, source: str, timeout: float = 30.0,
            check: bool = True) -> ContractReceipt:
    """Replace ``name``'s code, keeping its state (owner only; governance where required)."""
    check_contract_name(name)
    check_source_text(source)
    return send(wallet, REGISTRY, "upgrade", [name, source], timeout, check)


def check_source_text(source: object) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgument(f"contract source must be non-empty text, got {type(source).__name__}")
    return source


def view(client: Client, contract: str, method: str, *args: Any) -> Any:
    """Run a ``@view`` on the node's committed state; returns plain data (bytes as bytes)."""
    contract, method = check_contract_name(contract), check_method_name(method)
    args = tuple(check_call_args(args))
    data = client._request("POST", f"/v1/contracts/{contract}/view/{method}",
                           json={"args": to_json(list(args))})
    return from_json(data["result"])


def info(client: Client, name: str) -> dict[str, Any]:
    """Version, code hash, owner, every version's code hash and the methods of ``name``."""
    return client.get(f"/v1/contracts/{name}")  # type: ignore[no-any-return]


def source(client: Client, name: str, version: int | None = None) -> str:
    """The source of ``name`` (its current version, or ``version``)."""
    params = {} if version is None else {"version": version}
    return str(client.get(f"/v1/contracts/{name}/source", **params)["source"])
