"""Storage faults: the store's real LMDB environment, with one chosen write going wrong.

A node's writes are numbered from its start. Two faults, each at one write of an incarnation:

* **torn** — the process dies while the write transaction is in flight. LMDB is transactional,
  so a torn last write is one that never happened: the transaction is aborted and the node is
  dead at once (nothing it does afterwards reaches the disk or the network). After the restart
  the node must not trust anything of that write.
* **fsync failure** — the commit reports an I/O error. The data may or may not be on disk
  (``durable``); the node must halt (it cannot know which), and is restarted cleanly.

After the node is dead every call fails, so stray callbacks of a dead incarnation are inert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lmdb


@dataclass(frozen=True, slots=True)
class StorageFaults:
    torn_at: int | None = None
    fsync_fail_at: int | None = None
    durable: bool = False

    def describe(self) -> str:
        parts = []
        if self.torn_at is not None:
            parts.append(f"crash during write #{self.torn_at}")
        if self.fsync_fail_at is not None:
            kept = "reached disk" if self.durable else "lost"
            parts.append(f"fsync of write #{self.fsync_fail_at} fails ({kept})")
        return ", ".join(parts) or "none"


class FaultyEnv:
    """Wraps ``lmdb.Environment``: reads pass through, writes are counted and may fail."""

    def __init__(self, env: lmdb.Environment, faults: StorageFaults,
                 on_torn: Callable[[], None], on_fsync_failure: Callable[[], None]) -> None:
        self._env = env
        self.faults = faults
        self.writes = 0
        self.dead = False
        self._on_torn = on_torn
        self._on_fsync_failure = on_fsync_failure

    def begin(self, *args: Any, write: bool = False, **kwargs: Any) -> Any:
        if self.dead:
            raise lmdb.Error("simulated: this process is dead")
        if not write:
            return self._env.begin(*args, **kwargs)
        self.writes += 1
        txn = self._env.begin(*args, write=True, **kwargs)
        if self.writes == self.faults.torn_at:
            return _FaultTxn(txn, self, torn=True)
        if self.writes == self.faults.fsync_fail_at:
            return _FaultTxn(txn, self, torn=False)
        return txn

    def close(self) -> None:
        self.dead = True
        self._env.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class _FaultTxn:
    def __init__(self, txn: lmdb.Transaction, env: FaultyEnv, torn: bool) -> None:
        self._txn = txn
        self._env = env
        self._torn = torn

    def __enter__(self) -> _FaultTxn:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        if exc_type is not None:
            self._txn.abort()
            return False
        self.commit()
        return False

    def commit(self) -> None:
        env = self._env
        if self._torn:
            self._txn.abort()
            env.dead = True
            env._on_torn()
            raise lmdb.Error("simulated crash: the process died before this write committed")
        if env.faults.durable:
            self._txn.commit()
        else:
            self._txn.abort()
        env._on_fsync_failure()
        raise lmdb.Error("simulated fsync failure: EIO")

    def abort(self) -> None:
        self._txn.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._txn, name)
