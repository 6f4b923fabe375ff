"""``consortia tx``, ``consortia block`` and ``consortia watch``: read the chain as people do.

Transactions and events are shown decoded (sender, contract, method, named arguments, value;
events by field name) from the node's REST views (see :mod:`consortia.api.tx_view`). ``--json``
prints the node's JSON (``watch``: one JSON document per block, a line each); ``--node URL``
picks the node. A failure exits non-zero with its error code, never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from consortia.cli.connect import connect
from consortia.cli.options import JSON, NODE, READ_KEY
from consortia.cli.output import console, emit, handles_errors, shorten
from consortia.errors import ConnectionFailed, DecodeError

_HASH = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def register(app: typer.Typer) -> None:
    """Add ``tx``, ``block`` and ``watch`` to the main CLI."""
    app.command("tx")(tx_command)
    app.command("block")(block_command)
    app.command("watch")(watch_command)


# --- formatting --------------------------------------------------------------------------------


def _short(value: Any, width: int = 18) -> str:
    """A value for a person at a terminal: long hashes as ``0x12…ef``, long JSON cut (whole
    into a pipe or a file, see :func:`~consortia.cli.output.shorten`)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if isinstance(value, str) and text.startswith("0x"):
        return shorten(text, width - 5, 4)
    return shorten(text, 119)


def format_fields(fields: Any) -> str:
    """``a=1 b=0x12…ef`` for a dict of fields; the JSON of anything else."""
    if isinstance(fields, dict):
        return " ".join(f"{k}={_short(v, 44)}" for k, v in fields.items())
    return _short(fields)


def format_call(view: dict[str, Any]) -> str:
    """``currency.transfer(to=0x…, amount=5)`` (+ attached value) of a decoded transaction."""
    if "error" in view and "contract" not in view:
        return f"undecodable transaction ({view['error']})"
    args = view.get("args")
    if isinstance(args, dict):
        inner = ", ".join(f"{k}={_short(v, 44)}" for k, v in args.items())
    elif isinstance(args, list):
        inner = ", ".join(_short(v, 44) for v in args)
    else:
        inner = f"raw {_short(view.get('args_raw', ''), 44)}"
    value = f" value={view['value']}" if view.get("value") else ""
    return f"{view.get('contract')}.{view.get('method')}({inner}){value}"


def format_event(event: dict[str, Any]) -> str:
    return f"{event.get('contract')}.{event.get('name')} {format_fields(event.get('fields'))}"


def _print_receipt(receipt: dict[str, Any] | None, indent: str) -> None:
    if not receipt:
        return
    status = receipt.get("status")
    colour = "green" if status == "ok" else "red"
    error = f" ({escape(str(receipt['error']))})" if receipt.get("error") else ""
    console.print(f"{indent}status [bold {colour}]{escape(str(status))}[/]{error}, "
                  f"{receipt.get('steps')} steps",
                  markup=True, highlight=False)
    for event in receipt.get("events", []):
        console.print(f"{indent}  event {format_event(event)}", markup=False, highlight=False)


def print_tx(data: dict[str, Any]) -> None:
    view = data.get("decoded") or {}
    out = console.print
    out(f"[bold]transaction[/] {data.get('tx_hash')}: {escape(str(data.get('status')))}", highlight=False)
    if data.get("status") == "dropped":
        out(f"  reason {data.get('reason')}", markup=False, highlight=False)
        return
    if "height" in data:
        out(f"  block {data['height']} (index {data.get('index')}, {data.get('block_id')})",
            highlight=False)
    if view:
        rows = [("sender", view.get("sender")), ("nonce", view.get("nonce")),
                ("expiry", view.get("expiry")), ("chain", view.get("chain_id")),
                ("call", format_call(view))]
        for key, value in rows:
            out(f"  {key:<7}{value}", markup=False, highlight=False)
    _print_receipt(data.get("receipt"), "  ")


