"""Sessions for what cannot sign each request: a browser's explorer and its event streams.

A client proves its identity once — one signed request to ``POST /v1/auth/session`` — and gets a
session token: ``cs1.<payload>.<mac>``, the payload naming the identity's address and an expiry,
the MAC an HMAC-SHA256 under this node's session secret (``api-session.secret`` in its home,
made on first use, mode 0600). The token is a bearer credential for ``SESSION_S`` on this node
only; the identity is looked up again at every request, so a revocation ends its sessions at
the next block.

The node's operator, who holds no identity of their own on chain, gets a **one-time sign-in
token** printed by the node at start (``sign-in link``): exchanged once for an operator session
(staff: what the organisation's node holds anyway), then spent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from consortia.api.auth.errors import BadRequestSignature, StaleRequest

SESSION_S = 15 * 60
"""How long a session token is good for."""
ONE_TIME_S = 24 * 3600
"""How long the operator's printed sign-in token may wait to be used."""
SECRET_FILE = "api-session.secret"
PREFIX = "cs1"
MAX_TOKEN = 512


class BadSessionToken(BadRequestSignature):
    code = "bad_session_token"


class SessionExpired(StaleRequest):
    code = "session_expired"


@dataclass(frozen=True)
class Claims:
    address: bytes | None
    """The identity's address; None for the node's operator."""
    expires: int
    kind: str
    """"session" or "sign-in" (the operator's one-time token)."""
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(home: Path) -> bytes:
    """This node's session secret, made on first use (32 random bytes, owner-only file)."""
    path = home / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


class Sessions:
    def __init__(self, secret: Callable[[], bytes], clock: Callable[[], float] = time.time) -> None:
        """``secret()`` gives the node's session secret, read on first use (a node whose API is
        open never makes one)."""
        self._secret_source = secret
        self._secret_value: bytes | None = None
        self._clock = clock
        self._spent: set[str] = set()
        self._lock = threading.Lock()
        self._boot = secrets.token_hex(8)
        """Sign-in tokens of an earlier run of the node are void (their spent set is gone)."""

    @property
    def _secret(self) -> bytes:
        if self._secret_value is None:
            self._secret_value = self._secret_source()
        return self._secret_value

    def _mint(self, address: bytes | None, ttl: int, kind: str) -> tuple[str, int]:
        expires = int(self._clock()) + ttl
        nonce = secrets.token_hex(8) if kind == "session" else f"{self._boot}:{secrets.token_hex(8)}"
        payload = json.dumps({"a": address.hex() if address else None, "e": expires, "k": kind,
                              "n": nonce}, separators=(",", ":")).encode()  # fmt: skip
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return f"{PREFIX}.{_b64(payload)}.{_b64(mac)}", expires

    def session(self, address: bytes | None) -> tuple[str, int]:
        """A session token for ``address`` (None: the operator) and its expiry (unix s)."""
        return self._mint(address, SESSION_S, "session")

    def sign_in(self) -> str:
        """The operator's one-time sign-in token."""
        return self._mint(None, ONE_TIME_S, "sign-in")[0]

    def check(self, token: str) -> Claims:
        if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 2:
            raise BadSessionToken("the bearer token is not a session token of this node")
        prefix, payload_text, mac_text = token.split(".")
        try:
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except (ValueError, TypeError):
            raise BadSessionToken("the bearer token is not a session token of this node") from None
        want = hmac.new(self._secret, payload, hashlib.sha256).digest()
        if prefix != PREFIX or not hmac.compare_digest(mac, want):
            raise BadSessionToken("the session token was not issued by this node (sign in again here)")
        data = json.loads(payload)
        claims = Claims(bytes.fromhex(data["a"]) if data["a"] else None, int(data["e"]), str(data["k"]),
                        str(data["n"]))  # fmt: skip
        if claims.expires < self._clock():
            raise SessionExpired("the session has expired: sign in again")
        return claims

    def spend(self, claims: Claims) -> None:
        """Use up a one-time sign-in token (a second use is refused)."""
        if claims.kind != "sign-in" or not claims.nonce.startswith(self._boot + ":"):
            raise BadSessionToken("this sign-in link is from an earlier run of the node; use the "
                                  "one it printed at its last start, or sign in with a key")  # fmt: skip
        with self._lock:
            if claims.nonce in self._spent:
                raise BadSessionToken("this sign-in link was already used; the node prints a new one "
                                      "at each start, or sign in with a key")  # fmt: skip
            self._spent.add(claims.nonce)


def bearer(headers: dict[str, str], query: dict[str, str]) -> str | None:
    """The bearer token of a request: ``Authorization: Bearer T``, or ``?access_token=T`` (event
    streams: a browser's EventSource sends no headers)."""
    value = headers.get("authorization", "")
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return query.get("access_token")
