"""The index database: engines for SQLite and PostgreSQL, migrations, and writing one block.

A URL picks the backend: ``sqlite:///path/index.sqlite3`` (the default, a file in the node's
home) or ``postgresql://user@host:port/db`` (driven by psycopg 3). The schema is created and
upgraded by Alembic (``consortia/index/migrations``) on open.

Writing a block is ONE SQL transaction: check that the recorded height is the block's parent,
insert its rows, apply its object changes, record its height. A writer killed at any point
leaves either all of a block or none of it, so the next run resumes at the next height — no gap,
no duplicate. On SQLite the transaction is ``BEGIN IMMEDIATE`` (the write lock is taken before
the height is read); on PostgreSQL the state row is read ``FOR UPDATE``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Dialect, Engine, LargeBinary, Table, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from consortia.errors import ConfigError, ConsortiaError, IntegrityError
from consortia.index import schema
from consortia.index.extract import BlockRows

log = logging.getLogger("consortia.index")

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "index_schema_version"
DEFAULT_FILE = "index.sqlite3"
WRITE = "consortia_index_write"
"""Execution option of a connection that writes (SQLite: ``BEGIN IMMEDIATE``)."""
OFF = "off"


class IndexDbError(ConsortiaError):
    """The index database cannot be used (unreachable, not this chain's, failed write)."""

    code = "index_error"
    http_status = 503


class IndexUnavailable(ConsortiaError):
    """This node keeps no index (``--index-db off``) or has not opened it yet."""

    code = "index_unavailable"
    http_status = 404


@dataclass(frozen=True, slots=True)
class IndexedHead:
    height: int  # -1: nothing indexed yet
    block_id: bytes | None


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """One table's rows of a block, inserted the fastest way the backend has: on PostgreSQL
    ``COPY … FROM STDIN`` (psycopg), on SQLite the INSERT compiled once and fed plain tuples
    through the driver's ``executemany``. SQLAlchemy's per-row parameter machinery cost more
    than SQLite's own work (a transfer makes 8 rows), and its multi-row INSERTs were slower
    than COPY on PostgreSQL."""

    names: tuple[str, ...]  # row keys, in the statement's column order
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor) on SQLite
    sql: str  # SQLite: the INSERT; PostgreSQL: the COPY

    @classmethod
    def compile(cls, table: Table, dialect: Dialect) -> BulkInsert:
        names = tuple(c.key for c in table.columns)
        if dialect.name == "postgresql":  # COPY's text format takes ints, bools and bytes as they are
            columns = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
            return cls(names, (), f"COPY {table.name} ({columns}) FROM STDIN")
        compiled = table.insert().compile(dialect=dialect, column_keys=list(names))
        names = tuple(compiled.positiontup or names)
        convert = []
        for i, name in enumerate(names):
            column_type = table.columns[name].type
            if isinstance(column_type, LargeBinary):
                continue  # bytes go to sqlite3 as they are (its processor only wraps them)
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                convert.append((i, processor))
        return cls(names, tuple(convert), str(compiled))

    def params(self, rows: list[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
        pick = itemgetter(*self.names)  # every table has several columns: a tuple
        for row in rows:
            try:
                values = list(pick(row))
            except KeyError:  # a row that leaves nullable columns out
                values = [row.get(name) for name in self.names]
            for i, processor in self.convert:
                if values[i] is not None:
                    values[i] = processor(values[i])
            yield tuple(values)

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if self.sql.startswith("COPY"):
            driver = conn.connection.driver_connection  # psycopg, inside this transaction
            assert driver is not None
            with driver.cursor() as cursor, cursor.copy(self.sql) as copy:  # type: ignore[attr-defined]
                for values in self.params(rows):
                    copy.write_row(values)
        else:
            conn.exec_driver_sql(self.sql, list(self.params(rows)))  # type: ignore[arg-type]


def resolve_url(setting: str, home: Path) -> str | None:
    """The database URL of a node's ``index_db`` setting: empty means SQLite in the home,
    ``off`` none, a bare path an SQLite file, a URL as given (``postgresql://`` → psycopg 3)."""
    text = setting.strip()
    if text == OFF:
        return None
    if not text:
        return f"sqlite:///{(home / DEFAULT_FILE).resolve()}"
    if "://" not in text:
        path = Path(text)
        return f"sqlite:///{(path if path.is_absolute() else home / path).resolve()}"
    return text


def engine_for(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///…`` or ``postgresql://…`` (psycopg 3); anything
    else is a :class:`ConfigError`."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(f"index database {url!r} is not a database URL "
                          "(sqlite:///path or postgresql://user@host/db)") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=4, max_overflow=4, pool_pre_ping=True)
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError("the SQLite index needs a file: sqlite:///path/index.sqlite3")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        _sqlite_transactions(engine)
        return engine
    raise ConfigError(f"index database backend {backend!r} is not supported: use sqlite or postgresql")


def _sqlite_transactions(engine: Engine) -> None:
    """SQLite as SQLAlchemy documents it for real transactions: the driver's own implicit
    BEGIN off, ``BEGIN IMMEDIATE`` at the start of each transaction; WAL so readers never wait
    for the writer; ``synchronous=NORMAL`` (a power cut may lose the last blocks indexed, never
    leave half of one: the index resumes from the height it recorded)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        # a writer takes the write lock before it reads the height; readers never take it
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def _alembic(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


class IndexDatabase:
    """One index database: open (migrated to the current schema), write blocks, read."""

    def __init__(
        self, url: str, chain_id: str, genesis_hash: bytes, *, claim: bool = True,
        writer: bool = True,
    ) -> None:  # fmt: skip
        """``claim``: bind an empty database to this chain and refuse another chain's (off
        only to :meth:`reset` a database that may hold another chain). ``writer=False`` opens
        a database another process writes (the node's API beside its index process): no
        migration, no claim; one not yet migrated to this schema is :class:`IndexUnavailable`."""
        self.url = url
        self.chain_id = chain_id
        self.genesis_hash = genesis_hash
        self.engine = engine_for(url)
        self.backend = self.engine.dialect.name
        try:
            if not writer:
                if self.schema_revision() != self.head_revision():
                    raise IndexUnavailable(f"the index database {self.safe_url} is not migrated yet")
                return
            self.migrate()
            if claim:
                self._claim()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise IndexDbError(f"cannot open the index database {self.safe_url}: {_short(exc)}") from None
        except ConsortiaError:
            self.engine.dispose()
            raise

    @cached_property
    def _inserts(self) -> dict[str, BulkInsert]:
        """Each per-height table's bulk insert, compiled at the first write (a reader never does)."""
        return {t.name: BulkInsert.compile(t, self.engine.dialect) for t in schema.PER_HEIGHT}

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden (for messages and status)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in one write transaction (committed on exit, rolled back on error)."""
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            yield conn

    # --- schema -------------------------------------------------------------------------

    def migrate(self) -> None:
        with self.writing() as conn:
            command.upgrade(_alembic(conn), "head")

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(cfg).get_current_head()

    def reset(self) -> None:
        """Drop every table and create them again, empty (``consortia index rebuild``)."""
        try:
            with self.writing() as conn:
                command.downgrade(_alembic(conn), "base")
            self.migrate()
            self._claim()
        except SQLAlchemyError as exc:
            raise IndexDbError(f"cannot reset the index {self.safe_url}: {_short(exc)}") from None

    def _claim(self) -> None:
        """Bind an empty database to this chain, or check that it already is."""
        with self.writing() as conn:
            row = conn.execute(select(schema.index_state)).first()
            if row is None:
                conn.execute(schema.index_state.insert().values(
                    id=1, chain_id=self.chain_id, genesis_hash=self.genesis_hash, height=-1,
                    block_id=None))  # fmt: skip
                return
        if row.chain_id != self.chain_id or bytes(row.genesis_hash) != self.genesis_hash:
            raise ConfigError(
                f"the index database {self.safe_url} holds chain {row.chain_id!r} of another "
                "genesis; give this node its own database or run `consortia index rebuild`"
            )

    # --- writing ------------------------------------------------------------------------

    def head(self) -> IndexedHead:
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.index_state.c.height, schema.index_state.c.block_id)).one()
        return IndexedHead(int(row.height), bytes(row.block_id) if row.block_id is not None else None)

    def write_block(self, rows: BlockRows) -> bool:
        """Add one block in one SQL transaction; False (and nothing written) if that height is
        already indexed. A height that is not the next one is an :class:`IntegrityError`."""
        with self.writing() as conn:
            state = schema.index_state
            query = select(state.c.height, state.c.block_id).where(state.c.id == 1)
            if self.backend == "postgresql":
                query = query.with_for_update()
            current = conn.execute(query).one()
            if current.height >= rows.height:
                return False
            if current.height != rows.height - 1:
                raise IntegrityError(
                    f"index is at height {current.height}; block {rows.height} cannot follow it")
            for table in schema.PER_HEIGHT:
                batch = rows.rows.get(table.name)
                if batch:
                    self._inserts[table.name].run(conn, batch)
            for change in rows.objects:
                apply_object(conn, change.table, change.key, change.values)
            conn.execute(update(state).where(state.c.id == 1).values(
                height=rows.height, block_id=rows.block_id))  # fmt: skip
        return True

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for queries, in a read transaction: one consistent view of the index
        (on SQLite a WAL reader, never blocking the writer; on PostgreSQL REPEATABLE READ)."""
        options = {"isolation_level": "REPEATABLE READ"} if self.backend == "postgresql" else {}
        with self.engine.connect().execution_options(**options) as conn, conn.begin():
            if self.backend == "postgresql":
                # Every paged query orders by an index it fixes the leading columns of (see
                # queries._page). PostgreSQL may instead walk the height index backwards, filter
                # and sort incrementally — it assumes an account's entries spread evenly over
                # heights: 78 ms instead of 0.08 ms for the newest page of a 100k-entry history
                # whose entries are old. Without incremental sort that plan is never cheaper.
                conn.exec_driver_sql("SET LOCAL enable_incremental_sort = off")
            yield conn


def apply_object(conn: Connection, table_name: str, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the object named by ``key``, or insert it with ``values`` if it is new. A change
    to an object the index never saw created (its creating event predates a snapshot, say) is
    skipped when it lacks a required column (the same way on every run: rebuilds agree)."""
    table = schema.metadata.tables[table_name]
    where = [table.c[k] == v for k, v in key.items()]
    done = conn.execute(update(table).where(*where).values(**values))
    if done.rowcount == 0:
        row = {**key, **values}
        if all(c.name in row for c in table.columns if not c.nullable):
            conn.execute(table.insert().values(**row))


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split())[:300]