def print_block(data: dict[str, Any]) -> None:
    header = data.get("header", {})
    txs = data.get("transactions", [])
    console.print(
        f"[bold]block {header.get('height')}[/] {data.get('id')}  round {header.get('round')}, "
        f"proposer {header.get('proposer')}, {len(txs)} transaction(s), "
        f"timestamp_ms {header.get('timestamp_ms')}", highlight=False)
    for i, view in enumerate(txs):
        console.print(f"  {i:>4} {_short(view.get('hash', ''))} {_short(view.get('sender') or '?')} "
                      f"{format_call(view)}", markup=False, highlight=False)
        _print_receipt(view.get("receipt"), "       ")


def print_watched(message: dict[str, Any]) -> None:
    block = message.get("block", {})
    events = message.get("events", [])
    console.print(
        f"[bold]block {block.get('height')}[/] {_short(block.get('id', ''))}  "
        f"{block.get('tx_count')} tx(s), {len(events)} event(s)", highlight=False)
    for event in events:
        console.print(f"    {_short(event.get('tx_hash', ''))} {format_event(event)}",
                      markup=False, highlight=False)


# --- server-sent events --------------------------------------------------------------------------


def sse_messages(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` of each server-sent event in a stream of lines (comments skipped)."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield event, "\n".join(data)


def follow_blocks(node: str, count: int | None, key: Path | None = None) -> Iterator[dict[str, Any]]:
    """Each committed block's message from the node's ``/v1/events``, ``count`` of them at most
    (the stream asked for as ``key``'s identity on a chain with organisations)."""
    seen = 0
    with connect(node, key) as client, client.stream("/v1/events") as response:
        for event, data in sse_messages(response.iter_lines()):
            if event == "error":
                raise ConnectionFailed(f"the node ended the event stream: {data}")
            if event != "block":
                continue
            try:
                message = json.loads(data)
            except ValueError:
                raise DecodeError("the node sent an event that is not JSON") from None
            yield message
            seen += 1
            if count is not None and seen >= count:
                return


# --- commands -----------------------------------------------------------------------------------


def _tx_hash(text: str) -> str:
    text = text.strip()
    if not _HASH.fullmatch(text):
        raise DecodeError(f"a transaction hash is 32 bytes of hex (0x + 64 digits), got {text!r}")
    return "0x" + text.removeprefix("0x").lower()


def _block_ref(text: str) -> str:
    text = text.strip()
    if text == "latest" or text.isdigit() or _HASH.fullmatch(text):
        return text
    raise DecodeError(f"a block is a height, a 0x block id or 'latest', got {text!r}")


@handles_errors
def tx_command(
    tx_hash: str = typer.Argument(..., metavar="HASH", help="Transaction hash (0x + 64 hex digits)."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """A transaction decoded: sender, nonce, expiry, contract, method, named arguments, value,
    and its receipt with decoded events."""
    ref = _tx_hash(tx_hash)
    with connect(node, key) as client:
        data = client.get(f"/v1/tx/{ref}")
    emit(data, as_json, lambda: print_tx(data))


@handles_errors
def block_command(
    ref: str = typer.Argument("latest", metavar="HEIGHT|latest", help="Height, 0x block id or latest."),
    node: str = NODE, key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """A block with each of its transactions decoded, and their receipts and events."""
    with connect(node, key) as client:
        data = client.block(_block_ref(ref))
    emit(data, as_json, lambda: print_block(data))


@handles_errors
def watch_command(
    count: int = typer.Option(None, "--count", min=1, help="Stop after this many blocks."),
    node: str = NODE,
    key: Path | None = READ_KEY,
    as_json: bool = JSON,
) -> None:
    """Follow new blocks and their decoded events until Ctrl-C (or --count blocks)."""
    try:
        for message in follow_blocks(node, count, key):
            if as_json:
                sys.stdout.write(json.dumps(message) + "\n")
                sys.stdout.flush()
            else:
                print_watched(message)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
