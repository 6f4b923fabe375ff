"""``consortia history``, ``consortia txs`` and ``consortia index ...``: the SQL index.

* ``history ADDRESS`` — an account's calls and the payments it made and received, with
  counterparties (newest first; ``--all`` follows every page);
* ``txs --contract C [--method M] [--status S] [--sender A] [--from-height H] [--to-height H]``;
* ``index status`` (a node's index: height, lag, backend), ``index events`` (events by contract,
  name or party), ``index check`` (compare the index with the chain: through a node with
  ``--node``, or a stopped node's home with ``--home``), ``index rebuild --home`` (stopped node).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from consortia.cli.connect import connect
from consortia.cli.options import JSON, NODE, READ_KEY
from consortia.cli.output import console, emit, handles_errors, plain_text, shorten
from consortia.client.arguments import InvalidArgument, check_height, parse_int_text
from consortia.client.index import IndexQueries

LIMIT = typer.Option(50, "--limit", help="Items per page (1-1000).")
CURSOR = typer.Option(None, "--cursor", help="next_cursor printed by the previous page.")
ORDER = typer.Option("desc", "--order", help="desc (newest first) or asc.")
FROM_HEIGHT = typer.Option(None, "--from-height", help="Lowest block height.")
TO_HEIGHT = typer.Option(None, "--to-height", help="Highest block height.")
INDEX_DB = typer.Option("", "--index-db", help="The node's index database, as given to node start.")
MAX_ALL = 100_000

index_app = typer.Typer(no_args_is_help=True, help="The SQL index: status, events, check, rebuild.")


def register(app: typer.Typer) -> None:
    """Add ``history``, ``txs`` and ``index`` to the main CLI."""
    app.command("history")(history_command)
    app.command("txs")(txs_command)
    app.add_typer(index_app, name="index")


def _height(text: str | None, what: str) -> int | None:
    return None if text is None else check_height(parse_int_text(text, what), what)


def _short(value: Any, width: int = 14) -> str:
    """A value cut to ``width`` for a person at a terminal; whole into a pipe or a file."""
    return shorten("" if value is None else str(value), width - 1)


def history_table(items: list[dict[str, Any]]) -> Table:
    table = Table(box=None)
    for name in ("height", "role", "kind", "counterparty", "amount", "call", "status", "tx"):
        table.add_column(name)
    for i in items:
        call = f"{i.get('contract') or ''}.{i.get('method') or ''}".strip(".")
        table.add_row(str(i["height"]), i["role"], escape(str(i.get("kind") or "")),
                      i.get("counterparty") or "", "" if i.get("amount") is None else str(i["amount"]),
                      escape(call), escape(str(i["status"])), _short(i.get("tx_hash")))  # fmt: skip
    return table


@handles_errors
def history_command(
    address: str = typer.Argument(..., help="Account address (0x + 40 hex digits)."),
    role: str = typer.Option(None, "--role", help="call, out (paid) or in (received)."),
    order: str = ORDER,
    limit: int = LIMIT,
    cursor: str = CURSOR,
    all_pages: bool = typer.Option(False, "--all", help=f"Follow every page (at most {MAX_ALL})."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """An account's history from the node's SQL index: calls, payments made and received."""
    with connect(node, key) as client:
        queries = IndexQueries(client)
        if all_pages:
            items = queries.history_all(address, role=role, order=order, max_items=MAX_ALL)
            data: dict[str, Any] = {"address": address, "items": items, "next_cursor": None}
        else:
            data = {"address": address,
                    **queries.history(address, role=role, order=order, cursor=cursor, limit=limit)}

    def human() -> None:
        console.print(history_table(data["items"]))
        if data.get("next_cursor"):
            console.print(f"more: --cursor {data['next_cursor']}")

    emit(data, as_json, human)


@handles_errors
def txs_command(
    contract: str = typer.Option(None, "--contract", help="Contract name."),
    method: str = typer.Option(None, "--method", help="Method (with --contract)."),
    status: str = typer.Option(None, "--status", help="ok, or an error code."),
    sender: str = typer.Option(None, "--sender", help="Sender address."),
    from_height: str = FROM_HEIGHT,
    to_height: str = TO_HEIGHT,
    order: str = ORDER,
    limit: int = LIMIT,
    cursor: str = CURSOR,
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Transactions from the node's SQL index by contract, method, status, sender, heights."""
    low, high = _height(from_height, "--from-height"), _height(to_height, "--to-height")
    with connect(node, key) as client:
        data = IndexQueries(client).txs(contract=contract, method=method, status=status, sender=sender,
                                        from_height=low, to_height=high, order=order, cursor=cursor,
                                        limit=limit)  # fmt: skip

    def human() -> None:
        table = Table(box=None)
        for name in ("height", "idx", "sender", "call", "value", "status", "tx"):
            table.add_column(name)
        for t in data["items"]:
            call = f"{t.get('contract') or '(scheduled)'}.{t.get('method') or ''}".rstrip(".")
            table.add_row(str(t["height"]), str(t["idx"]), t.get("sender") or "", escape(call),
                          str(t["value"]), escape(str(t["status"])), _short(t["tx_hash"]))
        console.print(table)
        if data.get("next_cursor"):
            console.print(f"more: --cursor {data['next_cursor']}")

    emit(data, as_json, human)


