"""``consortia audit reads …``: the read audit — who of the regulator and auditors read which
organisation's data through a node, and the check of a node's log against the chain (issue 14,
decisions/0026).

    consortia audit reads --key regulator.key                # every entry (an overseer)
    consortia audit reads --key orgs/bank-a/admin.key        # reads of bank-a's data
    consortia audit reads verify --home net/node0            # the log's chain and its anchors
    consortia audit reads configure --home net/node0 --anchor-key node0-audit.key --every 600
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import typer

from consortia.api.auth.read_anchor import check_config, load_anchor_key
from consortia.api.auth.read_log import LOG_DIR
from consortia.cli.connect import connect
from consortia.cli.keys import load_key
from consortia.cli.options import JSON, NODE, READ_KEY
from consortia.cli.output import console, emit, handles_errors
from consortia.client.read_audit import reads, verify_with_chain
from consortia.crypto.address import format_address
from consortia.errors import ConfigError
from consortia.node.config import (
    GENESIS_FILE,
    VALIDATOR_KEY_FILE,
    NodeConfig,
    ReadAuditConfig,
    load_config,
    write_config,
)
from consortia.node.genesis import load_genesis

audit_app = typer.Typer(no_args_is_help=True, help="The read audit: overseers' reads of others' data.")
reads_app = typer.Typer(help="Reads by the regulator and auditors of other organisations' data "
                             "(an overseer sees every entry, an organisation's staff its own data's).")
audit_app.add_typer(reads_app, name="reads")

def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def _line(entry: dict[str, Any]) -> str:
    if entry["kind"] != "read":
        return f"#{entry['seq']} {entry['kind']}: {entry['note']}"
    query = f"?{entry['query']}" if entry["query"] else ""
    return (f"#{entry['seq']} {entry['time_ms']} {entry['reader']} ({entry['reader_org']}, "
            f"{entry['reader_role']}) {entry['method']} {entry['path']}{query} -> {entry['status']} "
            f"data of {', '.join(entry['subjects'])}")  # fmt: skip


@reads_app.callback(invoke_without_command=True)
@handles_errors
def list_reads(ctx: typer.Context, key: Path | None = READ_KEY, node: str = NODE,
               after: int = typer.Option(0, "--after", help="Entries after this sequence number."),
               limit: int = typer.Option(100, "--limit", help="At most this many entries (1 to 500)."),
               org: str = typer.Option("", "--org", help="Only reads of this organisation's data."),
               as_json: bool = JSON) -> None:  # fmt: skip
    """A page of the node's read log, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    with connect(node, key) as client:
        page = reads(client, after, limit, org)

    def show() -> None:
        for entry in page["entries"]:
            console.print(_line(entry), highlight=False, soft_wrap=True)
        console.print(f"{len(page['entries'])} entries; next page: --after {page['next_after']}; "
                      f"log head #{page['head_seq']}, anchored up to #{page['anchored_seq']}",
                      highlight=False, soft_wrap=True)  # fmt: skip

    emit(page, as_json, show)


def _anchoring_key_file(home: Path, config: NodeConfig) -> Path:
    """The key the node anchors with (``read_audit.anchor_key_file``, else its validator key): it
    may read its own anchorings and the roots it anchored."""
    named = (config.read_audit or ReadAuditConfig()).anchor_key_file
    if not named:
        return home / VALIDATOR_KEY_FILE
    path = Path(named)
    return path if path.is_absolute() else home / path


@reads_app.command("verify")
@handles_errors
def verify(home: Path = typer.Option(..., "--home", help="The node's home (its log is in audit/reads)."),
           node: str = typer.Option("", "--node", help="URL of a node's API (default: this home's)."),
           key: Path | None = typer.Option(None, "--key", help="Key file that signs the reads of the "
                                           "anchorings (default: the home's anchoring key)."),
           as_json: bool = JSON) -> None:  # fmt: skip
    """Check a node's read log: every line's chain, and every anchored head on chain (by proof)."""
    config = load_config(home)
    genesis_path = home / GENESIS_FILE
    if not genesis_path.exists():
        raise ConfigError(f"{genesis_path} does not exist: is {home} a node home?")
    genesis = load_genesis(genesis_path)
    url = node or f"http://{config.api_host}:{config.api_port}"
    signer = load_key(key if key is not None else _anchoring_key_file(home, config))
    with connect(url, signer) as client:
        check = verify_with_chain(home / LOG_DIR, client, genesis)
    out = check.to_json()

    def show() -> None:
        last = check.anchored[-1] if check.anchored else None
        console.print(f"read log of {home}: {out['entries']} entries, chained; head #{out['head_seq']} "
                      f"{out['head']}", highlight=False, soft_wrap=True)  # fmt: skip
        console.print(f"{len(check.anchored)} anchorings proved on chain"
                      + (f" (the last: entry #{last['seq']} at height {last['height']})" if last else ""),
                      highlight=False, soft_wrap=True)  # fmt: skip
        console.print(f"{out['roots_on_chain']} roots anchored by {len(check.stampers)} key(s), every one "
                      f"in the log; {out['unanchored_entries']} entries not anchored yet",
                      highlight=False, soft_wrap=True)  # fmt: skip

    emit(out, as_json, show)


@reads_app.command("configure")
@handles_errors
def configure(home: Path = typer.Option(..., "--home", help="The node's home directory."),
              anchor_key: Path | None = typer.Option(None, "--anchor-key", help="Key file of an enrolled "
                                                     "identity that anchors the log's head (used by nothing "
                                                     "else; default: the validator key)."),
              every: int = typer.Option(600, "--every", help="Seconds between anchorings of a moved head."),
              segment_bytes: int = typer.Option(16 * 1024 * 1024, "--segment-bytes",
                                                help="Bytes after which a segment closes (and is anchored)."),
              as_json: bool = JSON) -> None:  # fmt: skip
    """Set a node's read audit (written to its node.json; takes effect at its next start)."""
    config = load_config(home)
    key_file = str(anchor_key.resolve()) if anchor_key is not None else ""
    audit = check_config(ReadAuditConfig(every, segment_bytes, key_file))
    signer = load_anchor_key(home, key_file) if key_file else load_key(home / VALIDATOR_KEY_FILE)
    write_config(home, msgspec.structs.replace(config, read_audit=audit))
    data = {"ok": True, "home": str(home), "anchor_key_file": key_file or None,
            "anchorer": format_address(signer.address), "anchor_interval_s": every,
            "segment_bytes": segment_bytes}  # fmt: skip
    emit(data, as_json, lambda: console.print(
        f"read audit of {home}: the head anchored every {every} s by {data['anchorer']} (an enrolled "
        "identity; restart the node)", highlight=False, soft_wrap=True))
