"""``consortia identity …``, ``consortia gov …`` and ``consortia reg …`` (permission layer).

Every action is one signed transaction that waits for finality; a refusal exits non-zero and
names its code (``limit_exceeded``, ``not_regulator``, ``proposal_expired``, ...). ``--json``
prints one JSON document; ``--node URL`` picks the node.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from consortia.cli.connect import connect
from consortia.cli.index_cmds import history_table
from consortia.cli.keys import load_key, new_password
from consortia.cli.options import JSON, KEY, NODE, READ_KEY, TIMEOUT
from consortia.cli.output import console, emit, handles_errors
from consortia.client import permissioned as perm
from consortia.client.client import Client
from consortia.client.index import IndexQueries
from consortia.client.wallet import TxResult, Wallet
from consortia.crypto.address import format_address, parse_address
from consortia.errors import ConfigError, DecodeError, KeyFileError

DEADLINE = typer.Option(perm.DEFAULT_VOTING_BLOCKS, "--deadline-blocks",
                        help="Voting closes this many blocks from now.")
ADDRESS = typer.Argument(..., help="0x address.")

identity_app = typer.Typer(no_args_is_help=True, help="Enrol, revoke and show identities.")
gov_app = typer.Typer(no_args_is_help=True, help="Governance: proposals and votes of the committee.")
propose_app = typer.Typer(no_args_is_help=True, help="Make a proposal (your organisation approves it).")
reg_app = typer.Typer(no_args_is_help=True, help="The regulator: freezes, limits, rules, alerts, audit.")
rule_app = typer.Typer(no_args_is_help=True, help="Set (or --disable) an alert rule.")
gov_app.add_typer(propose_app, name="propose")
reg_app.add_typer(rule_app, name="rule")


def register(app: typer.Typer) -> None:
    """Add the identity, governance and regulator commands to the main CLI."""
    app.add_typer(identity_app, name="identity")
    app.add_typer(gov_app, name="gov")
    app.add_typer(reg_app, name="reg")


def _signer(key: Path, node: str, timeout: float) -> tuple[Client, perm.PermWallet]:
    signer_key = load_key(key)
    client = connect(node, signer_key, timeout=timeout + 10)
    return client, perm.PermWallet(Wallet(signer_key, client), timeout=timeout)


def _tx_json(result: TxResult, **extra: Any) -> dict[str, Any]:
    return {"ok": True, "tx_hash": "0x" + result.tx_hash.hex(), "height": result.height, **extra}


def _emit_tx(data: dict[str, Any], as_json: bool, what: str) -> None:
    emit(data, as_json, lambda: console.print(
        f"[bold green]{what}[/]: 0x{data['tx_hash'][2:]} committed at height {data['height']}"))


def _act(key: Path, node: str, timeout: float, as_json: bool, what: str,
         action: Callable[[perm.PermWallet], TxResult], **extra: Any) -> None:  # fmt: skip
    client, wallet = _signer(key, node, timeout)
    with client:
        result = action(wallet)
    _emit_tx(_tx_json(result, **extra), as_json, what)


# --- identity -----------------------------------------------------------------------------------


def _find_ca(org_key: Path, ca_cert: Path | None, ca_key: Path | None, org: str) -> tuple[bytes, bytes]:
    """The org CA's certificate and key: given, or ``ca/*-ca.{crt,key}`` next to the admin key."""
    if ca_cert is None or ca_key is None:
        certs = sorted((org_key.parent / "ca").glob("*-ca.crt"))
        if len(certs) != 1:
            raise ConfigError(
                f"organisation {org!r} enrols with certificates from its CA: pass --ca-cert and --ca-key"
            )
        ca_cert = ca_cert or certs[0]
        ca_key = ca_key or certs[0].with_suffix(".key")
    try:
        return ca_cert.read_bytes(), ca_key.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the organisation's CA: {exc}") from None


