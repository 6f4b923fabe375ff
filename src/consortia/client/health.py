"""Healthcare records with consent from Python (issue 12, apps/health).

    with Client("http://hospital-a-node:8600") as client:          # the hospital's own node
        patient = HealthWallet(Wallet(load_key_file(Path("patient.key")), client))
        patient.register_key()                                      # once per identity
        doctor = HealthWallet(Wallet(load_key_file(Path("doctor-a.key")), client))
        stored = doctor.put(Path("scan.pdf").read_bytes(), patient.address)   # encrypted, stored
        patient.grant(stored["record"], insurer_address, "claim 2024-17", parse_until("2025-01-31"))
        plaintext = insurer.get(stored["record"])                   # signed fetch, logged on chain
        patient.revoke(stored["record"], insurer_address)           # later fetches: AccessRefused
        other_doctor.break_glass(stored["record"], "unconscious in the ED")   # alerts
        HealthClient(client).log(stored["record"])                  # every grant, access, opening

Every argument is checked before anything is signed (:class:`InvalidArgument`); each action is
one transaction that waits for finality and raises the contract's typed refusal
(:class:`ContractRefused` with ``not_patient``, ``no_live_grant``, ...); a fetch the node
refuses raises :class:`AccessRefused` (403 ``no_access``).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import msgspec

from consortia.apps.health import records as rec
from consortia.apps.health import sdk as apps
from consortia.apps.health.errors import CannotOpenRecord
from consortia.client import contracts as sdk
from consortia.client.arguments import MAX_HEIGHT, InvalidArgument, check_address_arg, check_text, is_int
from consortia.client.cbdc import ContractRefused, app_refusal
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet
from consortia.crypto.address import format_address
from consortia.errors import ConnectionFailed

__all__ = ["ContractRefused", "HealthClient", "HealthWallet", "check_record", "parse_until"]

_MS = 1000
UPLOAD_ATTEMPTS = 3
UPLOAD_RETRY_S = 1.0


def check_record(value: object) -> bytes:
    """A record id: 32 bytes, or 64 hex digits with optional ``0x``."""
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value.strip().removeprefix("0x"))
        except ValueError:
            raise InvalidArgument(f"a record is 64 hex digits (its SHA-256), got {value!r:.80}") from None
    if not isinstance(value, bytes) or len(value) != rec.RECORD_ID_BYTES:
        raise InvalidArgument(f"a record is {rec.RECORD_ID_BYTES} bytes (64 hex digits), got {value!r:.80}")
    return value


def parse_until(text: str) -> int:
    """The end of a grant in ms: a date ``YYYY-MM-DD`` (the grant runs through that day, UTC) or an
    ISO time with its zone (``2025-01-31T18:00:00+01:00``)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        else:
            end = dt.datetime.fromisoformat(text)
            if end.tzinfo is None:
                raise InvalidArgument(f"give the time zone of {text!r} (e.g. {text}+00:00) or a date "
                                      "YYYY-MM-DD")
    except ValueError:
        raise InvalidArgument(f"--until is a date YYYY-MM-DD or an ISO time with zone, got "
                              f"{text!r:.60}") from None
    return int(end.timestamp() * _MS)


