"""The read audit's log: append-only, hash-chained JSON lines in the node's home (issue 14).

One line per read an overseer made of another organisation's data (who, what, when; see
:mod:`consortia.api.auth.read_audit` for what is logged), in segments
``HOME/audit/reads/reads-<first seq>.jsonl``. Each entry carries the previous entry's hash and
its own: ``hash = SHA-256(the entry's line with hash "")``, the first entry's ``prev`` being 32
zero bytes, so changing, removing or reordering any line breaks every hash after it. A line has
one form (msgspec's encoding of :class:`ReadEntry`): reading it re-encodes it and refuses any
difference, so a changed byte that keeps the meaning is caught too.

Crash safety: an entry is written with one ``write`` and made durable (``fdatasync``) before
:meth:`ReadLog.append` returns — and the API releases an audited answer only after that
(decisions/0026). A crash mid-write leaves a *torn* last line (no newline); it is never dropped
silently: :meth:`ReadLog.open` moves its bytes to ``<segment>.torn-<offset>`` and appends a
``torn-tail`` entry naming their length and SHA-256, and :func:`verify_log` reports a torn tail
it finds with its line.

The heads anchored on chain are listed in ``anchors.jsonl`` beside the segments (written by
:mod:`consortia.api.auth.read_anchor`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from consortia.errors import ConsortiaError

LOG_DIR = Path("audit") / "reads"
ANCHORS_FILE = "anchors.jsonl"
SEGMENT_PREFIX = "reads-"
SEGMENT_SUFFIX = ".jsonl"
GENESIS_PREV = "00" * 32
DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
"""An entry's line at most (paths and queries are cut to fit, marked)."""
MAX_TEXT = 4096
"""Characters of a path or query kept in an entry."""
READ = "read"
TORN_TAIL = "torn-tail"


class ReadLogBroken(ConsortiaError):
    """The log does not verify: a line was changed, removed, reordered or is torn."""

    code = "read_log_broken"
    http_status = 500


class TornTail(ReadLogBroken):
    """A torn last line: a write cut off by a crash."""

    code = "read_log_torn"


class ReadAuditUnavailable(ConsortiaError):
    """The log cannot be written: an overseer's read is refused rather than left unlogged."""

    code = "read_audit_unavailable"
    http_status = 503


class ReadEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seq: int
    time_ms: int
    kind: str
    """``read``, or ``torn-tail`` (a torn last line cut at start; ``note`` says what)."""
    reader: str
    """The reader's address (0x hex); empty for a ``torn-tail`` entry."""
    reader_org: str
    reader_role: str
    method: str
    path: str
    query: str
    subjects: list[str]
    """The organisations whose data the answer held (sorted); ``*``: not attributable (raw
    state, a stream, an answer too large to read through): everyone's."""
    status: int
    note: str
    prev: str
    hash: str


def entry_hash(entry: ReadEntry) -> str:
    body = msgspec.json.encode(msgspec.structs.replace(entry, hash=""))
    return hashlib.sha256(body).hexdigest()


def entry_line(entry: ReadEntry) -> bytes:
    return msgspec.json.encode(entry) + b"\n"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "...(cut)"


@dataclass(frozen=True)
class Read:
    """What the API reports of one audited read (the log adds seq, time and the hashes)."""

    reader: bytes
    reader_org: str
    reader_role: str
    method: str
    path: str
    query: str
    subjects: frozenset[str]
    status: int


@dataclass(frozen=True)
class AnchorRecord:
    seq: int
    head: str
    tx_hash: str
    height: int
    stamper: str


class _AnchorLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seq: int
    head: str
    tx_hash: str
    height: int
    stamper: str


# --- reading and verifying ---------------------------------------------------------------------

