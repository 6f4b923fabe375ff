"""``consortia trace …``: industrial traceability (issue 18).

    consortia trace register --id urn:epc:class:lgtin:9506000.013436.COIL-88 --product "steel coil" \\
        --public product,producer --key mill.key
    consortia trace observe ID --where "bay 4" [--reading "41.2 t"] --key mill.key
    consortia trace aggregate PALLET --children ID,ID --key parts.key;  trace disaggregate PALLET --key …
    consortia trace transform --inputs ID --outputs ID,ID [--product TEXT] --key parts.key
    consortia trace handover ID --to 0x… --key mill.key;  consortia trace receive ID --key parts.key
    consortia trace certify ID --result fail --report r.pdf [--receipt r.pdf.notary.json] --key lab.key
    consortia trace recall ID --reason TEXT --key mill.key;  trace lift-recall ID --reason TEXT --key …
    consortia trace status ID;  trace provenance ID;  trace where-used ID;  trace public ID
    consortia trace export ID --out machine.epcis.json;  consortia trace import FILE --key maker.key

Ids may be EPC URIs, GS1 Digital Links or industrial-internet ids (88.x/…): checked (GS1 check
digits) and made canonical before anything is signed. Every action is one transaction that waits
for finality; a refusal exits non-zero naming its code (``not_holder``, ``handover_pending``,
``recalled``, …) and the contract's message. ``--json`` prints one JSON document.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from consortia.apps.trace.epcis import EpcisInvalid
from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors
from consortia.client import contracts as sdk
from consortia.client import trace
from consortia.client.arguments import InvalidArgument
from consortia.client.notary import load_receipt
from consortia.client.wallet import Wallet

ITEM = typer.Argument(..., metavar="ID", help="The item: EPC URI, GS1 Digital Link or 88.x/… id.")
MAX_FILE = 16 * 1024 * 1024

trace_app = typer.Typer(
    no_args_is_help=True, help="Industrial traceability: items, events, inspections, recalls."
)


def register(app: typer.Typer) -> None:
    app.add_typer(trace_app, name="trace")


# --- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _signer(key: Path, node: str, timeout: float) -> Iterator[trace.TraceWallet]:
    signer_key = load_key(key)
    with connect(node, signer_key, timeout=timeout + 10) as client:
        yield trace.TraceWallet(Wallet(signer_key, client), timeout=timeout)


@contextlib.contextmanager
def _query(node: str, key: Path | None) -> Iterator[trace.TraceQueries]:
    with connect(node, key) as client:
        yield trace.TraceQueries(client)


def _act(key: Path, node: str, timeout: float, as_json: bool, what: str,
         action: Callable[[trace.TraceWallet], sdk.ContractReceipt], **extra: Any) -> None:  # fmt: skip
    with _signer(key, node, timeout) as wallet:
        receipt = action(wallet)
    data = {**receipt.to_json(), **extra}
    emit(
        data,
        as_json,
        lambda: console.print(
            f"[bold green]{what}[/]: {data['tx_hash']} committed at height {data['height']}", highlight=False
        ),
    )


def _list(text: str, what: str) -> list[str]:
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise InvalidArgument(f"{what} lists at least one item id, comma-separated")
    return found


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE:
            raise InvalidArgument(f"{what} {path} is larger than {MAX_FILE} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _show(data: dict[str, Any], as_json: bool, title: str) -> None:
    def human() -> None:
        table = Table(title=title, show_header=False, box=None)
        for key, value in data.items():
            if isinstance(value, list):
                value = (
                    "\n".join(v.get("item", str(v)) if isinstance(v, dict) else str(v) for v in value) or "-"
                )
            elif isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
            table.add_row(f"[bold]{key}[/]", "-" if value is None else str(value))
        console.print(table)

    emit(data, as_json, human)


def _graph(data: dict[str, Any], as_json: bool, title: str) -> None:
    def human() -> None:
        table = Table(title=f"{title} of {data['item']}")
        for column in ("item", "product", "holder", "status", "recall"):
            table.add_column(column)
        for item in data["items"]:
            recall = item["recall_reason"] or (", ".join(item["affected"]) and "affected")
            table.add_row(item["item"], item["product"], item["holder"], item["status"], recall or "-")
        console.print(table)
        for check in data.get("inspections", []):
            console.print(
                f"inspection of {check['fields']['item']}: [bold]{check['fields']['result']}[/] "
                f"by {check['signer']}, report {check['fields']['report']}",
                highlight=False,
            )
        if data.get("truncated"):
            console.print("[yellow]more items than one answer lists (truncated)[/]")

    emit(data, as_json, human)


# --- actions --------------------------------------------------------------------------------------


@trace_app.command("register")
@handles_errors
def trace_register(
    item: str = typer.Option(..., "--id", help="The item or batch: EPC URI, GS1 Digital Link or 88.x/…."),
    product: str = typer.Option(..., "--product", help="What it is (shown where the producer allows)."),
    public: str = typer.Option("", "--public", help="Fields made public: product,producer,registered,holder,"
                                                    "inspections,observations,provenance."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Register an item or batch you produce (you hold it from now on)."""
    fields = trace.check_public(public.split(","))
    _act(
        key,
        node,
        timeout,
        as_json,
        "registered",
        lambda w: w.register(item, product, fields),
        item=trace.canonical(item),
    )


