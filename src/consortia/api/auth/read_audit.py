"""The read audit: what the gate logs of an overseer's read, and when (issue 14; decisions/0026).

A read is audited when the caller *oversees* (the regulator's identities, auditors), the method
reads (GET, HEAD), the route is one only a privilege opens (not public, submit, signed-body or
member: what every identity may read is nobody's privilege), and the answer holds data of an
organisation other than the reader's own. Whose data an answer holds (:func:`subject_orgs`):

* the organisation of each account the route names (ACCOUNT: ``{address}``, ``{owner}``, ...;
  an identity's organisation, a reserve account's organisation) and the organisation an ORG
  route names;
* the organisation of every address written in the answer — for a sub-resource, in its parent
  object's answer (the bill of a bill's quote) — which covers CONCERNS objects (their parties),
  lists (the parties of every item) and staff views (blocks, index pages, alerts);
* ``*`` (everyone's) when the answer cannot be attributed: raw state, an event stream, an
  answer of more than :data:`MAX_AUDITED_BODY` bytes or naming more than
  :data:`MAX_SUBJECT_LOOKUPS` addresses.

Write-ahead: the answer is held until its entry is durable in the log
(:class:`AuditedResponse`); a stream's entry is written before its first event. When the log
cannot be written the read is refused (503 ``read_audit_unavailable``): an overseer's read is
never served unlogged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from starlette.types import Message, Send

from consortia.api.auth.principal import Principal
from consortia.api.auth.read_log import (
    LOG_DIR,
    Read,
    ReadAuditUnavailable,
    ReadLog,
    ReadLogBroken,
)
from consortia.api.auth.route_policy import READ_METHODS, Access, Rule
from consortia.contracts.permissioned.directory import identity, org_names
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.permissioned.store import StateGet
from consortia.crypto.address import parse_address
from consortia.errors import ConsortiaError

log = logging.getLogger("consortia.read_audit")

AUDIT_ROUTE = "/v1/audit/reads"
EVERYONE = "*"
UNPRIVILEGED = frozenset({Rule.PUBLIC, Rule.SUBMIT, Rule.SIGNED_BODY, Rule.MEMBER})
RAW_ROUTES = frozenset({"/v1/state/{key}"})
"""Routes whose answer is raw state: nobody's in particular, so everyone's."""
MAX_AUDITED_BODY = 8 * 1024 * 1024
MAX_SUBJECT_LOOKUPS = 1024


class OrgLookup:
    """Which organisation an address belongs to, on one snapshot of committed state."""

    def __init__(self, state_get: StateGet) -> None:
        self.get = state_get
        self._reserves: dict[bytes, str] | None = None

    def org_of(self, address: bytes) -> str | None:
        record = identity(self.get, address)
        if record is not None:
            return record.org
        if self._reserves is None:
            self._reserves = {reserve_address(name): name for name in org_names(self.get)}
        return self._reserves.get(address)


def audited(who: Principal, access: Access, template: str, method: str) -> bool:
    """Whether the gate holds this request's answer for the read audit."""
    return (who.oversees and method in READ_METHODS and access.rule not in UNPRIVILEGED
            and template != AUDIT_ROUTE)  # fmt: skip


def subject_orgs(access: Access, template: str, params: dict[str, Any], answers: list[Any],
                 org_of: Callable[[bytes], str | None]) -> frozenset[str]:  # fmt: skip
    """The organisations whose data these answers (the route's, its parent's) hold; ``*`` for
    data no organisation can be named for. ``None`` in ``answers``: not JSON."""
    from consortia.api.auth.gate import addresses_in  # the gate imports this module

    if template in RAW_ROUTES:
        return frozenset({EVERYONE})
    found: set[str] = set()
    if access.rule is Rule.ORG and params.get(access.param):
        found.add(str(params[access.param]))
    named: set[bytes] = set()
    if access.rule is Rule.ACCOUNT:
        for p in access.param.split(","):
            with contextlib.suppress(ConsortiaError):  # malformed: the handler's 400 names nobody
                named.add(parse_address(str(params.get(p, ""))))
    for answer in answers:
        if answer is None:
            return frozenset({EVERYONE})
        addresses_in(answer, named)
    if len(named) > MAX_SUBJECT_LOOKUPS:
        return frozenset({EVERYONE})
    for address in named:
        name = org_of(address)
        if name is not None:
            found.add(name)
    return frozenset(found)