class HealthClient:
    """Reads (every node answers the same) and the hospital node's record store."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def node(self) -> dict[str, Any]:
        """This node's custodian address and sealing key (404 ``health_store_off`` without a store)."""
        return self.client.get("/v1/health/node")  # type: ignore[no-any-return]

    def record(self, record: bytes | str) -> dict[str, Any]:
        return self.client.get(f"/v1/health/records/0x{check_record(record).hex()}")  # type: ignore[no-any-return]

    def log(self, record: bytes | str) -> list[dict[str, Any]]:
        """Every entry of the record's access log, oldest first."""
        path = f"/v1/health/records/0x{check_record(record).hex()}/log"
        entries: list[dict[str, Any]] = []
        while True:
            page = self.client.get(path, start=len(entries) + 1, limit=apps.MAX_LOG_PAGE)
            entries += page["log"]
            if len(entries) >= page["count"] or not page["log"]:
                return entries

    def grant(self, record: bytes | str, grantee: bytes | str) -> dict[str, Any]:
        address = format_address(check_address_arg(grantee, "grantee"))
        return self.client.get(  # type: ignore[no-any-return]
            f"/v1/health/records/0x{check_record(record).hex()}/grants/{address}")

    def patient(self, patient: bytes | str) -> dict[str, Any]:
        """A patient's records and the emergency openings of them (alerts)."""
        address = format_address(check_address_arg(patient, "patient"))
        return self.client.get(f"/v1/health/patients/{address}")  # type: ignore[no-any-return]

    def sealing_key(self, address: bytes | str) -> bytes | None:
        text = format_address(check_address_arg(address))
        found = self.client.get(f"/v1/health/keys/{text}")["sealing_key"]
        return None if found is None else bytes.fromhex(found[2:])

    def upload(self, record: bytes, blob: bytes) -> dict[str, Any]:
        return self.client._request(  # type: ignore[no-any-return]
            "PUT", f"/v1/health/records/0x{record.hex()}", content=blob,
            headers={"content-type": "application/octet-stream"})

    def fetch(self, request: rec.FetchRequest) -> dict[str, Any]:
        return self.client._request(  # type: ignore[no-any-return]
            "POST", "/v1/health/fetch", content=msgspec.json.encode(request),
            headers={"content-type": "application/json"})


