"""A wallet: one key, its nonce, and the common operations on a node.

Every argument is checked before anything is signed (:mod:`consortia.client.arguments`): an
address is 20 bytes or ``"0x…"`` text, an amount an integer from 1 to 2**64 - 1. A transfer the
chain refuses raises the typed error its receipt names (``insufficient_balance``, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consortia.client.arguments import InvalidArgument, check_value
from consortia.client.client import Client
from consortia.client.tx_builder import sign_tx, transfer_call
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError, RemoteError
from consortia.invariant import invariant
from consortia.types.transaction import Call

DEFAULT_EXPIRY_BLOCKS = 1000


@dataclass(frozen=True, slots=True)
class TxResult:
    tx_hash: bytes
    height: int
    status: str
    error: str


class Wallet:
    def __init__(self, key: KeyPair, client: Client) -> None:
        """``client``: a connection to a node; one that signs as nobody reads as this wallet's
        key (on a chain with organisations the node answers only enrolled identities)."""
        self.key = key
        self.client = client.signed_as(key) if client.key is None else client

    @property
    def address(self) -> bytes:
        return self.key.address

    def balance(self) -> int:
        return self.client.balance(self.address)

    def _nonce_and_expiry(self) -> tuple[int, int]:
        account = self.client.account(self.address)
        return int(account["next_nonce"]), int(account["height"]) + DEFAULT_EXPIRY_BLOCKS

    def sign_transfer(self, to: bytes | str, amount: int) -> bytes:
        """The signed transfer (arguments checked first: ``BadAddress``, ``InvalidAmount``)."""
        call = transfer_call(to, amount)
        nonce, expiry = self._nonce_and_expiry()
        return sign_tx(self.key, self.client.chain_id(), nonce, expiry, call)

    def send(self, call: Call, wait: bool = True, timeout: float = 30.0) -> TxResult | bytes:
        check_call_fields(call)
        nonce, expiry = self._nonce_and_expiry()
        raw = sign_tx(self.key, self.client.chain_id(), nonce, expiry, call)
        return self._submit(raw, wait, timeout)

    def transfer(self, to: bytes | str, amount: int, timeout: float = 30.0) -> TxResult:
        """Send ``amount`` to ``to`` (20 bytes or ``"0x…"`` text) and wait for finality; a bad
        argument raises before anything is signed, a refused transfer raises its receipt's
        typed error."""
        result = self._submit(self.sign_transfer(to, amount), True, timeout)
        invariant(isinstance(result, TxResult), "waiting submit returns a TxResult")
        assert isinstance(result, TxResult)  # for the type checker
        if result.status != "ok":
            raise status_error(result.status, result.error, result=result,
                               tx_hash=result.tx_hash, height=result.height)
        return result

    def _submit(self, raw: bytes, wait: bool, timeout: float) -> TxResult | bytes:
        tx_hash = self.client.submit(raw)
        if not wait:
            return tx_hash
        data = self.client.wait(tx_hash, timeout)
        receipt = data["receipt"]
        return TxResult(tx_hash, int(data["height"]), receipt["status"], receipt["error"])


def check_call_fields(call: object) -> Call:
    """A well-formed ``Call`` (names are text, arguments bytes, the value 0 .. 2**64 - 1)."""
    if not isinstance(call, Call):
        raise InvalidArgument(f"a transaction carries a Call, got {type(call).__name__}")
    if not isinstance(call.contract, str) or not call.contract:
        raise InvalidArgument(f"the contract name must be text, got {call.contract!r:.60}")
    if not isinstance(call.method, str) or not call.method:
        raise InvalidArgument(f"the method name must be text, got {call.method!r:.60}")
    if not isinstance(call.args, bytes):
        raise InvalidArgument(f"the call's arguments must be encoded bytes, got {type(call.args).__name__}")
    check_value(call.value)
    return call


def status_error(status: str, message: str, result: Any = None, **details: Any) -> ConsortiaError:
    """The typed error a receipt's ``status`` code stands for (``RemoteError`` with
    ``remote_code`` for a code this client does not know), carrying the receipt's message;
    ``result`` (the receipt) is kept as ``err.receipt``."""
    for cls in _subclasses(ConsortiaError):
        if cls.code == status:
            try:
                err = cls(message or status, **details)
            except TypeError:  # a type whose constructor wants more than a receipt keeps
                err = cls.__new__(cls)
                ConsortiaError.__init__(err, message or status, **details)
            break
    else:
        err = RemoteError(message or status, **details)
        err.remote_code = status
    err.receipt = result  # type: ignore[attr-defined]
    return err


def _subclasses(cls: type[ConsortiaError]) -> list[type[ConsortiaError]]:
    out: list[type[ConsortiaError]] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out
