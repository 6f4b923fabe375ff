"""Health: healthcare records with the patient's consent. The record itself (AES-256-GCM
ciphertext) stays in its hospital's node; the chain holds only its hash, its patient (an
address), the hospital, and the record's 32-byte data key sealed (X25519 sealed boxes) to the
patient, to the hospital node that serves it, and to each grantee. Every grant, revocation,
emergency ("break-glass") opening and served fetch is appended to the record's access log.

This file is contract source (deployed as text at genesis), not a module of the consortia package.

    register_key(public)                      any active identity (its X25519 key)  HealthKeyRegistered
    put(record, patient, custodian, sealed_patient, sealed_custodian) -> dict
                                              staff of a hospital                   HealthRecordStored
    grant(record, grantee, purpose, until_ms, sealed_key)
                                              the record's patient                  HealthGranted
    revoke(record, grantee)                   the record's patient                  HealthRevoked
    break_glass(record, reason) -> int        staff of a hospital, no consent:      HealthBreakGlass
                                              alerts the regulator and the patient
    log_access(record, public_key, timestamp_ms, nonce, signature) -> dict
                                              the record's custodian (its hospital  HealthAccessed
                                              node) with the reader's signed request
    views: record, grant_of, access, key_of, log_count, log_entry, log, patient_count,
           patient_record, alert_count, alert

``record`` is the SHA-256 of the stored ciphertext. A fetch request is signed over
``"consortia/health-fetch\\0" || chain_id || "\\0" || record || reader || timestamp_ms (8 bytes,
big-endian) || nonce (16 bytes)``; it is accepted once, within FETCH_WINDOW_MS of the block time.

Refusal codes: no_identity, not_hospital_staff, bad_record, record_exists, record_not_found,
bad_patient, no_sealing_key, bad_custodian, bad_sealed_key, bad_key, not_patient, bad_grantee,
bad_purpose, bad_until, no_live_grant, bad_reason, not_custodian, bad_nonce, stale_request,
bad_signature, replayed_request, no_access, bad_range.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

RECORD_BYTES = 32
KEY_BYTES = 32
SEALED_KEY_BYTES = 80  # a 32-byte data key in a sealed box (32-byte ephemeral key + 16-byte MAC)
NONCE_BYTES = 16
MAX_PURPOSE = 200
MAX_REASON = 200
MAX_GRANT_MS = 10 * 366 * 86_400_000  # a grant runs at most about ten years
FETCH_WINDOW_MS = 300_000  # a signed fetch request is good for five minutes either side
BREAK_GLASS_MS = 3_600_000  # an emergency opening lets its doctor fetch for one hour
MAX_LOG_PAGE = 100
FETCH_DOMAIN = b"consortia/health-fetch\x00"
HOSPITAL = "hospital"
STAFF_ROLES = ("admin", "member")
ACTIVE = "active"


class HealthRecord(Record):
    """A health record's registration: hospital, uploader, patient, custodian, sealed keys."""
    record: bytes
    hospital: str
    uploader: bytes
    patient: bytes
    custodian: bytes
    height: int
    timestamp_ms: int
    sealed_patient: bytes
    sealed_custodian: bytes


class Grant(Record):
    """A patient's consent for a grantee: purpose, until, the key sealed for it, use."""
    grantee: bytes
    purpose: str
    until_ms: int
    sealed_key: bytes
    granted: int
    revoked: int
    accesses: int


class LogEntry(Record):
    """One entry of a record's access log."""
    n: int
    kind: str
    by: bytes
    party: bytes
    detail: str
    height: int
    timestamp_ms: int
    tx_hash: bytes


class Alert(Record):
    """A break-glass access raised to the patient."""
    record: bytes
    doctor: bytes
    org: str
    reason: str
    height: int
    timestamp_ms: int
    tx_hash: bytes


