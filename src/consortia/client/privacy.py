"""Sealed content from Python (issue 14, apps/privacy, decisions/0024).

    with Client(url, key=me) as client:
        mine = PrivacyWallet(Wallet(me, client))
        mine.register_key()                                  # once per identity (X25519, from the key)
        regulator.set_supervisor()                           # the regulator: content is sealed to it
        bank_admin.set_store("https://bank-a.example:8700")  # where its organisation keeps content
        reads = PrivacyClient(client)
        stored = reads.seal_and_store(kind, object_id, plaintext, parties)   # after the object's tx
        kind, object_id, plaintext = reads.open(ref, me)     # a party or the supervisor
        regulator.erase(ref, "GDPR art. 17, request 2025-4") # every node deletes its copy

The SDK keeps no copy of content or data keys: nothing to erase on the client's side beyond
what its user saved (docs/decisions/0024).
"""

from __future__ import annotations

import time
from typing import Any

from consortia.apps.privacy import sdk as apps
from consortia.apps.privacy.store import Kept
from consortia.client.arguments import InvalidArgument, check_address_arg, check_digest
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.codec import encode
from consortia.crypto import envelope as env
from consortia.crypto.keys import KeyPair
from consortia.errors import ConnectionFailed, ConsortiaError

__all__ = ["NoSealingKey", "PrivacyClient", "PrivacyWallet", "check_erasure_reason"]

UPLOAD_ATTEMPTS = 3
UPLOAD_RETRY_S = 1.0


class NoSealingKey(ConsortiaError):
    """A party (or the supervisor) has published no sealing key: content cannot be sealed to it."""

    code = "no_sealing_key"


def check_erasure_reason(reason: object) -> str:
    if not isinstance(reason, str) or not 1 <= len(reason) <= apps.MAX_REASON:
        raise InvalidArgument(f"a reason has 1 to {apps.MAX_REASON} characters (the legal basis, never "
                              f"personal data), got {reason!r:.60}")
    return reason


class PrivacyWallet(PermWallet):
    """A key's actions on the ``privacy`` contract; each waits for finality."""

    def register_key(self) -> dict[str, Any]:
        public = env.sealing_public_key(self.wallet.key)
        known = PrivacyClient(self.wallet.client).key_of(self.address)
        if known == public:
            return {"address": "0x" + self.address.hex(), "sealing_key": "0x" + public.hex(),
                    "registered": False}
        result = self.call(*_parts(apps.register_key_call(public)))
        return {"address": "0x" + self.address.hex(), "sealing_key": "0x" + public.hex(), "registered": True,
                "tx_hash": "0x" + result.tx_hash.hex()}

    def set_supervisor(self) -> dict[str, Any]:
        self.register_key()
        result = self.call(*_parts(apps.set_supervisor_call()))
        return {"supervisor": "0x" + self.address.hex(), "tx_hash": "0x" + result.tx_hash.hex()}

    def set_store(self, url: str) -> dict[str, Any]:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > apps.MAX_URL:
            raise InvalidArgument(f"a store is an http(s) URL of at most {apps.MAX_URL} characters, "
                                  f"got {url!r:.60}")
        result = self.call(*_parts(apps.set_store_call(url.rstrip("/"))))
        return {"store": url.rstrip("/"), "tx_hash": "0x" + result.tx_hash.hex()}

    def request_erasure(self, ref: bytes | str, reason: str) -> dict[str, Any]:
        digest = check_digest(ref, "content reference")
        result = self.call(*_parts(apps.request_erasure_call(digest, check_erasure_reason(reason))))
        return {"ref": "0x" + digest.hex(), "requested": True, "tx_hash": "0x" + result.tx_hash.hex()}

    def erase(self, ref: bytes | str, reason: str) -> dict[str, Any]:
        """The regulator's erasure: on the record; every node deletes the content when it commits."""
        digest = check_digest(ref, "content reference")
        result = self.call(*_parts(apps.erase_call(digest, check_erasure_reason(reason))))
        return {"ref": "0x" + digest.hex(), "erased": True, "tx_hash": "0x" + result.tx_hash.hex()}


def _parts(call: Any) -> tuple[str, str, bytes]:
    return call.contract, call.method, call.args


