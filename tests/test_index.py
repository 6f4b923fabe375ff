"""The SQL index against real databases: SQLite files and a real PostgreSQL server (a throwaway
cluster started by ``tests/pg.py``), over a real chain (blocks executed and committed to LMDB).

History adds up to balances, pages are complete and disjoint, the check finds tampering, a
rebuild gives the same tables, and a writer interrupted between any two statements — by an
exception or by ``kill -9`` of its process — resumes with no gap and no duplicate.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, event, insert, inspect, select, update
from tests.conftest import ChainFixture, make_chain
from tests.pg import fresh_database, postgres_server

from consortia.errors import ConfigError
from consortia.index import queries, schema
from consortia.index.check import check_index
from consortia.index.database import VERSION_TABLE, BulkInsert, IndexDatabase, engine_for, resolve_url
from consortia.index.follower import IndexFollower, index_to
from consortia.index.queries import InvalidQuery
from consortia.node.config import GENESIS_FILE
from consortia.node.genesis import genesis_hash, genesis_to_json

ACCOUNTS = 6
BALANCE = 1_000_000
BLOCKS = 40


# --- fixtures: one chain, one PostgreSQL server, a fresh database per test ----------------------


def _grow(tc: ChainFixture, rng: random.Random, blocks: int) -> None:
    nonces = [_nonce(tc, i) for i in range(len(tc.accounts))]
    for _ in range(blocks):
        raws = []
        for _ in range(rng.randrange(0, 5)):
            sender = rng.randrange(len(tc.accounts))
            to = tc.accounts[rng.randrange(len(tc.accounts))].address  # sometimes itself
            raws.append(tc.transfer(sender, to, rng.randrange(1, 500), nonces[sender], expiry=10_000))
            nonces[sender] += 1
        results = tc.submit(raws)
        assert all(r.error is None for r in results), results
        tc.produce()


def _nonce(tc: ChainFixture, i: int) -> int:
    from consortia.node import queries as node_queries

    account = node_queries.account(tc.chain, tc.accounts[i].address)
    return account.nonce if account else 0


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainFixture]:
    home = tmp_path_factory.mktemp("chain-home")
    tc = make_chain(home / "data", accounts=ACCOUNTS, balance=BALANCE)
    (home / GENESIS_FILE).write_text(genesis_to_json(tc.genesis))  # a node home for the CLI
    _grow(tc, random.Random(13), BLOCKS)
    yield tc
    tc.chain.store.close()


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite3'}"
    return fresh_database(request.getfixturevalue("pg_server"), "t" + uuid.uuid4().hex[:12])


def _open(tc: ChainFixture, url: str) -> IndexDatabase:
    return IndexDatabase(url, tc.genesis.chain_id, genesis_hash(tc.genesis))


def _index_all(tc: ChainFixture, db: IndexDatabase) -> int:
    return index_to(db, tc.chain.store, tc.chain.suite, tc.genesis, tc.chain.head.height)


def dump(db: IndexDatabase) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in key order, bytes as bytes (comparable across runs)."""
    out = {}
    with db.reading() as conn:
        for table in schema.ALL_TABLES:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    return out


# --- history ------------------------------------------------------------------------------------


def test_history_adds_up_to_every_balance_and_pages_are_complete(chain: ChainFixture, db_url: str) -> None:
    db = _open(chain, db_url)
    try:
        assert _index_all(chain, db) == chain.chain.head.height
        with db.reading() as conn:
            for key in chain.accounts:
                newest_first = _all_pages(conn, key.address, "desc", 7)
                oldest_first = _all_pages(conn, key.address, "asc", 11)
                assert newest_first == list(reversed(oldest_first))
                keys = [(i["height"], i["tx_idx"], i["seq"]) for i in oldest_first]
                assert keys == sorted(set(keys)), "pages overlap or skip"
                received = sum(i["amount"] for i in oldest_first if i["role"] == "in")
                paid = sum(i["amount"] for i in oldest_first if i["role"] == "out")
                from consortia.node import queries as node_queries

                balance = node_queries.account(chain.chain, key.address).balance
                assert received - paid == balance, (received, paid, balance)  # genesis is an "in"
                # every payment names its counterparty and the transfer it came from
                sent = {i["tx_hash"]: i for i in oldest_first if i["role"] == "out"}
                for tx_hash, item in sent.items():
                    tx = queries.transaction(conn, bytes.fromhex(tx_hash[2:]))
                    assert tx is not None and tx["sender"] == "0x" + key.address.hex()
                    assert tx["args"] == {"to": item["counterparty"], "amount": item["amount"]}
                calls = [i for i in oldest_first if i["role"] == "call"]
                assert len(calls) == _nonce_of(chain, key.address)
                assert all(c["contract"] == "currency" and c["status"] == "ok" for c in calls)
    finally:
        db.close()


