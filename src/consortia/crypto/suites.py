"""Signature suite interface, registry and the shared verification thread pool."""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from consortia.crypto.hashing import HashFn
from consortia.crypto.verify_processes import PROCESS_MIN, process_verifier
from consortia.errors import UnknownSuite

SUITES = ("ed25519", "sm2")

VerifyItem = tuple[bytes, bytes, bytes]
"""(public_key, message, signature)."""

PARALLEL_MIN = 64
"""Batches smaller than this are verified inline on the calling thread."""

_WORKERS = max(1, os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="consortia-verify")
    return _pool


def _reset_pool_after_fork() -> None:
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_after_fork)


class Suite(ABC):
    """A signature scheme together with its hash function."""

    name: str
    hash: HashFn
    public_key_size: int
    signature_size: int
    parallel_verify: bool = True
    """True when the C verify call releases the GIL, so threads give real parallelism."""

    @abstractmethod
    def generate_private_key(self) -> bytes: ...

    @abstractmethod
    def public_key(self, private_key: bytes) -> bytes: ...

    @abstractmethod
    def sign(self, private_key: bytes, message: bytes) -> bytes: ...

    @abstractmethod
    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """True iff valid; never raises, malformed input gives False."""

    @abstractmethod
    def check_public_key(self, public_key: bytes) -> None:
        """Raise CryptoError if ``public_key`` is not a well-formed key of this suite."""

    def verify_many(self, items: Sequence[VerifyItem]) -> list[bool]:
        """Verify on the calling thread (subclasses override with a tighter loop)."""
        verify = self.verify
        return [verify(pk, msg, sig) for pk, msg, sig in items]

    def verify_batch(self, items: Sequence[VerifyItem]) -> list[bool]:
        """Verify many items, spread over all cores when the batch is large."""
        if not isinstance(items, list | tuple):
            items = list(items)
        n = len(items)
        if n < PARALLEL_MIN or _WORKERS < 2:
            return self.verify_many(items)
        if n >= PROCESS_MIN:
            workers = process_verifier(self.name)
            if workers is not None:
                return workers.verify_batch(items)
        if not self.parallel_verify:
            return self.verify_many(items)
        step = -(-n // _WORKERS)
        chunks = [items[i : i + step] for i in range(0, n, step)]
        pool = _get_pool()
        futures = [pool.submit(self.verify_many, chunk) for chunk in chunks[1:]]
        out = self.verify_many(chunks[0])
        for fut in futures:
            out.extend(fut.result())
        return out

    def __repr__(self) -> str:
        return f"<Suite {self.name}>"


_instances: dict[str, Suite] = {}


def get_suite(name: str) -> Suite:
    """The suite called ``name`` ("ed25519" or "sm2")."""
    suite = _instances.get(name) if isinstance(name, str) else None
    if suite is not None:
        return suite
    if name == "ed25519":
        from consortia.crypto.ed25519 import Ed25519Suite

        suite = Ed25519Suite()
    elif name == "sm2":
        from consortia.crypto.sm2 import Sm2Suite

        suite = Sm2Suite()
    else:
        raise UnknownSuite(
            f"unknown signature suite {name!r}; expected one of {list(SUITES)}", suite=str(name)
        )
    return _instances.setdefault(name, suite)