class Health(Contract):
    records = Map(bytes, dict)
    sealing_keys = Map(bytes, bytes)
    grants = Map(bytes, Map(bytes, dict))
    emergencies = Map(bytes, Map(bytes, dict))
    logs = Map(bytes, Map(int, dict))
    log_counts = Map(bytes, int)
    patient_counts = Map(bytes, int)
    patient_records = Map(bytes, Map(int, bytes))
    alert_counts = Map(bytes, int)
    alerts = Map(bytes, Map(int, dict))
    used_nonces = Map(bytes, int)
    stored = Value(int)

    # --- keys ----------------------------------------------------------------------------------

    @public
    def register_key(self, public_key: bytes) -> None:
        self.active_identity(self.caller, "the sender")
        require(isinstance(public_key, bytes) and len(public_key) == KEY_BYTES,
                f"a sealing key is a {KEY_BYTES}-byte X25519 public key, got {size(public_key)}", "bad_key")
        self.sealing_keys[self.caller] = public_key
        self.emit("HealthKeyRegistered", address=self.caller, key=public_key)

    # --- records -------------------------------------------------------------------------------

    @public
    def put(self, record: bytes, patient: bytes, custodian: bytes, sealed_patient: bytes,
            sealed_custodian: bytes) -> dict:
        staff = self.hospital_staff(self.caller)
        require(isinstance(record, bytes) and len(record) == RECORD_BYTES,
                f"a record is named by the {RECORD_BYTES}-byte SHA-256 of its ciphertext, got {size(record)}",
                "bad_record")
        require(self.records.get(record) is None, f"record 0x{record.hex()} is already stored",
                "record_exists")
        held = self.identity_of(patient)
        require(held is not None and "contract" not in held and held.get("status") == ACTIVE,
                f"the patient 0x{patient.hex()} is {describe(held)}, not an active identity", "bad_patient")
        self.require_sealing_key(patient, "the patient")
        keeper = self.identity_of(custodian)
        require(keeper is not None and keeper.get("org") == staff["org"] and keeper.get("status") == ACTIVE,
                f"the custodian 0x{custodian.hex()} (the node key that serves the record) must be an active "
                f"identity of {staff['org']!r}; it is {describe(keeper)}", "bad_custodian")
        self.require_sealing_key(custodian, "the custodian")
        require_sealed(sealed_patient, "the patient's sealed data key")
        require_sealed(sealed_custodian, "the custodian's sealed data key")
        entry = {
            "record": record, "hospital": staff["org"], "uploader": self.caller, "patient": patient,
            "custodian": custodian, "height": self.block.height, "timestamp_ms": self.block.timestamp_ms,
            "sealed_patient": sealed_patient, "sealed_custodian": sealed_custodian,
        }
        self.records[record] = entry
        self.stored += 1
        n = self.patient_counts[patient] + 1
        self.patient_counts[patient] = n
        self.patient_records[patient][n] = record
        self.append_log(record, "stored", self.caller, staff["org"])
        self.emit("HealthRecordStored", record=record, patient=patient, hospital=staff["org"])
        return entry

    # --- consent -------------------------------------------------------------------------------

    @public
    def grant(self, record: bytes, grantee: bytes, purpose: str, until_ms: int, sealed_key: bytes) -> dict:
        entry = self.own_record(record)
        held = self.identity_of(grantee)
        require(held is not None and "contract" not in held and held.get("status") == ACTIVE
                and grantee != entry["patient"],
                f"the grantee 0x{grantee.hex()} is {describe(held)}; access goes to another active identity",
                "bad_grantee")
        self.require_sealing_key(grantee, "the grantee")
        require(isinstance(purpose, str) and 0 < len(purpose) <= MAX_PURPOSE,
                f"give a purpose of 1 to {MAX_PURPOSE} characters, got {size(purpose)}", "bad_purpose")
        now = self.block.timestamp_ms
        require(isinstance(until_ms, int) and now < until_ms <= now + MAX_GRANT_MS,
                f"a grant runs until a time after the block's ({now} ms) and at most {MAX_GRANT_MS} ms "
                f"later, got {until_ms!r}", "bad_until")
        require_sealed(sealed_key, "the grantee's sealed data key")
        given = {"grantee": grantee, "purpose": purpose, "until_ms": until_ms, "sealed_key": sealed_key,
                 "granted": self.block.height, "revoked": 0, "accesses": 0}
        self.grants[record][grantee] = given
        self.append_log(record, "granted", grantee, purpose)
        self.emit("HealthGranted", record=record, patient=self.caller, grantee=grantee, purpose=purpose,
                  until_ms=until_ms)
        return given

    @public
    def revoke(self, record: bytes, grantee: bytes) -> None:
        self.own_record(record)
        given = self.grants[record].get(grantee)
        require(given is not None and self.live(given),
                f"0x{grantee.hex()} holds no live grant on record 0x{record.hex()}", "no_live_grant")
        given["revoked"] = self.block.height
        self.grants[record][grantee] = given
        self.append_log(record, "revoked", grantee, given["purpose"])
        self.emit("HealthRevoked", record=record, patient=self.caller, grantee=grantee)

    # --- emergencies ---------------------------------------------------------------------------

    @public
    def break_glass(self, record: bytes, reason: str) -> int:
        entry = self.load(record)
        staff = self.hospital_staff(self.caller)
        require(isinstance(reason, str) and 0 < len(reason) <= MAX_REASON,
                f"give a reason of 1 to {MAX_REASON} characters, got {size(reason)}", "bad_reason")
        self.require_sealing_key(self.caller, "the doctor")
        until_ms = self.block.timestamp_ms + BREAK_GLASS_MS
        self.emergencies[record][self.caller] = {"org": staff["org"], "reason": reason, "until_ms": until_ms,
                                                 "opened": self.block.height}
        patient = entry["patient"]
        self.append_log(record, "break-glass", self.caller, reason)
        n = self.alert_counts[patient] + 1
        self.alert_counts[patient] = n
        self.alerts[patient][n] = {"record": record, "doctor": self.caller, "org": staff["org"],
                                   "reason": reason, "height": self.block.height,
                                   "timestamp_ms": self.block.timestamp_ms, "tx_hash": self.tx_hash}
        self.alert_regulator("break_glass", self.caller, 0,
                             f"0x{self.caller.hex()} of {staff['org']!r} opened record 0x{record.hex()} of "
                             f"patient 0x{patient.hex()} without consent: {reason}")
        self.emit("HealthBreakGlass", record=record, patient=patient, doctor=self.caller, org=staff["org"],
                  reason=reason, until_ms=until_ms)
        return until_ms

    # --- fetches -------------------------------------------------------------------------------

    @public
    def log_access(self, record: bytes, public_key: bytes, timestamp_ms: int, nonce: bytes,
                   signature: bytes) -> dict:
        entry = self.load(record)
        require(self.caller == entry["custodian"],
                f"record 0x{record.hex()} is served and logged by its custodian "
                f"0x{entry['custodian'].hex()}, not 0x{self.caller.hex()}", "not_custodian")
        require(isinstance(nonce, bytes) and len(nonce) == NONCE_BYTES,
                f"a fetch request's nonce is {NONCE_BYTES} bytes, got {size(nonce)}", "bad_nonce")
        now = self.block.timestamp_ms
        require(isinstance(timestamp_ms, int) and abs(now - timestamp_ms) <= FETCH_WINDOW_MS,
                f"the fetch request was signed at {timestamp_ms!r} ms; the block time is {now} ms and a "
                f"request is good for {FETCH_WINDOW_MS} ms", "stale_request")
        reader = self.address_of_key(public_key)
        message = fetch_message(self.block.chain_id, record, reader, timestamp_ms, nonce)
        require(self.verify_signature(public_key, message, signature),
                f"the fetch request of 0x{reader.hex()} is not signed by its key", "bad_signature")
        used = reader + nonce
        require(self.used_nonces[used] == 0,
                f"this fetch request was already served at height {self.used_nonces[used]}",
                "replayed_request")
        basis = self.basis(entry, reader)
        require(basis != "", f"0x{reader.hex()} has no live grant or emergency opening on record "
                f"0x{record.hex()}", "no_access")
        self.used_nonces[used] = self.block.height
        sealed_key = b""
        if basis == "consent":
            given = self.grants[record][reader]
            given["accesses"] = given["accesses"] + 1
            self.grants[record][reader] = given
            sealed_key = given["sealed_key"]
        elif basis == "patient":
            sealed_key = entry["sealed_patient"]
        self.append_log(record, "access", reader, basis)
        self.emit("HealthAccessed", record=record, patient=entry["patient"], reader=reader, basis=basis)
        return {"basis": basis, "reader": reader, "sealed_key": sealed_key, "height": self.block.height}

    # --- views ---------------------------------------------------------------------------------

    @view
    def record(self, record: bytes) -> HealthRecord:
        return self.load(record)

    @view
    def grant_of(self, record: bytes, grantee: bytes) -> Grant | None:
        self.load(record)
        return self.grants[record].get(grantee)

    @view
    def access(self, record: bytes, reader: bytes) -> str:
        """On what basis ``reader`` may fetch now: "patient", "consent", "break-glass" or ""."""
        return self.basis(self.load(record), reader)

    @view
    def key_of(self, address: bytes) -> bytes | None:
        return self.sealing_keys.get(address)

    @view
    def log_count(self, record: bytes) -> int:
        self.load(record)
        return self.log_counts[record]

    @view
    def log_entry(self, record: bytes, n: int) -> LogEntry:
        count = self.log_count(record)
        require(isinstance(n, int) and 1 <= n <= count, f"record 0x{record.hex()} has {count} log entries; "
                f"no entry {n!r}", "bad_range")
        return self.logs[record][n]

    @view
    def log(self, record: bytes, start: int, limit: int) -> list[LogEntry]:
        count = self.log_count(record)
        require(isinstance(start, int) and isinstance(limit, int) and start >= 1
                and 1 <= limit <= MAX_LOG_PAGE,
                f"start from 1 and list 1 to {MAX_LOG_PAGE} entries, got start {start!r}, limit {limit!r}",
                "bad_range")
        return [self.logs[record][n] for n in range(start, min(count, start + limit - 1) + 1)]

    @view
    def patient_count(self, patient: bytes) -> int:
        return self.patient_counts[patient]

    @view
    def patient_record(self, patient: bytes, n: int) -> bytes:
        count = self.patient_counts[patient]
        require(isinstance(n, int) and 1 <= n <= count, f"the patient has {count} records; no record {n!r}",
                "bad_range")
        return self.patient_records[patient][n]

    @view
    def alert_count(self, patient: bytes) -> int:
        return self.alert_counts[patient]

    @view
    def alert(self, patient: bytes, n: int) -> Alert:
        count = self.alert_counts[patient]
        require(isinstance(n, int) and 1 <= n <= count, f"the patient has {count} alerts; no alert {n!r}",
                "bad_range")
        return self.alerts[patient][n]

    # --- helpers -------------------------------------------------------------------------------

    def load(self, record: bytes) -> dict:
        require(isinstance(record, bytes) and len(record) == RECORD_BYTES,
                f"a record is named by a {RECORD_BYTES}-byte SHA-256, got {size(record)}", "bad_record")
        entry = self.records.get(record)
        require(entry is not None, f"no record 0x{record.hex()} is stored", "record_not_found")
        return entry

    def own_record(self, record: bytes) -> dict:
        entry = self.load(record)
        require(self.caller == entry["patient"], f"only the record's patient 0x{entry['patient'].hex()} "
                f"grants and revokes access to it, not 0x{self.caller.hex()}", "not_patient")
        return entry

    def active_identity(self, address: bytes, what: str) -> dict:
        who = self.identity_of(address)
        require(who is not None and "contract" not in who and who.get("status") == ACTIVE,
                f"{what} 0x{address.hex()} is {describe(who)}, not an active identity", "no_identity")
        return who

    def hospital_staff(self, address: bytes) -> dict:
        who = self.identity_of(address)
        require(who is not None and who.get("org_role") == HOSPITAL and who.get("role") in STAFF_ROLES
                and who.get("status") == ACTIVE,
                f"0x{address.hex()} is {describe(who)}; this takes active staff (admin or member) of a "
                "hospital", "not_hospital_staff")
        return who

    def require_sealing_key(self, address: bytes, what: str) -> None:
        require(self.sealing_keys.get(address) is not None,
                f"{what} 0x{address.hex()} has registered no sealing key (health.register_key)",
                "no_sealing_key")

    def live(self, given: dict) -> bool:
        return given["revoked"] == 0 and given["until_ms"] > self.block.timestamp_ms

    def basis(self, entry: dict, reader: bytes) -> str:
        if reader == entry["patient"]:
            return "patient"
        given = self.grants[entry["record"]].get(reader)
        if given is not None and self.live(given):
            return "consent"
        opened = self.emergencies[entry["record"]].get(reader)
        if opened is not None and opened["until_ms"] > self.block.timestamp_ms:
            return "break-glass"
        return ""

    def append_log(self, record: bytes, kind: str, party: bytes, detail: str) -> None:
        n = self.log_counts[record] + 1
        self.log_counts[record] = n
        self.logs[record][n] = {"n": n, "kind": kind, "by": self.origin, "party": party, "detail": detail,
                                "height": self.block.height, "timestamp_ms": self.block.timestamp_ms,
                                "tx_hash": self.tx_hash}


def fetch_message(chain_id: str, record: bytes, reader: bytes, timestamp_ms: int, nonce: bytes) -> bytes:
    return (FETCH_DOMAIN + chain_id.encode() + b"\x00" + record + reader + timestamp_ms.to_bytes(8, "big")
            + nonce)


def require_sealed(sealed: bytes, what: str) -> None:
    require(isinstance(sealed, bytes) and len(sealed) == SEALED_KEY_BYTES,
            f"{what} is a {SEALED_KEY_BYTES}-byte sealed box, got {size(sealed)}", "bad_sealed_key")


def size(value) -> str:
    if isinstance(value, (bytes, str)):
        return f"{len(value)} {'bytes' if isinstance(value, bytes) else 'characters'}"
    return repr(value)


def describe(who: dict | None) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"
