"""Signature checks in worker processes, so they never wait for the interpreter lock.

Threads verify in parallel only while nothing else holds the GIL: in a busy node (the event
loop executing a block), every verify thread waits for the lock after each C call, and
verification falls back to one core. Worker processes have their own interpreters: a batch is
split over them, each checks its part at full C speed, and the caller (usually an API worker
thread) waits on the pipes without holding the lock.

Each worker is ``python -m consortia.crypto.verify_worker SUITE``, speaking length-prefixed
MessagePack frames over its stdin/stdout. It exits when its stdin closes, so a ``kill -9`` of
the node leaves no orphans. Every answer is checked for length, so a dead or confused worker can
only cause an error, never a wrong "valid".
"""

from __future__ import annotations

import atexit
import logging
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO

from consortia.codec import encode
from consortia.errors import CryptoError

log = logging.getLogger("consortia.verify")

PROCESS_MIN = 256
"""Batches smaller than this are not worth a round trip to the workers."""

_LEN = struct.Struct(">I")


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LEN.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(4)
    if len(header) < 4:
        return None
    (size,) = _LEN.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


class ProcessVerifier:
    """A fixed set of worker processes verifying one suite's signatures."""

    def __init__(self, suite_name: str, workers: int | None = None) -> None:
        self.suite_name = suite_name
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []

    def _start(self) -> None:
        for _ in range(self.workers):
            self._procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "consortia.crypto.verify_worker", self.suite_name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            )

    def verify_batch(self, items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
        with self._lock:
            if not self._procs or any(p.poll() is not None for p in self._procs):
                self._stop()
                self._start()
            n = len(items)
            step = -(-n // len(self._procs))
            chunks = [items[i : i + step] for i in range(0, n, step)]
            procs = self._procs[: len(chunks)]
            try:
                for proc, chunk in zip(procs, chunks, strict=True):
                    write_frame(proc.stdin, encode(list(chunk)))  # type: ignore[arg-type]
                out: list[bool] = []
                for proc, chunk in zip(procs, chunks, strict=True):
                    answer = read_frame(proc.stdout)  # type: ignore[arg-type]
                    if answer is None or len(answer) != len(chunk):
                        raise CryptoError("a signature worker died or answered wrongly")
                    out.extend(b == 1 for b in answer)
            except (OSError, CryptoError):
                self._stop()
                raise CryptoError("signature workers failed; the batch was not verified") from None
            return out

    def _stop(self) -> None:
        for proc in self._procs:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
            if proc.stdout:
                proc.stdout.close()
        self._procs.clear()

    def close(self) -> None:
        with self._lock:
            self._stop()


_verifiers: dict[str, ProcessVerifier] = {}
_enabled = False


def enable(on: bool = True) -> None:
    """Use worker processes for large batches from now on (a node turns this on)."""
    global _enabled
    _enabled = on


def process_verifier(suite_name: str) -> ProcessVerifier | None:
    if not _enabled:
        return None
    verifier = _verifiers.get(suite_name)
    if verifier is None:
        verifier = _verifiers[suite_name] = ProcessVerifier(suite_name)
    return verifier


@atexit.register
def _close_all() -> None:
    for verifier in _verifiers.values():
        try:
            verifier.close()
        except Exception as exc:  # shutting down: report, never raise
            log.debug("closing verify workers: %s", exc)
