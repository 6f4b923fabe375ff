"""``consortia index check``: compare the index with the chain and report every difference.

For each block in the range, the rows the index should hold are derived again from the stored
block and receipts (:func:`~.extract.block_rows`) and compared with the rows the index holds at
that height, table by table, key by key, column by column. Rows above the indexed height are
differences too. When the whole chain is checked, the object tables (proposals, wallets) are
compared with the fold of every block's object changes, and the recorded head with the chain's
block id at that height.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, select

from consortia.crypto.suites import Suite
from consortia.index import schema
from consortia.index.database import IndexDatabase
from consortia.index.extract import BlockRows, ObjectChange, block_rows
from consortia.index.follower import ChainSource
from consortia.types.genesis import Genesis

MAX_DIFFERENCES = 100
CHUNK_BLOCKS = 256


@dataclass
class CheckReport:
    from_height: int
    to_height: int
    indexed_height: int
    chain_height: int
    blocks_checked: int = 0
    rows_checked: int = 0
    objects_checked: bool = False
    differences: list[str] = field(default_factory=list)
    more_differences: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def differ(self, text: str) -> None:
        if len(self.differences) < MAX_DIFFERENCES:
            self.differences.append(text)
        else:
            self.more_differences += 1

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "from_height": self.from_height, "to_height": self.to_height,
                "indexed_height": self.indexed_height, "chain_height": self.chain_height,
                "blocks_checked": self.blocks_checked, "rows_checked": self.rows_checked,
                "objects_checked": self.objects_checked, "differences": self.differences,
                "more_differences": self.more_differences}  # fmt: skip


def _norm(value: Any) -> Any:
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def _key_of(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in table.primary_key.columns)


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value)


def _compare(report: CheckReport, where: str, table: Table, expected: list[dict[str, Any]],
             actual: list[dict[str, Any]]) -> None:  # fmt: skip
    want = {_key_of(table, r): r for r in expected}
    have = {_key_of(table, r): r for r in actual}
    if len(have) != len(actual):
        report.differ(f"{where}: {table.name} has duplicate keys")
    for key in sorted(want.keys() - have.keys(), key=repr):
        report.differ(f"{where}: {table.name} is missing row {_show_key(key)}")
    for key in sorted(have.keys() - want.keys(), key=repr):
        report.differ(f"{where}: {table.name} has a row the chain does not give: {_show_key(key)}")
    for key in sorted(want.keys() & have.keys(), key=repr):
        w, h = want[key], have[key]
        for column in table.columns:
            a, b = w.get(column.name), _norm(h.get(column.name))
            if a != b:
                report.differ(f"{where}: {table.name} row {_show_key(key)} column {column.name}: "
                              f"index {_show(b)}, chain {_show(a)}")
    report.rows_checked += len(actual)


def _show_key(key: tuple[Any, ...]) -> str:
    return "(" + ", ".join(_show(k) for k in key) + ")"


def _rows(conn: Connection, table: Table, low: int, high: int) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    query = select(table).where(table.c.height >= low, table.c.height <= high)
    for row in conn.execute(query):
        values = {k: _norm(v) for k, v in row._mapping.items()}
        out.setdefault(values["height"], []).append(values)
    return out


def fold_objects(objects: dict[str, dict[tuple[Any, ...], dict[str, Any]]], change: ObjectChange) -> None:
    """The object tables as :func:`~.database.apply_object` leaves them, in memory."""
    table = schema.metadata.tables[change.table]
    rows = objects.setdefault(change.table, {})
    key = tuple(change.key[c.name] for c in table.primary_key.columns)
    if key in rows:
        rows[key].update(change.values)
        return
    row = {**change.key, **change.values}
    if all(c.name in row for c in table.columns if not c.nullable):
        rows[key] = {c.name: row.get(c.name) for c in table.columns}


def check_index(
    db: IndexDatabase, source: ChainSource, suite: Suite, genesis: Genesis,
    from_height: int = 0, to_height: int | None = None,
    progress: Callable[[int], None] = lambda _h: None,
) -> CheckReport:  # fmt: skip
    """Compare the index with the chain over ``[from_height, to_height]`` (default: all of it)."""
    head = source.head()
    chain_height = -1 if head is None else head.height
    indexed = db.head()
    top = indexed.height if to_height is None else min(to_height, indexed.height)
    report = CheckReport(from_height, top, indexed.height, chain_height)
    if indexed.height > chain_height:
        report.differ(f"the index is at height {indexed.height}, above the chain's head {chain_height}")
        top = min(top, chain_height)
    whole = from_height == 0 and top == indexed.height
    objects: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    with db.reading() as conn:
        for low in range(from_height, top + 1, CHUNK_BLOCKS):
            high = min(top, low + CHUNK_BLOCKS - 1)
            stored = {t.name: _rows(conn, t, low, high) for t in schema.PER_HEIGHT}
            for height in range(low, high + 1):
                expected = _expected(source, suite, genesis, height)
                where = f"height {height}"
                for table in schema.PER_HEIGHT:
                    _compare(report, where, table, expected.rows.get(table.name, []),
                             stored[table.name].get(height, []))
                for change in expected.objects:
                    fold_objects(objects, change)
                report.blocks_checked += 1
            progress(high)
        for table in schema.PER_HEIGHT:
            above = conn.execute(select(func.count()).select_from(table)
                                 .where(table.c.height > indexed.height)).scalar_one()  # fmt: skip
            if above:
                report.differ(f"{table.name} has {above} rows above the indexed height {indexed.height}")
        if whole:
            _check_objects(report, conn, objects)
            if indexed.height >= 0 and indexed.height <= chain_height:
                block_id = source.block(indexed.height).qc.block_id
                if indexed.block_id != block_id:
                    report.differ(f"the index's head block id 0x{(indexed.block_id or b'').hex()} is "
                                  f"not the chain's 0x{block_id.hex()} at height {indexed.height}")
    return report


def _expected(source: ChainSource, suite: Suite, genesis: Genesis, height: int) -> BlockRows:
    return block_rows(source.block(height), source.receipts(height), suite,
                      genesis if height == 0 else None)


def _check_objects(report: CheckReport, conn: Connection,
                   objects: dict[str, dict[tuple[Any, ...], dict[str, Any]]]) -> None:  # fmt: skip
    for table in schema.OBJECTS:
        actual = [{k: _norm(v) for k, v in r._mapping.items()} for r in conn.execute(select(table))]
        _compare(report, "objects", table, list(objects.get(table.name, {}).values()), actual)
    report.objects_checked = True