class HealthWallet(PermWallet):
    """A key's actions on health records (hospital staff, patient, grantee, doctor in an
    emergency); each waits for finality and raises the typed refusal."""

    @property
    def reads(self) -> HealthClient:
        return HealthClient(self.client)

    def _app(self, method: str, *args: Any) -> sdk.ContractReceipt:
        receipt = sdk.send(self.wallet, apps.HEALTH, method, list(args), timeout=self.timeout, check=False)
        if not receipt.ok:
            raise app_refusal(receipt)
        return receipt

    def _key_of(self, address: bytes, who: str) -> bytes:
        found = self.reads.sealing_key(address)
        if found is None:
            raise InvalidArgument(f"{who} {format_address(address)} has registered no sealing key: it runs "
                                  "`consortia health register-key --key FILE` once")
        return found

    def register_key(self) -> dict[str, Any]:
        """Publish this key's X25519 sealing key (once; again is a no-op)."""
        public = rec.sealing_public_key(self.wallet.key)
        if self.reads.sealing_key(self.address) == public:
            return {"address": format_address(self.address), "sealing_key": "0x" + public.hex(),
                    "registered": False}
        receipt = self._app("register_key", public)
        return {"address": format_address(self.address), "sealing_key": "0x" + public.hex(),
                "registered": True,
                "tx_hash": "0x" + receipt.tx_hash.hex(), "height": receipt.height}

    def put(self, plaintext: bytes, patient: bytes | str) -> dict[str, Any]:
        """Encrypt ``plaintext`` under a fresh data key, record it on chain for ``patient`` with
        this client's node as custodian, then hand the node the ciphertext."""
        patient_address = check_address_arg(patient, "patient")
        if not isinstance(plaintext, bytes) or not plaintext:
            raise InvalidArgument("a record holds at least one byte")
        node = self.reads.node()
        if len(plaintext) + 28 > int(node["max_record_bytes"]):
            raise InvalidArgument(f"the record is {len(plaintext)} bytes; node stores at most "
                                  f"{node['max_record_bytes']} bytes of ciphertext")
        if not node["sealing_key_registered"]:
            raise InvalidArgument(f"the node's custodian {node['custodian']} has not registered its sealing "
                                  "key (consortia health register-key with the node's health key)")
        custodian = check_address_arg(node["custodian"], "custodian")
        patient_key = self._key_of(patient_address, "the patient")
        data_key, blob = rec.encrypt_record(plaintext)
        record = rec.record_id(blob)
        custodian_key = bytes.fromhex(node["sealing_key"][2:])
        receipt = self._app("put", record, patient_address, custodian,
                            rec.seal_data_key(patient_key, data_key),
                            rec.seal_data_key(custodian_key, data_key))
        self._upload(record, blob, receipt)
        return {"record": "0x" + record.hex(), "patient": format_address(patient_address),
                "custodian": node["custodian"], "size": len(blob), "tx_hash": "0x" + receipt.tx_hash.hex(),
                "height": receipt.height}

    def _upload(self, record: bytes, blob: bytes, receipt: sdk.ContractReceipt) -> None:
        """Hand the node the ciphertext (the record is on chain now); retried while the node is
        unreachable, since the ciphertext exists nowhere else."""
        for attempt in range(UPLOAD_ATTEMPTS):
            try:
                self.reads.upload(record, blob)
                return
            except ConnectionFailed as exc:
                if attempt + 1 == UPLOAD_ATTEMPTS:
                    raise ConnectionFailed(
                        f"record 0x{record.hex()} is on chain (tx 0x{receipt.tx_hash.hex()}) but its "
                        f"ciphertext did not reach the node after {UPLOAD_ATTEMPTS} attempts "
                        f"({exc.message}); store the file again as a new record") from None
                time.sleep(UPLOAD_RETRY_S)

    def grant(self, record: bytes | str, grantee: bytes | str, purpose: str, until_ms: int) -> dict[str, Any]:
        """Let ``grantee`` read ``record`` for ``purpose`` until ``until_ms``: the data key (opened
        with the patient's key) sealed to the grantee's registered key."""
        record_id = check_record(record)
        to = check_address_arg(grantee, "grantee")
        purpose = check_text(purpose, "purpose", apps.MAX_PURPOSE)
        if not is_int(until_ms) or not 0 < until_ms <= MAX_HEIGHT:
            raise InvalidArgument(f"until is a time in ms, got {until_ms!r:.40}")
        sealed_patient = bytes.fromhex(self.reads.record(record_id)["record"]["sealed_patient"][2:])
        data_key = rec.open_data_key(self.wallet.key, sealed_patient)
        sealed = rec.seal_data_key(self._key_of(to, "the grantee"), data_key)
        receipt = self._app("grant", record_id, to, purpose, until_ms, sealed)
        return {"record": "0x" + record_id.hex(), "grantee": format_address(to), "purpose": purpose,
                "until_ms": until_ms, "tx_hash": "0x" + receipt.tx_hash.hex(), "height": receipt.height}

    def revoke(self, record: bytes | str, grantee: bytes | str) -> dict[str, Any]:
        record_id, to = check_record(record), check_address_arg(grantee, "grantee")
        receipt = self._app("revoke", record_id, to)
        return {"record": "0x" + record_id.hex(), "grantee": format_address(to), "revoked": True,
                "tx_hash": "0x" + receipt.tx_hash.hex(), "height": receipt.height}

    def break_glass(self, record: bytes | str, reason: str) -> dict[str, Any]:
        """Open ``record`` without consent (hospital staff): the regulator and the patient are alerted."""
        record_id = check_record(record)
        reason = check_text(reason, "reason", apps.MAX_REASON)
        receipt = self._app("break_glass", record_id, reason)
        return {"record": "0x" + record_id.hex(), "doctor": format_address(self.address), "reason": reason,
                "until_ms": receipt_result_until(receipt), "tx_hash": "0x" + receipt.tx_hash.hex(),
                "height": receipt.height}

    def get(self, record: bytes | str) -> tuple[bytes, dict[str, Any]]:
        """The plaintext of ``record`` (a signed fetch from the hospital node this client talks to,
        logged on chain) and the node's answer without the ciphertext."""
        record_id = check_record(record)
        request = rec.sign_fetch(self.wallet.key, self.client.chain_id(), record_id)
        answer = self.reads.fetch(request)
        blob = bytes.fromhex(answer.pop("ciphertext")[2:])
        if rec.record_id(blob) != record_id:
            served = rec.record_id(blob).hex()
            raise CannotOpenRecord(f"the node served bytes whose SHA-256 is 0x{served}, not"
                                   f" the record 0x{record_id.hex()}")
        data_key = rec.open_data_key(self.wallet.key, bytes.fromhex(answer["sealed_key"][2:]))
        return rec.decrypt_record(data_key, blob), answer


def receipt_result_until(receipt: sdk.ContractReceipt) -> int:
    for event in receipt.events:
        if event.name == apps.BREAK_GLASS_EVENT:
            return int(event.fields["until_ms"])
    return 0
