"""A wallet: one key, its nonce, and the common operations on a node."""

from __future__ import annotations

from dataclasses import dataclass

from consortia.client.client import Client
from consortia.client.tx_builder import sign_transfer, sign_tx
from consortia.crypto.keys import KeyPair
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
        self.key = key
        self.client = client

    @property
    def address(self) -> bytes:
        return self.key.address

    def balance(self) -> int:
        return self.client.balance(self.address)

    def _nonce_and_expiry(self) -> tuple[int, int]:
        account = self.client.account(self.address)
        return int(account["next_nonce"]), int(account["height"]) + DEFAULT_EXPIRY_BLOCKS

    def sign_transfer(self, to: bytes, amount: int) -> bytes:
        nonce, expiry = self._nonce_and_expiry()
        return sign_transfer(self.key, self.client.chain_id(), nonce, expiry, to, amount)

    def send(self, call: Call, wait: bool = True, timeout: float = 30.0) -> TxResult | bytes:
        nonce, expiry = self._nonce_and_expiry()
        raw = sign_tx(self.key, self.client.chain_id(), nonce, expiry, call)
        return self._submit(raw, wait, timeout)

    def transfer(self, to: bytes, amount: int, timeout: float = 30.0) -> TxResult:
        """Send ``amount`` to ``to`` and wait for finality."""
        result = self._submit(self.sign_transfer(to, amount), True, timeout)
        invariant(isinstance(result, TxResult), "waiting submit returns a TxResult")
        return result  # type: ignore[return-value]

    def _submit(self, raw: bytes, wait: bool, timeout: float) -> TxResult | bytes:
        tx_hash = self.client.submit(raw)
        if not wait:
            return tx_hash
        data = self.client.wait(tx_hash, timeout)
        receipt = data["receipt"]
        return TxResult(tx_hash, int(data["height"]), receipt["status"], receipt["error"])