@trace_app.command("observe")
@handles_errors
def trace_observe(
    item: str = ITEM, where: str = typer.Option(..., "--where", help="Where it was seen."),
    reading: str = typer.Option("", "--reading", help="A reading taken (weight, temperature, …)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Record where and when an item you hold was seen."""
    _act(key, node, timeout, as_json, "observed", lambda w: w.observe(item, where, reading))


@trace_app.command("aggregate")
@handles_errors
def trace_aggregate(
    parent: str = typer.Argument(..., metavar="PARENT", help="The container (e.g. a pallet's SSCC)."),
    children: str = typer.Option(..., "--children", help="Items packed in it, comma-separated."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Pack items you hold into a container you hold."""
    _act(
        key,
        node,
        timeout,
        as_json,
        "aggregated",
        lambda w: w.aggregate(parent, _list(children, "--children")),
    )


@trace_app.command("disaggregate")
@handles_errors
def trace_disaggregate(
    parent: str = typer.Argument(..., metavar="PARENT", help="The container."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Unpack a container you hold."""
    _act(key, node, timeout, as_json, "disaggregated", lambda w: w.disaggregate(parent))


@trace_app.command("transform")
@handles_errors
def trace_transform(
    inputs: str = typer.Option(..., "--inputs", help="Items consumed, comma-separated."),
    outputs: str = typer.Option(..., "--outputs", help="Items made, comma-separated (new ids)."),
    product: str = typer.Option("", "--product", help="What new outputs are (needed for new ids)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Consume inputs you hold and make outputs (a coil into parts, parts into an assembly)."""
    _act(
        key,
        node,
        timeout,
        as_json,
        "transformed",
        lambda w: w.transform(_list(inputs, "--inputs"), _list(outputs, "--outputs"), product),
    )


@trace_app.command("handover")
@handles_errors
def trace_handover(
    item: str = ITEM, to: str = typer.Option(..., "--to", help="0x address of the receiver."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Hand an item over; it stays yours, and blocked, until the receiver confirms (trace receive)."""
    _act(key, node, timeout, as_json, "handed over (pending receipt)", lambda w: w.handover(item, to))


@trace_app.command("cancel-handover")
@handles_errors
def trace_cancel_handover(
    item: str = ITEM, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Withdraw a handover the receiver has not confirmed."""
    _act(key, node, timeout, as_json, "handover withdrawn", lambda w: w.cancel_handover(item))


@trace_app.command("receive")
@handles_errors
def trace_receive(
    item: str = ITEM, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Confirm receipt of an item handed over to you (you hold it, and what is packed in it)."""
    _act(key, node, timeout, as_json, "received", lambda w: w.receive(item))


@trace_app.command("certify")
@handles_errors
def trace_certify(
    item: str = ITEM,
    result: str = typer.Option(..., "--result", help="pass or fail."),
    report: Path = typer.Option(..., "--report", help="The inspection report (its SHA-256 is recorded)."),
    receipt: Path | None = typer.Option(None, "--receipt", help="The report's notarisation receipt: "
                                        "checked against the chain's genesis, its root recorded."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Certify an item pass or fail (staff of an inspector organisation)."""
    digest = trace.report_hash(_read(report, "report"))
    stamp = load_receipt(receipt) if receipt is not None else None
    with _signer(key, node, timeout) as wallet:
        anchor = trace.anchor_of(stamp, digest, wallet.client.genesis()) if stamp is not None else b""
        done = wallet.certify(item, trace.check_inspection_result(result), digest, anchor)
    data = {**done.to_json(), "report": "0x" + digest.hex(), "anchor": "0x" + anchor.hex()}
    emit(
        data,
        as_json,
        lambda: console.print(
            f"[bold green]certified {result}[/]: {data['tx_hash']} committed at height {data['height']}",
            highlight=False,
        ),
    )


@trace_app.command("recall")
@handles_errors
def trace_recall(
    item: str = ITEM, reason: str = typer.Option(..., "--reason", help="Why it is recalled."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Recall a batch or item (its producer or the regulator): everything made from it is flagged."""
    _act(key, node, timeout, as_json, "recalled", lambda w: w.recall(item, reason))


@trace_app.command("lift-recall")
@handles_errors
def trace_lift_recall(
    item: str = ITEM, reason: str = typer.Option(..., "--reason", help="Why the recall is lifted."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Lift a recall, on the record."""
    _act(key, node, timeout, as_json, "recall lifted", lambda w: w.lift_recall(item, reason))


# --- queries --------------------------------------------------------------------------------------


@trace_app.command("status")
@handles_errors
def trace_status(item: str = ITEM,
                 node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Who holds it, a pending handover, recalls (from the node's SQL index)."""
    with _query(node, key) as queries:
        _show(queries.status(item), as_json, "item")


@trace_app.command("provenance")
@handles_errors
def trace_provenance(item: str = ITEM,
                     node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Everything it was made or packed from, with every inspection."""
    with _query(node, key) as queries:
        _graph(queries.provenance(item), as_json, "provenance")


@trace_app.command("where-used")
@handles_errors
def trace_where_used(item: str = ITEM,
                     node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Everything made from it or packed around it."""
    with _query(node, key) as queries:
        _graph(queries.where_used(item), as_json, "where used")


@trace_app.command("public")
@handles_errors
def trace_public(item: str = ITEM,
                 node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """What a consumer scanning the code sees (only what the producer marked public, and recalls)."""
    with _query(node, key) as queries:
        _show(queries.public(item), as_json, "public view")


@trace_app.command("export")
@handles_errors
def trace_export(
    item: str = ITEM, out: Path = typer.Option(..., "--out", help="Where to write the EPCIS 2.0 document."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Write an EPCIS 2.0 JSON-LD document of the item's events and everything upstream."""
    with _query(node, key) as queries:
        document = queries.export(item)
    try:
        out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"cannot write {out}: {exc.strerror or exc}") from None
    data = {"out": str(out), "events": len(document["epcisBody"]["eventList"])}
    emit(
        data,
        as_json,
        lambda: console.print(f"{data['events']} EPCIS events written to {out}", highlight=False),
    )


@trace_app.command("import")
@handles_errors
def trace_import(
    file: Path = typer.Argument(..., metavar="FILE", help="An EPCIS 2.0 JSON-LD document."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Go on after a refused event."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Validate an EPCIS 2.0 document (GS1's schema) and sign its events as your own, in order."""
    try:
        document = json.loads(_read(file, "document"))
    except ValueError as exc:
        raise EpcisInvalid(f"{file} is not JSON: {exc}") from None
    with _signer(key, node, timeout) as wallet:
        results = wallet.import_document(document, stop_on_refusal=not keep_going)
    data = {"file": str(file), "events": [dataclasses.asdict(r) for r in results]}
    refused = [r for r in results if r.status != "ok"]
    emit(
        data,
        as_json,
        lambda: console.print(
            f"{len(results) - len(refused)} of {len(results)} events committed"
            + (
                f"; event {refused[0].index} refused: {refused[0].status} {refused[0].message}"
                if refused
                else ""
            ),
            highlight=False,
        ),
    )
    if refused:
        raise typer.Exit(1)