@index_app.command("status")
@handles_errors
def index_status(node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """The node's SQL index: backend, indexed height, head, lag, last error."""
    with connect(node, key) as client:
        data = IndexQueries(client).status()
    emit(data, as_json)


@index_app.command("events")
@handles_errors
def index_events(
    contract: str = typer.Option(None, "--contract", help="Contract name."),
    name: str = typer.Option(None, "--name", help="Event name (with --contract)."),
    party: str = typer.Option(None, "--party", help="An address among the event's fields."),
    from_height: str = FROM_HEIGHT,
    to_height: str = TO_HEIGHT,
    order: str = ORDER,
    limit: int = LIMIT,
    cursor: str = CURSOR,
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Historical events by contract and name, or by party (an application object's holder)."""
    low, high = _height(from_height, "--from-height"), _height(to_height, "--to-height")
    with connect(node, key) as client:
        data = IndexQueries(client).events(contract=contract, name=name, party=party, from_height=low,
                                           to_height=high, order=order, cursor=cursor, limit=limit)

    def human() -> None:
        table = Table(box=None)
        for column in ("height", "tx", "event", "fields"):
            table.add_column(column)
        for e in data["items"]:
            table.add_row(str(e["height"]), f"{e['tx_idx']}.{e['ev_idx']}",
                          escape(f"{e['contract']}.{e['name']}"), escape(plain_text(e["fields"])))
        console.print(table)
        if data.get("next_cursor"):
            console.print(f"more: --cursor {data['next_cursor']}")

    emit(data, as_json, human)


CHECK_RANGE = 20_000


@index_app.command("check")
@handles_errors
def index_check(
    node: str = typer.Option(None, "--node", help="Ask this node to compare its index and chain."),
    home: Path = typer.Option(None, "--home", help="Or compare a stopped node's index (its home)."),
    index_db: str = INDEX_DB,
    from_height: str = FROM_HEIGHT,
    to_height: str = TO_HEIGHT,
    key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Compare the index with the chain; exit 1 and list the differences if any."""
    low = _height(from_height, "--from-height") or 0
    high = _height(to_height, "--to-height")
    if (node is None) == (home is None):
        raise InvalidArgument("give either --node URL (a running node) or --home DIR (a stopped node)")
    if home is not None:
        from consortia.index.offline import check

        data = check(home, index_db, low, high).to_json()
    else:
        data = _check_through_node(node, key, low, high)
    emit(data, as_json, lambda: _print_check(data))
    if not data["ok"]:
        raise typer.Exit(1)


def _check_through_node(node: str, key: Path | None, low: int, high: int | None) -> dict[str, Any]:
    """Whole ranges of at most CHECK_RANGE blocks, merged into one report."""
    with connect(node, key) as client:
        queries = IndexQueries(client)
        top = high if high is not None else int(queries.status()["indexed_height"])
        merged: dict[str, Any] | None = None
        start = low
        while merged is None or start <= top:
            end = min(top, start + CHECK_RANGE - 1) if top >= start else start
            part = queries.check(start, max(end, start))
            if merged is None:
                merged = part
            else:
                merged["to_height"] = part["to_height"]
                merged["blocks_checked"] += part["blocks_checked"]
                merged["rows_checked"] += part["rows_checked"]
                merged["differences"] += part["differences"]
                merged["more_differences"] += part["more_differences"]
                merged["ok"] = merged["ok"] and part["ok"]
            start = end + 1
    assert merged is not None
    return merged


def _print_check(data: dict[str, Any]) -> None:
    verdict = "[bold green]no difference[/]" if data["ok"] else "[bold red]differences[/]"
    console.print(f"index check {data['from_height']}..{data['to_height']}: {verdict} "
                  f"({data['blocks_checked']} blocks, {data['rows_checked']} rows; objects "
                  f"{'checked' if data['objects_checked'] else 'not checked (partial range)'}; "
                  f"indexed {data['indexed_height']}, chain {data['chain_height']})")
    for line in data["differences"]:
        console.print("  " + escape(line))
    if data["more_differences"]:
        console.print(f"  … and {data['more_differences']} more")


@index_app.command("rebuild")
@handles_errors
def index_rebuild(
    home: Path = typer.Option(..., "--home", help="Home of a STOPPED node."),
    index_db: str = INDEX_DB,
    as_json: bool = JSON,
) -> None:
    """Drop a stopped node's index and build it again from its stored chain."""
    from consortia.index.offline import rebuild

    height = rebuild(home, index_db)
    emit({"ok": True, "home": str(home), "indexed_height": height}, as_json,
         lambda: console.print(f"index rebuilt up to height {height}"))
