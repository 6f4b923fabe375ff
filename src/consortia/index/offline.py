"""The index of a stopped node, from its home: ``consortia index check|rebuild --home DIR``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from consortia.crypto.suites import Suite, get_suite
from consortia.errors import ConfigError
from consortia.index.check import CheckReport, check_index
from consortia.index.database import IndexDatabase, resolve_url
from consortia.index.follower import index_to
from consortia.ledger.chain_store import ChainStore
from consortia.node.config import DATA_DIR, GENESIS_FILE
from consortia.node.genesis import genesis_hash, load_genesis
from consortia.types.genesis import Genesis


@dataclass
class HomeIndex:
    store: ChainStore
    genesis: Genesis
    suite: Suite
    db: IndexDatabase


@contextmanager
def open_home_index(home: Path, index_db: str = "", *, claim: bool = True) -> Iterator[HomeIndex]:
    """A node home's chain store and index database (``index_db`` as ``node start`` takes it)."""
    if not (home / GENESIS_FILE).exists() or not (home / DATA_DIR).is_dir():
        raise ConfigError(f"{home} is not a node home with chain data ({GENESIS_FILE} and {DATA_DIR}/)")
    url = resolve_url(index_db, home)
    if url is None:
        raise ConfigError("--index-db off: there is no index to check or rebuild")
    genesis = load_genesis(home / GENESIS_FILE)
    store = ChainStore(home / DATA_DIR)
    try:
        db = IndexDatabase(url, genesis.chain_id, genesis_hash(genesis), claim=claim)
        try:
            yield HomeIndex(store, genesis, get_suite(genesis.suite), db)
        finally:
            db.close()
    finally:
        store.close()


def rebuild(home: Path, index_db: str = "", progress: Callable[[int], None] = lambda _h: None) -> int:
    """Drop the index and index the whole stored chain again; the height reached."""
    with open_home_index(home, index_db, claim=False) as h:
        h.db.reset()
        head = h.store.head()
        return index_to(h.db, h.store, h.suite, h.genesis, -1 if head is None else head.height,
                        on_block=progress)


def check(home: Path, index_db: str = "", from_height: int = 0, to_height: int | None = None,
          progress: Callable[[int], None] = lambda _h: None) -> CheckReport:  # fmt: skip
    with open_home_index(home, index_db) as h:
        return check_index(h.db, h.store, h.suite, h.genesis, from_height, to_height, progress)