class ReadAudit:
    """The node's read audit: its log (None when it cannot be opened: audited reads are then
    refused) and the hook the gate calls."""

    def __init__(self, log: ReadLog | None, problem: str = "",
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.log = log
        self.problem = problem
        self.clock = clock
        self.on_append: Callable[[], None] | None = None
        """Called after each append (the anchorer watches segments close)."""
        self.on_request: Callable[[], None] | None = None
        """Called at each request through the gate (starts the anchorer on the API's loop)."""

    @classmethod
    def open(cls, home: Path, segment_bytes: int) -> ReadAudit:
        try:
            opened = ReadLog.open(home / LOG_DIR, segment_bytes, int(time.time() * 1000))
        except (ReadLogBroken, OSError) as exc:
            text = exc.message if isinstance(exc, ConsortiaError) else str(exc)
            log.error("read audit: the log in %s cannot be opened: %s; overseers' reads are refused "
                      "(503) until it is repaired", home / LOG_DIR, text)  # fmt: skip
            return cls(None, f"the read audit log cannot be opened: {text}")
        for note in opened.torn_cut:
            log.warning("read audit: %s (recorded as entry %d)", note, opened.head_seq)
        return cls(opened)

    def append(self, read: Read) -> None:
        if self.log is None:
            raise ReadAuditUnavailable(f"{self.problem}; an overseer's read is refused until it is repaired")
        self.log.append(read, int(self.clock() * 1000))
        if self.on_append is not None:
            self.on_append()


class AuditedResponse:
    """A ``send`` in front of the real one for an audited request: holds the answer until its
    entry is in the log, then lets it through (a stream: its entry first, then every event).
    ``failed`` holds the refusal when the log could not be written (nothing was sent)."""

    def __init__(self, send: Send, audit: ReadAudit, who: Principal, access: Access, template: str,
                 params: dict[str, Any], method: str, path: str, query: str,
                 orgs: Callable[[], Any]) -> None:  # fmt: skip
        """``orgs()``: a context manager giving an :class:`OrgLookup` on committed state."""
        self.real = send
        self.audit = audit
        self.who = who
        self.access = access
        self.template = template
        self.params = params
        self.method, self.path, self.query = method, path, query
        self.orgs = orgs
        self.parent_answers: list[Any] = []
        """The parent object's answer of a sub-resource (set by the gate)."""
        self.failed: ConsortiaError | None = None
        self._start: Message | None = None
        self._parts: list[bytes] = []
        self._size = 0
        self._through = False

    async def _record(self, status: int, answers: list[Any] | None) -> None:
        with self.orgs() as lookup:
            subjects = (frozenset({EVERYONE}) if answers is None
                        else subject_orgs(self.access, self.template, self.params,
                                          [*self.parent_answers, *answers], lookup.org_of))  # fmt: skip
        foreign = subjects - {self.who.org}
        if not foreign:
            return
        read = Read(self.who.address, self.who.org, self.who.role, self.method, self.path, self.query,
                    frozenset(foreign), status)  # fmt: skip
        try:
            await asyncio.to_thread(self.audit.append, read)
        except ReadAuditUnavailable as exc:
            self.failed = exc

    async def __call__(self, message: Message) -> None:
        if self.failed is not None:
            return
        kind = message["type"]
        if self._through or kind not in ("http.response.start", "http.response.body"):
            await self.real(message)
            return
        if kind == "http.response.start":
            self._start = message
            headers = dict(message.get("headers", []))
            if b"text/event-stream" in headers.get(b"content-type", b""):
                await self._release(None, [])
            return
        self._parts.append(message.get("body", b""))
        self._size += len(self._parts[-1])
        if self._size > MAX_AUDITED_BODY:
            await self._release(None, self._parts, more=bool(message.get("more_body", False)))
        elif not message.get("more_body", False):
            body = b"".join(self._parts)
            await self._release(_json_or_none(body), [body])

    async def _release(self, answer: Any, parts: list[bytes], more: bool = False) -> None:
        assert self._start is not None
        status = int(self._start["status"])
        await self._record(status, None if answer is None else [answer])
        if self.failed is not None:
            return
        self._through = True
        await self.real(self._start)
        if parts:
            await self.real({"type": "http.response.body", "body": b"".join(parts), "more_body": more})
        self._parts = []

    @property
    def started(self) -> bool:
        return self._through


def _json_or_none(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None