def segments(directory: Path) -> list[Path]:
    """The segment files in order (by their first sequence number)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir()
             if p.name.startswith(SEGMENT_PREFIX) and p.name.endswith(SEGMENT_SUFFIX)]  # fmt: skip
    return sorted(found, key=lambda p: p.name)


def segment_name(first_seq: int) -> str:
    return f"{SEGMENT_PREFIX}{first_seq:012d}{SEGMENT_SUFFIX}"


def parse_line(raw: bytes, where: str) -> ReadEntry:
    """One complete line (with its newline) → its entry; :class:`ReadLogBroken` naming ``where``
    when it is not exactly the one form of an entry."""
    try:
        entry = msgspec.json.decode(raw, type=ReadEntry)
    except msgspec.DecodeError as exc:
        raise ReadLogBroken(f"{where}: not an entry of the read log ({exc})", where=where) from None
    if entry_line(entry) != raw:
        raise ReadLogBroken(f"{where}: the line is not written in the log's one form (edited?)", where=where)
    if entry.hash != entry_hash(entry):
        raise ReadLogBroken(f"{where}: the entry's hash does not match its content (edited?)", where=where)
    return entry


@dataclass
class Verified:
    """A log read through and checked: its head and every entry hash (for the anchors)."""

    entries: int = 0
    head_seq: int = 0
    head: str = GENESIS_PREV
    hash_at: dict[int, str] = field(default_factory=dict)
    torn_tail: str = ""
    """A torn last line found (not yet cut by the node), described; empty when none."""


def iter_entries(directory: Path) -> Iterator[tuple[str, ReadEntry]]:
    """Every entry in order with where it is (``segment:line``), each checked against the one
    before; :class:`ReadLogBroken` at the first line that breaks the chain. A torn last line of
    the last segment stops the iteration with :class:`TornTail`."""
    prev, seq = GENESIS_PREV, 0
    files = segments(directory)
    for number, path in enumerate(files):
        data = path.read_bytes()
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the segment ends with a newline
        for i, body in enumerate(lines, start=1):
            where = f"{path.name}:{i}"
            entry = parse_line(body + b"\n", where)
            if entry.seq != seq + 1:
                raise ReadLogBroken(f"{where}: entry {entry.seq} follows entry {seq} (removed or "
                                    "reordered lines)", where=where)  # fmt: skip
            if entry.prev != prev:
                raise ReadLogBroken(f"{where}: the entry does not chain to the one before (prev "
                                    f"{entry.prev}, expected {prev})", where=where)  # fmt: skip
            if i == 1 and path.name != segment_name(entry.seq):
                raise ReadLogBroken(f"{where}: the segment's name does not match its first entry "
                                    f"{entry.seq}", where=where)  # fmt: skip
            prev, seq = entry.hash, entry.seq
            yield where, entry
        if tail:
            where = f"{path.name}:{len(lines) + 1}"
            if number != len(files) - 1:
                raise ReadLogBroken(f"{where}: a segment other than the last ends without a newline",
                                    where=where)  # fmt: skip
            raise TornTail(f"{where}: the last line is torn ({len(tail)} bytes, no newline): a write "
                           "was cut off; the node cuts it and records it at its next start",
                           where=where, length=len(tail))  # fmt: skip


def verify_log(directory: Path) -> Verified:
    """Read the whole log and check its chain; raises :class:`ReadLogBroken` (a line named) at
    the first line that does not verify, :class:`TornTail` for a torn last line."""
    out = Verified()
    for _, entry in iter_entries(directory):
        out.entries += 1
        out.head_seq, out.head = entry.seq, entry.hash
        out.hash_at[entry.seq] = entry.hash
    return out


def read_anchors(directory: Path) -> list[AnchorRecord]:
    path = directory / ANCHORS_FILE
    if not path.exists():
        return []
    out: list[AnchorRecord] = []
    for i, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            a = msgspec.json.decode(line, type=_AnchorLine)
        except msgspec.DecodeError as exc:
            raise ReadLogBroken(f"{ANCHORS_FILE}:{i}: not an anchor record ({exc})") from None
        out.append(AnchorRecord(a.seq, a.head, a.tx_hash, a.height, a.stamper))
    return out


# --- writing -----------------------------------------------------------------------------------

def _durable_append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write to {path}: {written} of {len(data)} bytes")
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReadLog:
    """The node's log, open for appending (thread-safe; one writer process: the node)."""

    def __init__(self, directory: Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self.head_seq = 0
        self.head = GENESIS_PREV
        self._segment: Path | None = None
        self._segment_size = 0
        self.closed_segments = 0
        """Segments closed by this process (the anchorer anchors when one closes)."""
        self.torn_cut: list[str] = []
        """What :meth:`open` cut (reported by the node at start)."""

    @classmethod
    def open(cls, directory: Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES,
             now_ms: int = 0) -> ReadLog:  # fmt: skip
        """Open (creating) the log: find its head by verifying the last segment — the whole
        log is verified by :func:`verify_log` — cut a torn last line into a side file and record
        the cut as an entry. :class:`ReadLogBroken` when the last segment does not verify."""
        directory.mkdir(parents=True, exist_ok=True)
        log = cls(directory, segment_bytes)
        files = segments(directory)
        if not files:
            return log
        last = files[-1]
        prev = GENESIS_PREV
        if len(files) > 1:
            previous = files[-2].read_bytes().split(b"\n")
            if previous[-1] or len(previous) < 2:
                raise ReadLogBroken(f"{files[-2].name}: a closed segment ends without a newline")
            entry = parse_line(previous[-2] + b"\n", f"{files[-2].name}:{len(previous) - 1}")
            prev, log.head_seq = entry.hash, entry.seq
        data = last.read_bytes()
        cut = data.rfind(b"\n") + 1
        torn = data[cut:]
        seq = log.head_seq
        for i, body in enumerate(data[:cut].split(b"\n")[:-1], start=1):
            entry = parse_line(body + b"\n", f"{last.name}:{i}")
            if entry.seq != seq + 1 or entry.prev != prev:
                raise ReadLogBroken(f"{last.name}:{i}: the entry does not follow the one before")
            prev, seq = entry.hash, entry.seq
        log.head_seq, log.head = seq, prev
        log._segment, log._segment_size = last, cut
        if torn:
            side = last.with_name(f"{last.name}.torn-{cut}")
            side.write_bytes(torn)
            os.truncate(last, cut)
            _sync_dir(directory)
            note = (f"{len(torn)} bytes of a torn last line (sha256 {hashlib.sha256(torn).hexdigest()}) "
                    f"cut from {last.name} at byte {cut}, kept in {side.name}")
            log.torn_cut.append(note)
            log._write(TORN_TAIL, None, now_ms, note)
        return log

    def append(self, read: Read, now_ms: int) -> ReadEntry:
        """Write one read, durably, and return its entry. :class:`ReadAuditUnavailable` when
        the disk refuses (the caller then refuses the read)."""
        try:
            return self._write(READ, read, now_ms, "")
        except OSError as exc:
            raise ReadAuditUnavailable(f"the read audit log cannot be written ({exc.strerror or exc}); "
                                       "an overseer's read is refused until it can") from None

    def _write(self, kind: str, read: Read | None, now_ms: int, note: str) -> ReadEntry:
        with self._lock:
            if self._segment is None or self._segment_size >= self.segment_bytes:
                if self._segment is not None:
                    self.closed_segments += 1
                self._segment = self.directory / segment_name(self.head_seq + 1)
                self._segment_size = 0
                self._segment.touch()
                _sync_dir(self.directory)
            draft = ReadEntry(
                seq=self.head_seq + 1, time_ms=now_ms, kind=kind,
                reader="0x" + read.reader.hex() if read else "", reader_org=read.reader_org if read else "",
                reader_role=read.reader_role if read else "", method=read.method if read else "",
                path=_cut(read.path) if read else "", query=_cut(read.query) if read else "",
                subjects=sorted(read.subjects) if read else [], status=read.status if read else 0,
                note=note, prev=self.head, hash="",
            )  # fmt: skip
            entry = msgspec.structs.replace(draft, hash=entry_hash(draft))
            line = entry_line(entry)
            _durable_append(self._segment, line)
            self._segment_size += len(line)
            self.head_seq, self.head = entry.seq, entry.hash
            return entry

    def add_anchor(self, record: AnchorRecord) -> None:
        line = msgspec.json.encode(_AnchorLine(record.seq, record.head, record.tx_hash, record.height,
                                               record.stamper)) + b"\n"  # fmt: skip
        with self._lock:
            _durable_append(self.directory / ANCHORS_FILE, line)

    def page(self, after: int, limit: int,
             keep: Callable[[ReadEntry], bool] | None = None) -> tuple[list[ReadEntry], int]:  # fmt: skip
        """Up to ``limit`` entries with seq > ``after`` that ``keep(entry)`` accepts (every one
        when ``keep`` is None), each verified against its predecessor while read; and the seq
        the page read up to (the next page's ``after``)."""
        with self._lock:
            head = self.head_seq
        files = segments(self.directory)
        starts = [int(p.name[len(SEGMENT_PREFIX):-len(SEGMENT_SUFFIX)]) for p in files]
        first = max([i for i, s in enumerate(starts) if s <= after + 1] or [0])
        out: list[ReadEntry] = []
        reached = after
        prev: str | None = None
        for path in files[first:]:
            for i, body in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
                entry = parse_line(body + b"\n", f"{path.name}:{i}")
                if prev is not None and entry.prev != prev:
                    raise ReadLogBroken(f"{path.name}:{i}: the entry does not chain to the one before")
                prev = entry.hash
                if entry.seq <= after:
                    continue
                if entry.seq > head or len(out) >= limit:
                    return out, reached
                reached = entry.seq
                if keep is None or keep(entry):
                    out.append(entry)
        return out, reached