class PrivacyClient:
    """Reads of the ``privacy`` contract and the nodes' sealed-content stores."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _view(self, method: str, *args: Any) -> Any:
        from consortia.client import contracts as sdk

        return sdk.view(self.client, apps.PRIVACY, method, *args)

    def key_of(self, address: bytes | str) -> bytes | None:
        found = self._view("key_of", check_address_arg(address, "address"))
        return None if found is None else bytes(found)

    def supervisor(self) -> tuple[bytes, bytes]:
        found = self._view("supervisor")
        if found is None or found.get("key") is None:
            raise NoSealingKey("the regulator has named no supervisor (consortia privacy set-supervisor): "
                               "content is sealed to the regulator too, so nothing can be sealed yet")
        return bytes(found["address"]), bytes(found["key"])

    def erasure(self, ref: bytes | str) -> dict[str, Any] | None:
        return self._view("erasure", check_digest(ref, "content reference"))  # type: ignore[no-any-return]

    def recipients(self, parties: list[bytes]) -> dict[bytes, bytes]:
        """``address -> sealing key`` of every party and the supervisor."""
        supervisor, supervisor_key = self.supervisor()
        keys = {supervisor: supervisor_key}
        for party in parties:
            found = self.key_of(party)
            if found is None:
                raise NoSealingKey(f"0x{party.hex()} has published no sealing key (consortia privacy "
                                   "register-key): content cannot be sealed to it")
            keys[party] = found
        return keys

    def seal(self, kind: str, object_id: bytes, plaintext: bytes, parties: list[bytes]) -> env.Sealed:
        return env.seal(plaintext, self.recipients(parties), apps.context(kind, object_id))

    def store(self, kind: str, object_id: bytes, sealed: env.Sealed) -> dict[str, Any]:
        """Hand the sealed object to this client's node, then to every store it names; the stores
        that took it."""
        body = encode(Kept(kind, object_id, sealed))
        first = self._upload(self.client, body)
        stores = [self.client.url]
        for org, url in sorted(first.get("replicate_to", {}).items()):
            if url.rstrip("/") in stores:
                continue
            with Client(url, timeout=30.0, key=self.client.key) as other:
                self._upload(other, body, org)
            stores.append(url)
        return {"ref": "0x" + sealed.ref.hex(), "stores": stores, "no_store": first.get("no_store", [])}

    @staticmethod
    def _upload(client: Client, body: bytes, org: str = "") -> dict[str, Any]:
        for attempt in range(UPLOAD_ATTEMPTS):
            try:
                return client._request("POST", "/v1/confidential", content=body,  # type: ignore[no-any-return]
                                       headers={"content-type": "application/octet-stream"})
            except ConnectionFailed as exc:
                if attempt + 1 == UPLOAD_ATTEMPTS:
                    raise ConnectionFailed(f"the sealed content did not reach {org or 'the node'} at "
                                           f"{client.url} ({exc.message}); store it again") from None
                time.sleep(UPLOAD_RETRY_S)
        raise AssertionError("unreachable")

    def fetch(self, ref: bytes | str) -> tuple[str, bytes, env.Sealed]:
        """``(kind, object id, sealed)`` from this client's node: the ciphertext and the caller's
        envelope (a node that does not ask who calls hands every envelope)."""
        digest = check_digest(ref, "content reference")
        data = self.client.get(f"/v1/confidential/0x{digest.hex()}")
        envelopes = sorted((_unhex(e["recipient"]), _unhex(e["sealed_key"])) for e in data["envelopes"])
        sealed = env.Sealed(_unhex(data["ciphertext"]), envelopes)
        if sealed.ref != digest:
            raise env.CannotOpen(f"the node answered content whose SHA-256 is 0x{sealed.ref.hex()}, not "
                                 f"0x{digest.hex()}")
        return str(data["kind"]), _unhex(data["object"]), sealed

    def open(self, ref: bytes | str, key: KeyPair) -> tuple[str, bytes, bytes]:
        """``(kind, object id, plaintext)`` for a recipient's key."""
        kind, object_id, sealed = self.fetch(ref)
        return kind, object_id, env.open_sealed(sealed, key, apps.context(kind, object_id))


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)