def _nonce_of(tc: ChainFixture, address: bytes) -> int:
    from consortia.node import queries as node_queries

    account = node_queries.account(tc.chain, address)
    return account.nonce if account else 0


def _all_pages(conn: Any, address: bytes, order: str, size: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = queries.account_history(conn, address, cursor=cursor, limit=size, order=order)
        assert len(page.items) <= size
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


def test_transaction_and_event_queries(chain: ChainFixture, db_url: str) -> None:
    db = _open(chain, db_url)
    try:
        _index_all(chain, db)
        with db.reading() as conn:
            everything = queries.transactions(conn, limit=1000).items
            assert everything and all(t["contract"] == "currency" for t in everything)
            window = queries.transactions(conn, contract="currency", method="transfer",
                                          from_height=10, to_height=20, limit=1000).items
            assert window == [t for t in everything if 10 <= t["height"] <= 20]
            sender = chain.accounts[0].address
            mine = queries.transactions(conn, sender=sender, order="asc", limit=1000).items
            assert [t["nonce"] for t in mine] == list(range(len(mine)))
            party = chain.accounts[1].address
            evs = queries.events(conn, party=party, limit=1000).items
            assert evs and all("0x" + party.hex() in (e["fields"]["from"], e["fields"]["to"]) for e in evs)
            named = queries.events(conn, contract="currency", name="Transfer", limit=1000).items
            assert len(named) == len(everything)
            assert queries.transactions(conn, status="insufficient_balance").items == []
            for bad in (lambda: queries.account_history(conn, sender, cursor="1:2"),
                        lambda: queries.account_history(conn, sender, cursor="x"),
                        lambda: queries.account_history(conn, sender, limit=0),
                        lambda: queries.account_history(conn, sender, limit=1001),
                        lambda: queries.account_history(conn, sender, order="sideways"),
                        lambda: queries.account_history(conn, sender, role="thief"),
                        lambda: queries.transactions(conn, method="transfer"),
                        lambda: queries.transactions(conn, from_height=9, to_height=3),
                        lambda: queries.events(conn, name="Transfer")):
                with pytest.raises(InvalidQuery):
                    bad()
    finally:
        db.close()


# --- check, rebuild, migrations ------------------------------------------------------------------


def test_check_finds_every_kind_of_difference(chain: ChainFixture, db_url: str) -> None:
    db = _open(chain, db_url)
    try:
        _index_all(chain, db)
        clean = check_index(db, chain.chain.store, chain.chain.suite, chain.genesis)
        assert clean.ok and clean.objects_checked, clean.differences
        assert clean.blocks_checked == chain.chain.head.height + 1 and clean.rows_checked > 0
        h, m = schema.account_history, schema.movements
        with db.engine.begin() as conn:
            victim = conn.execute(select(h).where(h.c.role == "in", h.c.height > 0).limit(1)).one()
            conn.execute(update(h).where(h.c.address == victim.address, h.c.height == victim.height,
                                         h.c.tx_idx == victim.tx_idx, h.c.seq == victim.seq)
                         .values(amount=victim.amount + 1))  # fmt: skip
            gone = conn.execute(select(m).where(m.c.height > 0).limit(1)).one()
            conn.execute(delete(m).where(m.c.height == gone.height, m.c.tx_idx == gone.tx_idx,
                                         m.c.seq == gone.seq))  # fmt: skip
            conn.execute(insert(schema.events).values(
                height=3, tx_idx=99, ev_idx=0, tx_hash=b"\0" * 32, contract="x", name="Forged",
                data=b"\x90", fields="{}"))  # fmt: skip
        report = check_index(db, chain.chain.store, chain.chain.suite, chain.genesis)
        text = "\n".join(report.differences)
        assert not report.ok and len(report.differences) == 3, text
        assert f"height {victim.height}: account_history row" in text and "column amount" in text
        assert f"height {gone.height}: movements is missing row" in text
        assert "height 3: events has a row the chain does not give" in text
        partial = check_index(db, chain.chain.store, chain.chain.suite, chain.genesis, 4, 4)
        assert partial.blocks_checked == 1 and not partial.objects_checked
    finally:
        db.close()


def test_rebuilt_from_scratch_gives_the_same_tables(chain: ChainFixture, db_url: str) -> None:
    db = _open(chain, db_url)
    try:
        _index_all(chain, db)
        before = dump(db)
        assert sum(len(rows) for rows in before.values()) > 5 * BLOCKS
        db.reset()
        assert dump(db)["blocks"] == []
        _index_all(chain, db)
        assert dump(db) == before
        assert _index_all(chain, db) == chain.chain.head.height  # again: nothing to do, no duplicate
        assert dump(db) == before
    finally:
        db.close()


def test_migrations_give_exactly_the_schema_and_downgrade_to_nothing(
    chain: ChainFixture, db_url: str
) -> None:
    db = _open(chain, db_url)
    try:
        assert db.schema_revision() == IndexDatabase.head_revision() == "0002"
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": False,  # Amount is a dialect-specific type; columns, keys, indexes
                "include_name": lambda name, kind, _parent: kind != "table" or name != VERSION_TABLE,
            })  # fmt: skip
            diff = compare_metadata(context, schema.metadata)
        assert diff == [], diff
        # amounts up to 2**64 - 1 are exact on both backends
        with db.engine.begin() as conn:
            conn.execute(insert(schema.movements).values(height=10**12, tx_idx=0, seq=0, tx_hash=None,
                                                         kind="test", from_addr=None, to_addr=b"\1" * 20,
                                                         amount=2**64 - 1))  # fmt: skip
            back = conn.execute(select(schema.movements.c.amount).where(
                schema.movements.c.height == 10**12)).scalar_one()  # fmt: skip
            assert back == 2**64 - 1 and isinstance(back, int)
        db.engine.dispose()
        from alembic import command

        from consortia.index.database import _alembic

        with db.engine.begin() as conn:
            command.downgrade(_alembic(conn), "base")
        names = set(inspect(db.engine).get_table_names())
        assert not names & {t.name for t in schema.ALL_TABLES}, names
    finally:
        db.close()


