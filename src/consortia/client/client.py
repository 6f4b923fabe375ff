"""The Python SDK's client: talks to a node's REST API; errors come back typed.

    client = Client("http://127.0.0.1:8545")
    wallet = Wallet(load_key_file(Path("keys/alice.key")), client)
    result = wallet.transfer(bob, 100)        # waits for finality
    proof = client.receipt_proof(result.tx_hash)
    verify_receipt_proof(proof, client.genesis())   # offline check, no trust in the node
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from consortia.client.request_signing import SignedRequests
from consortia.client.tls_trust import trust
from consortia.codec import encode
from consortia.codec.plain import from_plain
from consortia.crypto.address import format_address
from consortia.crypto.keys import KeyPair
from consortia.errors import ConnectionFailed, ConsortiaError, DecodeError, TxDropped, error_from_dict
from consortia.ledger.proofs import ReceiptProof, StateValueProof
from consortia.types.genesis import Genesis

DEFAULT_NODE = "http://127.0.0.1:8545"


@dataclass(frozen=True, slots=True)
class SubmitResult:
    tx_hash: bytes | None
    error: ConsortiaError | None


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _answer(response: httpx.Response) -> Any:
    """A node's JSON answer, or its refusal raised typed."""
    try:
        data = response.json()
    except ValueError:
        raise DecodeError(f"node answered {response.status_code} without JSON") from None
    if response.status_code >= 400:
        raise error_from_dict(data if isinstance(data, dict) else {})
    return data


class Client:
    def __init__(self, url: str = DEFAULT_NODE, timeout: float = 30.0, key: KeyPair | None = None,
                 ca: str | Path | None = None) -> None:
        """``key``: sign every request with it (decisions/0021), so a node that asks who is
        calling — a chain with organisations — answers as that identity may read. ``ca``: the
        CA certificates (PEM) an ``https://`` node's certificate must chain to — its chain's
        ``tls/ca-bundle.pem``; default: the file ``CONSORTIA_CA`` names, else the system's."""
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout, verify=trust(ca))
        self._genesis: Genesis | None = None
        self.key = key
        self._signer: SignedRequests | None = None

    def close(self) -> None:
        self._http.close()

    def signed_as(self, key: KeyPair) -> Client:
        """This client's connection, its requests signed as ``key`` (a wallet reads as its own
        identity when its client has none). Closing either closes the shared connection."""
        other = copy.copy(self)
        other.key = key
        other._signer = None
        return other

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ----------------------------------------------------------------------

    def _auth(self) -> SignedRequests | None:
        """The request signer, made on first use with the chain id the node's status gives
        (the status is public)."""
        if self.key is None:
            return None
        if self._signer is None:
            chain_id = self._http.get("/v1/status").json()["chain_id"]
            self._signer = SignedRequests(self.key, str(chain_id))
        return self._signer

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            auth = self._auth()
            if auth is not None:
                kwargs["auth"] = auth
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ConnectionFailed(f"node at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"cannot reach node at {self.url}: {exc}") from None
        return _answer(response)

    def get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=params or None)

    @contextmanager
    def stream(self, path: str, **params: Any) -> Iterator[httpx.Response]:
        """A long-lived GET (a server-sent event stream such as ``/v1/events``), signed like
        every request; no read timeout. A refusal is raised typed, as for any request."""
        auth = self._auth()
        try:
            with self._http.stream("GET", path, params=params or None,
                                   auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                                   timeout=httpx.Timeout(10.0, read=None)) as response:  # fmt: skip
                if response.status_code >= 400:
                    response.read()
                    _answer(response)  # raises the refusal, typed
                yield response
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"the stream {path} of the node at {self.url} failed: {exc}") from None

    # --- chain --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self.get("/v1/status")  # type: ignore[no-any-return]

    def genesis(self) -> Genesis:
        if self._genesis is None:
            self._genesis = from_plain(Genesis, self.get("/v1/genesis"))
        return self._genesis

    def chain_id(self) -> str:
        return self.genesis().chain_id

    def height(self) -> int:
        return int(self.status()["height"])

    def block(self, ref: int | str = "latest") -> dict[str, Any]:
        return self.get(f"/v1/blocks/{ref}")  # type: ignore[no-any-return]

    def account(self, address: bytes) -> dict[str, Any]:
        return self.get(f"/v1/accounts/{format_address(address)}")  # type: ignore[no-any-return]

    def balance(self, address: bytes) -> int:
        return int(self.account(address)["balance"])

    def next_nonce(self, address: bytes) -> int:
        return int(self.account(address)["next_nonce"])

    # --- transactions -------------------------------------------------------------------

    def submit(self, tx: bytes) -> bytes:
        """Submit one transaction; returns its hash or raises the typed rejection."""
        data = self._request(
            "POST", "/v1/tx", content=tx, headers={"content-type": "application/octet-stream"}
        )
        return bytes.fromhex(data["tx_hash"][2:])

    def submit_batch(self, txs: list[bytes]) -> list[SubmitResult]:
        data = self._request(
            "POST", "/v1/txs", content=encode(txs), headers={"content-type": "application/msgpack"}
        )
        out = []
        for item in data["results"]:
            tx_hash = bytes.fromhex(item["tx_hash"][2:]) if item.get("tx_hash") else None
            err = error_from_dict(item["error"]) if "error" in item else None
            out.append(SubmitResult(tx_hash, err))
        return out

    def tx(self, tx_hash: bytes) -> dict[str, Any]:
        return self.get(f"/v1/tx/{_hex(tx_hash)}")  # type: ignore[no-any-return]

    def wait(self, tx_hash: bytes, timeout: float = 30.0) -> dict[str, Any]:
        """Block until the transaction is final; raises Timeout if it is not in time, TxDropped
        if the node dropped it as never includable (with the reason)."""
        data: dict[str, Any] = self._request(
            "GET",
            f"/v1/tx/{_hex(tx_hash)}/wait",
            params={"timeout": timeout},
            timeout=timeout + 10,
        )
        if data.get("status") == "dropped":
            reason = str(data.get("reason"))
            raise TxDropped(
                f"transaction {_hex(tx_hash)} was dropped by the node: {reason}", reason=reason
            )
        return data

    def receipt_proof(self, tx_hash: bytes) -> ReceiptProof:
        return from_plain(ReceiptProof, self.get(f"/v1/tx/{_hex(tx_hash)}/proof"))

    def account_proof(self, address: bytes) -> StateValueProof:
        data = self.get(f"/v1/accounts/{format_address(address)}/proof")
        return from_plain(StateValueProof, data)

    def state_proof(self, key: bytes) -> StateValueProof:
        return from_plain(StateValueProof, self.get(f"/v1/state/{_hex(key)}"))


def receipt_proof_from_json(data: bytes | str) -> ReceiptProof:
    try:
        plain = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"receipt file is not JSON: {exc}") from None
    return from_plain(ReceiptProof, plain)