@identity_app.command("enroll")
@handles_errors
def identity_enroll(
    org_key: Path = typer.Option(..., "--org-key", help="Key file of an admin of the enrolling org."),
    name: str = typer.Option(..., "--name", help="Real name (kept off chain, committed with a salt)."),
    kyc_tier: int = typer.Option(..., "--kyc-tier", help="KYC tier (0-255)."),
    out: Path = typer.Option(..., "--out", help="Key file to write for the new identity."),
    role: str = typer.Option("member", "--role", help="member, auditor, validator or admin."),
    ca_cert: Path = typer.Option(None, "--ca-cert", help="Org CA certificate (default: next to the key)."),
    ca_key: Path = typer.Option(None, "--ca-key", help="Org CA private key (default: next to the key)."),
    no_password: bool = typer.Option(False, "--no-password", help="Store the new key unencrypted (dev)."),
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """Generate a key, commit to the holder's name with a fresh salt, and enrol it on chain.

    The name and salt stay in ``<out stem>.pii.json`` next to the key file, never on chain.
    """
    if out.exists():
        raise KeyFileError(f"{out} already exists; choose another --out")
    password = new_password(no_password)
    client, admin = _signer(org_key, node, timeout)
    with client:
        queries = perm.PermQueries(client)
        org = queries.org(queries.identity(admin.address)["org"])
        suite = client.genesis().suite
        ca = _find_ca(org_key, ca_cert, ca_key, org["name"]) if org["has_ca"] else None
        new = perm.prepare_identity(name, suite, *(ca or (None, None)))
        pii_file = new.save(out, password, org=org["name"], role=role, kyc_tier=kyc_tier)
        result = admin.enroll(new.key.address, kyc_tier, new.pii_hash, new.certificate, role)
    data = _tx_json(result, address=format_address(new.key.address), org=org["name"], role=role,
                    kyc_tier=kyc_tier, key_file=str(out), pii_file=str(pii_file),
                    certificate=bool(new.certificate))
    emit(data, as_json, lambda: console.print(
        f"[bold green]enrolled[/] {data['address']} in {org['name']} ({role}, KYC tier {kyc_tier}) "
        f"at height {result.height}; key {out}, private data {pii_file}"))


@identity_app.command("revoke")
@handles_errors
def identity_revoke(
    address: str = ADDRESS,
    org_key: Path = typer.Option(..., "--org-key", "--key", help="Org admin (or regulator) key file."),
    node: str = NODE,
    timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:
    """Revoke an identity at once and for good (its transactions are refused from now on)."""
    target = parse_address(address)
    _act(org_key, node, timeout, as_json, f"revoked {address}", lambda w: w.revoke(target),
         address=format_address(target))


@identity_app.command("show")
@handles_errors
def identity_show(address: str = ADDRESS,
                  node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """An enrolled identity: organisation, role, KYC tier, status, freeze."""
    with connect(node, key) as client:
        data = perm.PermQueries(client).identity(parse_address(address))
    emit(data, as_json)


# --- governance ---------------------------------------------------------------------------------


def _propose(key: Path, node: str, timeout: float, as_json: bool, kind: str, payload: bytes,
             deadline_blocks: int) -> None:  # fmt: skip
    client, wallet = _signer(key, node, timeout)
    with client:
        proposal_id = wallet.propose(kind, payload, voting_blocks=deadline_blocks)
        record = perm.PermQueries(client).proposal(proposal_id)
    data = {"ok": True, "proposal_id": proposal_id, "proposal": record}
    emit(data, as_json, lambda: console.print(
        f"[bold green]proposal {proposal_id}[/] ({kind}): {record['status']}, "
        f"{record['approvals']}/{record['required']} approvals, deadline height {record['deadline_height']}"))


def _public_key(public_key: str | None, validator_key: Path | None) -> bytes:
    if validator_key is not None:
        return load_key(validator_key).public_key
    if public_key is None:
        raise DecodeError("pass --public-key HEX or --validator-key FILE")
    try:
        return bytes.fromhex(public_key.removeprefix("0x"))
    except ValueError:
        raise DecodeError(f"public key must be hex, got {public_key!r}") from None


PUBLIC_KEY = typer.Option(None, "--public-key", help="The validator's public key (hex).")
VALIDATOR_KEY = typer.Option(None, "--validator-key", help="Or the validator's key file.")


@propose_app.command("add-org")
@handles_errors
def propose_add_org(
    name: str = typer.Option(..., "--name", help="Organisation name."),
    role: str = typer.Option(..., "--role", help="bank, central-bank, enterprise, hospital, grid, ..."),
    admins: list[str] = typer.Option(..., "--admin", help="Admin address (repeat for several)."),
    ca_cert: Path = typer.Option(None, "--ca-cert", help="The organisation's CA certificate (PEM)."),
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose adding an organisation with its admins (and CA)."""
    ca_pem = ca_cert.read_bytes() if ca_cert is not None else b""
    payload = perm.add_org_payload(name, role, [parse_address(a) for a in admins], ca_pem)
    _propose(key, node, timeout, as_json, perm.ADD_ORG, payload, deadline_blocks)


@propose_app.command("remove-org")
@handles_errors
def propose_remove_org(
    name: str = typer.Option(..., "--name", help="Organisation name."),
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose removing an organisation (its identities are refused from then on)."""
    _propose(key, node, timeout, as_json, perm.REMOVE_ORG, perm.remove_org_payload(name), deadline_blocks)


@propose_app.command("add-validator")
@handles_errors
def propose_add_validator(
    name: str = typer.Option(..., "--name", help="Validator name."),
    public_key: str = PUBLIC_KEY, validator_key: Path = VALIDATOR_KEY,
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose adding a validator (the set changes a defined number of blocks after the decision)."""
    payload = perm.add_validator_payload(name, _public_key(public_key, validator_key))
    _propose(key, node, timeout, as_json, perm.ADD_VALIDATOR, payload, deadline_blocks)


@propose_app.command("remove-validator")
@handles_errors
def propose_remove_validator(
    public_key: str = PUBLIC_KEY, validator_key: Path = VALIDATOR_KEY,
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose removing a validator."""
    payload = perm.remove_validator_payload(_public_key(public_key, validator_key))
    _propose(key, node, timeout, as_json, perm.REMOVE_VALIDATOR, payload, deadline_blocks)


@propose_app.command("set-param")
@handles_errors
def propose_set_param(
    name: str = typer.Option(..., "--name", help="Parameter, e.g. max_block_txs or gov.threshold_num."),
    value: int = typer.Option(..., "--value", help="New value."),
    key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Propose changing a chain or governance parameter."""
    payload = perm.set_param_payload(name, value)
    _propose(key, node, timeout, as_json, perm.SET_PARAM, payload, deadline_blocks)


def _code_hash(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise DecodeError(f"code hash must be hex, got {text!r}") from None
    return raw


def _propose_code(kind: str, help_text: str) -> None:
    """Register a ``gov propose`` command approving a contract's code (deploy or upgrade)."""

    def command(
        name: str = typer.Option(..., "--name", help="Contract name."),
        code_hash: str = typer.Option(..., "--code-hash", help="Hash of the approved code (hex)."),
        key: Path = KEY, deadline_blocks: int = DEADLINE, node: str = NODE, timeout: float = TIMEOUT,
        as_json: bool = JSON,
    ) -> None:  # fmt: skip
        payload = perm.code_payload(name, _code_hash(code_hash))
        _propose(key, node, timeout, as_json, kind, payload, deadline_blocks)

    command.__doc__ = help_text
    propose_app.command(kind)(handles_errors(command))


_propose_code(perm.DEPLOY_CONTRACT, "Propose approving a contract's code for deployment.")
_propose_code(perm.UPGRADE_CONTRACT, "Propose approving new code for a deployed contract.")


@gov_app.command("vote")
@handles_errors
def gov_vote(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    approve: bool = typer.Option(..., "--approve/--reject", help="Your organisation's vote."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Cast your organisation's vote; the vote that reaches the threshold executes the proposal."""
    client, wallet = _signer(key, node, timeout)
    with client:
        result = wallet.vote(proposal_id, approve)
        record = perm.PermQueries(client).proposal(proposal_id)
    data = _tx_json(result, proposal_id=proposal_id, approve=approve, proposal=record)
    outcome = f": {record['outcome']}" if record["outcome"] else ""
    emit(data, as_json, lambda: console.print(
        f"[bold green]voted[/] {'for' if approve else 'against'} proposal {proposal_id}: "
        f"now {_standing(record)}{outcome}", markup=True, highlight=False))


def _standing(record: dict[str, Any]) -> str:
    """``open (2 of 3 approvals; 1 more needed by height 120)`` — what a proposal still needs."""
    text = f"{record['status']} ({record['approvals']} of {record['required']} approvals"
    missing = record["required"] - record["approvals"]
    if record["status"] == "open" and missing > 0:
        text += f"; {missing} more needed by height {record['deadline_height']}"
    return text + ")"


def _fields_text(value: Any) -> str:
    if isinstance(value, dict):
        return "  ".join(f"{k}={json.dumps(v) if isinstance(v, dict | list) else v}"
                         for k, v in value.items())
    return json.dumps(value)


def _print_proposals(records: list[dict[str, Any]]) -> None:
    table = Table("id", "kind", "status", "votes", "deadline", "proposer", "outcome")
    for r in records:
        table.add_row(str(r["id"]), r["kind"], r["status"], f"{r['approvals']}/{r['required']}",
                      str(r["deadline_height"]), r["proposer_org"], r["outcome"])
    console.print(table)


@gov_app.command("show")
@handles_errors
def gov_show(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON
) -> None:
    """A proposal with its payload, votes and outcome."""
    with connect(node, key) as client:
        record = perm.PermQueries(client).proposal(proposal_id)
    emit(record, as_json, lambda: _print_proposal(record))


def _print_proposal(r: dict[str, Any]) -> None:
    """One proposal for a person: what it asks, what it still needs, who voted, what it did."""
    out = functools.partial(console.print, markup=False, highlight=False)
    out(f"proposal {r['id']}: {r['kind']}, {_standing(r)}")
    out(f"  proposed by {r['proposer_org']} ({r['proposer']}) at height {r['created_height']}")
    out(f"  payload   {_fields_text(r['payload'])}")
    votes = "; ".join(f"{v['org']} {'approve' if v['approve'] else 'reject'} at {v['height']}"
                      for v in r["votes"]) or "none yet"
    out(f"  votes     {votes}")
    if r["outcome"]:
        out(f"  outcome   {r['outcome']} (height {r['closed_height']})")


@gov_app.command("list")
@handles_errors
def gov_list(
    since: int = typer.Option(0, "--since", help="Only proposals with a larger id."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Proposals in id order."""
    with connect(node, key) as client:
        records = perm.PermQueries(client).proposals(since)
    emit({"proposals": records}, as_json, lambda: _print_proposals(records))


# --- regulator ----------------------------------------------------------------------------------


@reg_app.command("freeze")
@handles_errors
def reg_freeze(address: str = ADDRESS, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
               as_json: bool = JSON) -> None:  # fmt: skip
    """Freeze an account: it can neither send nor receive until unfrozen."""
    target = parse_address(address)
    _act(key, node, timeout, as_json, f"froze {address}", lambda w: w.freeze(target),
         address=format_address(target))


@reg_app.command("unfreeze")
@handles_errors
def reg_unfreeze(address: str = ADDRESS, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
                 as_json: bool = JSON) -> None:  # fmt: skip
    """Lift a freeze."""
    target = parse_address(address)
    _act(key, node, timeout, as_json, f"unfroze {address}", lambda w: w.unfreeze(target),
         address=format_address(target))


@reg_app.command("freeze-asset")
@handles_errors
def reg_freeze_asset(
    asset: str = typer.Argument("native", help='Asset ("native" is the currency).'),
    unfreeze: bool = typer.Option(False, "--unfreeze", help="Lift the freeze instead."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Freeze (or --unfreeze) every payment in an asset."""
    _act(key, node, timeout, as_json, f"{'unfroze' if unfreeze else 'froze'} asset {asset}",
         lambda w: w.freeze_asset(asset, not unfreeze), asset=asset)


@reg_app.command("limits")
@handles_errors
def reg_limits(
    tier: int = typer.Option(..., "--tier", help="KYC tier."),
    per_payment: int = typer.Option(None, "--per-payment", help="Largest single payment (none: no limit)."),
    daily: int = typer.Option(None, "--daily", help="Most sent per UTC day (none: no limit)."),
    balance: int = typer.Option(None, "--balance", help="Largest balance (none: no limit)."),
    key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Set the limits of a KYC tier (all omitted: remove them)."""
    _act(key, node, timeout, as_json, f"limits of tier {tier} set",
         lambda w: w.set_limits(tier, per_payment, daily, balance),
         tier=tier, per_payment=per_payment, daily=daily, balance=balance)


DISABLE = typer.Option(False, "--disable", help="Turn the rule off.")


def _rule(key: Path, node: str, timeout: float, as_json: bool, rule: str, params: list[int | None],
          disable: bool) -> None:  # fmt: skip
    if disable:
        values: list[int] = []
    elif any(p is None for p in params):
        raise DecodeError(f"rule {rule} needs all its parameters (or --disable)")
    else:
        values = [p for p in params if p is not None]
    _act(key, node, timeout, as_json, f"rule {rule} {'disabled' if disable else 'set'}",
         lambda w: w.set_rule(rule, values), rule=rule, params=values)


@rule_app.command("large-amount")
@handles_errors
def rule_large_amount(
    threshold: int = typer.Option(None, "--threshold", help="Alert on a payment of at least this."),
    disable: bool = DISABLE, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Alert on any single payment over a threshold."""
    _rule(key, node, timeout, as_json, "large_amount", [threshold], disable)


@rule_app.command("structuring")
@handles_errors
def rule_structuring(
    threshold: int = typer.Option(None, "--threshold", help="The reporting threshold."),
    margin_bps: int = typer.Option(None, "--margin-bps", help="'Just under' = within this many bps."),
    min_count: int = typer.Option(None, "--min-count", help="Payments that make an alert."),
    window_blocks: int = typer.Option(None, "--window-blocks", help="Window in blocks (<= 1024)."),
    disable: bool = DISABLE, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Alert on many payments just under a threshold by one sender within a window."""
    _rule(key, node, timeout, as_json, "structuring", [threshold, margin_bps, min_count, window_blocks],
          disable)


@rule_app.command("velocity")
@handles_errors
def rule_velocity(
    max_count: int = typer.Option(None, "--max-count", help="More payments than this alert (0: off)."),
    max_value: int = typer.Option(None, "--max-value", help="More value than this alerts (0: off)."),
    window_blocks: int = typer.Option(None, "--window-blocks", help="Window in blocks (<= 1024)."),
    disable: bool = DISABLE, key: Path = KEY, node: str = NODE, timeout: float = TIMEOUT,
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """Alert on unusual velocity: too many payments, or too much value, within a window."""
    _rule(key, node, timeout, as_json, "velocity", [max_count, max_value, window_blocks], disable)


@reg_app.command("alerts")
@handles_errors
def reg_alerts(
    since: int = typer.Option(0, "--since", help="Only alerts with a larger id."),
    limit: int = typer.Option(100, "--limit", help="At most this many."),
    node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Alerts raised by the rules, oldest first (poll with --since the last id)."""
    with connect(node, key) as client:
        records = perm.PermQueries(client).alerts(since, limit)

    def human() -> None:
        table = Table("id", "rule", "address", "amount", "height", "detail")
        for a in records:
            table.add_row(str(a["id"]), a["rule"], a["address"], str(a["amount"]), str(a["height"]),
                          a["detail"])
        console.print(table)

    emit({"alerts": records, "last_id": records[-1]["id"] if records else since}, as_json, human)


@reg_app.command("audit")
@handles_errors
def reg_audit(address: str = ADDRESS,
              node: str = NODE, key: Path | None = READ_KEY, as_json: bool = JSON) -> None:
    """Everything the chain holds about an account: identity, balance, freeze, limits, activity,
    and its full history from the node's SQL index (every payment made and received)."""
    account = parse_address(address)
    with connect(node, key) as client:
        data = perm.PermQueries(client).audit(account)
        history = data.get("history")
        if isinstance(history, dict) and history.get("available"):
            data["history"] = IndexQueries(client).complete_history(account, history)

    def human() -> None:
        emit({k: v for k, v in data.items() if k != "history"}, False)
        history = data.get("history") or {}
        if not history.get("available"):
            console.print(f"history: not available ({history.get('reason', 'the node has no index')})")
            return
        console.print(f"[bold]history[/] ({len(history['items'])} entries, newest first, "
                      f"indexed to height {history.get('indexed_height')}):")
        console.print(history_table(history["items"]))

    emit(data, as_json, human)