def test_a_database_of_another_chain_or_a_bad_url_is_refused(chain: ChainFixture, db_url: str,
                                                             tmp_path: Path) -> None:  # fmt: skip
    _open(chain, db_url).close()
    with pytest.raises(ConfigError, match="another genesis"):
        IndexDatabase(db_url, chain.genesis.chain_id, b"\x01" * 32)
    with pytest.raises(ConfigError, match="not a database URL"):
        engine_for("postgresql://:::")
    with pytest.raises(ConfigError, match="not supported"):
        engine_for("mysql://u@h/db")
    with pytest.raises(ConfigError, match="needs a file"):
        engine_for("sqlite://")
    assert resolve_url("off", tmp_path) is None
    assert resolve_url("", tmp_path) == f"sqlite:///{tmp_path.resolve() / 'index.sqlite3'}"
    assert resolve_url("idx.db", tmp_path) == f"sqlite:///{tmp_path.resolve() / 'idx.db'}"


# --- resumability --------------------------------------------------------------------------------


class Crash(Exception):
    """Injected between two SQL statements of the writer (or in the middle of a bulk insert)."""


def test_an_exception_between_any_two_statements_leaves_no_gap_and_no_duplicate(
    chain: ChainFixture, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _open(chain, f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    _index_all(chain, reference)
    expected = dump(reference)
    reference.close()

    db = _open(chain, db_url)
    executed = 0
    fail_at = [0]
    crashes = 0
    target = 12  # blocks indexed under crashes (then the rest without)

    def maybe_crash(*_args: Any) -> None:
        nonlocal executed
        executed += 1
        if executed == fail_at[0]:
            raise Crash(f"statement {executed}")

    bulk_insert = BulkInsert.params

    def crashing_rows(self: BulkInsert, rows: list[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
        for i, values in enumerate(bulk_insert(self, rows)):
            if i == len(rows) // 2:
                maybe_crash()  # PostgreSQL's COPY is no cursor execute: fail it half-way
            yield values

    if db.backend == "postgresql":  # (on SQLite the bulk insert is one cursor execute)
        monkeypatch.setattr(BulkInsert, "params", crashing_rows)
    event.listen(db.engine, "before_cursor_execute", maybe_crash)
    try:
        step = 1
        while db.head().height < target:
            executed = 0
            fail_at[0] = step  # the 1st, 2nd, 3rd … statement of this run fails
            step = step % 16 + 1  # past the statements of the largest block (and the reads before)
            try:
                index_to(db, chain.chain.store, chain.chain.suite, chain.genesis, target)
            except Crash:
                crashes += 1
            fail_at[0] = 0
            with db.reading() as conn:
                heights = list(conn.execute(select(schema.blocks.c.height).order_by(schema.blocks.c.height)))
            assert [h for (h,) in heights] == list(range(db.head().height + 1)), "a gap or a duplicate"
        assert crashes >= 2 * target
    finally:
        event.remove(db.engine, "before_cursor_execute", maybe_crash)
        monkeypatch.undo()
    try:
        _index_all(chain, db)
        assert dump(db) == expected
        assert check_index(db, chain.chain.store, chain.chain.suite, chain.genesis).ok
    finally:
        db.close()


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from consortia.index.offline import open_home_index
    from consortia.index.follower import index_to
    home, url = Path(sys.argv[1]), sys.argv[2]
    with open_home_index(home, url) as h:
        print("open", flush=True)
        index_to(h.db, h.store, h.suite, h.genesis, h.store.head().height,
                 on_block=lambda _h: time.sleep(0.002))
    print("done", flush=True)
""")


def test_kill_9_of_the_writer_process_mid_block_resumes_with_no_gap(chain: ChainFixture, db_url: str,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    home = chain.path.parent
    reference = _open(chain, f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    _index_all(chain, reference)
    expected = dump(reference)
    reference.close()
    rng = random.Random(7)
    kills = 0
    for _attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(home), db_url],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
            time.sleep(rng.uniform(0.0, 0.04))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        db = _open(chain, db_url)
        try:
            rows = dump(db)
            indexed = db.head().height
            assert [r[0] for r in rows["blocks"]] == list(range(indexed + 1)), "a gap or a duplicate"
            if indexed == chain.chain.head.height:
                break
        finally:
            db.close()
    assert kills >= 3
    db = _open(chain, db_url)
    try:
        _index_all(chain, db)  # whatever the kills left, finishing gives the reference tables
        assert dump(db) == expected
        assert check_index(db, chain.chain.store, chain.chain.suite, chain.genesis).ok
    finally:
        db.close()


# --- the follower thread -------------------------------------------------------------------------


def test_the_follower_thread_keeps_up_and_reports_its_lag(tmp_path: Path) -> None:
    tc = make_chain(tmp_path / "data", accounts=3, balance=BALANCE)
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    follower = IndexFollower(lambda: _open(tc, url), tc.chain.store, tc.chain.suite, tc.genesis)
    tc.chain.listeners.append(lambda executed, _c: follower.notify(executed.header.height))
    follower.start()
    try:
        _grow(tc, random.Random(3), 15)
        deadline = time.monotonic() + 30
        while follower.indexed_height() < tc.chain.head.height and time.monotonic() < deadline:
            time.sleep(0.02)
        status = follower.status(tc.chain.head.height)
        assert status["indexed_height"] == tc.chain.head.height and status["lag_blocks"] == 0, status
        assert status["error"] is None and status["backend"] == "sqlite"
        assert status["recent_lag_samples"] >= 10 and status["recent_lag_p99_s"] < 5
        assert follower.lag_seconds() == 0.0
    finally:
        follower.stop()
        tc.chain.store.close()


def test_an_unreachable_database_delays_the_index_never_the_chain(tmp_path: Path) -> None:
    tc = make_chain(tmp_path / "data", accounts=2, balance=BALANCE)
    dead = f"postgresql://nobody@127.0.0.1:{_closed_port()}/none"
    follower = IndexFollower(lambda: _open(tc, dead), tc.chain.store, tc.chain.suite, tc.genesis)
    tc.chain.listeners.append(lambda executed, _c: follower.notify(executed.header.height))
    follower.start()
    try:
        _grow(tc, random.Random(5), 3)  # blocks commit while the index cannot open
        deadline = time.monotonic() + 20
        while follower.stats.error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        status = follower.status(tc.chain.head.height)
        assert status["error"] and "cannot open the index database" in status["error"], status
        assert status["lag_blocks"] == tc.chain.head.height + 1 and follower.lag_seconds() > 0
    finally:
        follower.stop()
        tc.chain.store.close()


def _closed_port() -> int:
    from tests.procs import free_port

    return free_port()


def test_postgresql_pages_an_old_history_through_its_own_index(pg_server: str) -> None:
    """An account whose entries are all older than everyone else's: PostgreSQL once walked the
    height index backwards filtering every newer row (42 ms for a 100k history); the paged
    query must read the account's own index range whatever the statistics say."""
    db = IndexDatabase(fresh_database(pg_server, "plan" + uuid.uuid4().hex[:8]), "plan", b"\0" * 32)
    try:
        h = schema.account_history
        old, others = b"\x01" * 20, [bytes([2 + i % 200]) * 20 for i in range(200)]
        entry = {"tx_idx": 0, "seq": 0, "role": "call", "status": "ok"}
        rows = [{**entry, "address": old, "height": n} for n in range(3_000)]
        rows += [{**entry, "address": others[n % 200], "height": 3_000 + n} for n in range(30_000)]
        with db.writing() as conn:
            conn.execute(h.insert(), rows)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE account_history")
            conn.commit()
        with db.reading() as conn:
            page = queries.account_history(conn, old, limit=50)
            assert [e["height"] for e in page.items] == list(range(2_999, 2_949, -1))
            query = (select(h).where(h.c.address == old)
                     .order_by(h.c.address.desc(), h.c.height.desc(), h.c.tx_idx.desc(), h.c.seq.desc())
                     .limit(51))  # fmt: skip
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
        assert "account_history_pkey" in plan and "Incremental Sort" not in plan, plan
    finally:
        db.close()
