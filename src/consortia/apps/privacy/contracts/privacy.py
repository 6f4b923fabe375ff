"""Supervisable privacy: who content is sealed to, where it is kept, and erasures on the record
(issue 14, decisions/0024).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

Application content that validators need not read (an invoice's lines, a memo) travels sealed:
one AES-256-GCM data key per object, sealed to each party's and to the supervisor's X25519 key.
The ciphertext and its envelopes are kept off chain by the parties' organisations' nodes, named
on chain by the SHA-256 of the ciphertext (a *ref*, carried by the application's own record).

    register_key(public_key)          any active identity: its X25519 sealing key   SealingKeyRegistered
    set_supervisor()                  an identity of the regulator with a registered key: content
                                      is sealed to it from now on                     SupervisorSet
    set_store(url)                    an admin: its organisation's node that keeps sealed content
                                                                                      StoreSet
    request_erasure(ref, reason)      any active identity: asks for content's erasure ErasureRequested
    erase(ref, reason)                an identity of the regulator: every node deletes the content
                                      and envelopes it keeps for ref                  Erased
    views: key_of, supervisor, store_of, erasure, erasure_request, erased_count

Refusal codes: no_identity, not_admin, not_regulator, bad_key, no_sealing_key, bad_url, bad_ref,
bad_reason, already_erased.
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

KEY_BYTES = 32
REF_BYTES = 32
MAX_URL = 200
MAX_REASON = 200
ACTIVE = "active"
REGULATOR = "regulator"
ADMIN = "admin"


def size(value) -> str:
    return f"{len(value)} bytes" if isinstance(value, bytes) else repr(value)[:40]


def describe(who) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"


class Supervisor(Record):
    """The supervisor's address and its registered sealing key (None before it registers one)."""
    address: bytes
    key: bytes | None


class ErasureRequest(Record):
    """A request to erase sealed content: the reference, who asked, why, when, in which tx."""
    ref: bytes
    by: bytes
    reason: str
    height: int
    time: int
    tx: bytes


class Erasure(ErasureRequest):
    """An erasure done: the request's fields (``by`` is who erased) and who had requested it."""
    requested_by: bytes


class Privacy(Contract):
    sealing_keys = Map(bytes, bytes)
    supervisor_address = Value(bytes)
    stores = Map(str, str)
    erasures = Map(bytes, dict)
    requests = Map(bytes, dict)
    erased = Value(int)

    # --- keys ----------------------------------------------------------------------------------

    @public
    def register_key(self, public_key: bytes) -> None:
        self.active_identity(self.caller, "the sender")
        require(isinstance(public_key, bytes) and len(public_key) == KEY_BYTES,
                f"a sealing key is a {KEY_BYTES}-byte X25519 public key, got {size(public_key)}", "bad_key")
        self.sealing_keys[self.caller] = public_key
        self.emit("SealingKeyRegistered", address=self.caller, key=public_key)

    @public
    def set_supervisor(self) -> None:
        self.regulator(self.caller)
        require(self.sealing_keys.get(self.caller) is not None,
                f"0x{self.caller.hex()} registers its sealing key first (privacy.register_key)",
                "no_sealing_key")
        self.supervisor_address = self.caller
        self.emit("SupervisorSet", address=self.caller, key=self.sealing_keys[self.caller])

    # --- stores --------------------------------------------------------------------------------

    @public
    def set_store(self, url: str) -> None:
        who = self.active_identity(self.caller, "the sender")
        require(who.get("role") == ADMIN, f"0x{self.caller.hex()} is {describe(who)}; an organisation's "
                "admin names its store", "not_admin")
        require(isinstance(url, str) and 8 <= len(url) <= MAX_URL
                and (url.startswith("http://") or url.startswith("https://")) and " " not in url,
                f"a store is an http(s) URL of 8 to {MAX_URL} characters with no spaces", "bad_url")
        self.stores[who["org"]] = url
        self.emit("StoreSet", org=who["org"], url=url, by=self.caller)

    # --- erasure -------------------------------------------------------------------------------

    @public
    def request_erasure(self, ref: bytes, reason: str) -> None:
        self.active_identity(self.caller, "the sender")
        self.check_ref(ref)
        self.check_reason(reason)
        self.not_erased(ref)
        self.requests[ref] = {"ref": ref, "by": self.caller, "reason": reason, "height": self.block.height,
                              "time": self.block.timestamp_ms, "tx": self.tx_hash}
        self.emit("ErasureRequested", ref=ref, by=self.caller, reason=reason)

    @public
    def erase(self, ref: bytes, reason: str) -> Erasure:
        self.regulator(self.caller)
        self.check_ref(ref)
        self.check_reason(reason)
        self.not_erased(ref)
        asked = self.requests.get(ref)
        record = {"ref": ref, "by": self.caller, "reason": reason, "height": self.block.height,
                  "time": self.block.timestamp_ms, "tx": self.tx_hash,
                  "requested_by": b"" if asked is None else asked["by"]}
        self.erasures[ref] = record
        self.erased = self.erased + 1
        self.emit("Erased", ref=ref, by=self.caller, reason=reason)
        return record

    # --- views ---------------------------------------------------------------------------------

    @view
    def key_of(self, address: bytes) -> bytes | None:
        return self.sealing_keys.get(address)

    @view
    def supervisor(self) -> Supervisor | None:
        address = self.supervisor_address
        if not address:
            return None
        return {"address": address, "key": self.sealing_keys.get(address)}

    @view
    def store_of(self, org: str) -> str | None:
        return self.stores.get(org)

    @view
    def erasure(self, ref: bytes) -> Erasure | None:
        return self.erasures.get(ref)

    @view
    def erasure_request(self, ref: bytes) -> ErasureRequest | None:
        return self.requests.get(ref)

    @view
    def erased_count(self) -> int:
        return self.erased

    # --- helpers -------------------------------------------------------------------------------

    def active_identity(self, address: bytes, what: str) -> dict:
        who = self.identity_of(address)
        require(who is not None and "contract" not in who and who.get("status") == ACTIVE,
                f"{what} 0x{address.hex()} is {describe(who)}, not an active identity", "no_identity")
        return who

    def regulator(self, address: bytes) -> dict:
        who = self.active_identity(address, "the sender")
        require(who.get("org_role") == REGULATOR, f"0x{address.hex()} is {describe(who)}; only the "
                "regulator's identities do this", "not_regulator")
        return who

    def check_ref(self, ref: bytes) -> None:
        require(isinstance(ref, bytes) and len(ref) == REF_BYTES,
                f"sealed content is named by the {REF_BYTES}-byte SHA-256 of its ciphertext, got {size(ref)}",
                "bad_ref")

    def check_reason(self, reason: str) -> None:
        require(isinstance(reason, str) and 1 <= len(reason) <= MAX_REASON,
                f"a reason has 1 to {MAX_REASON} characters (name the legal basis, never personal data)",
                "bad_reason")

    def not_erased(self, ref: bytes) -> None:
        done = self.erasures.get(ref)
        require(done is None, f"content 0x{ref.hex()} was erased at height "
                f"{0 if done is None else done['height']}", "already_erased")
