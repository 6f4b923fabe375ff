"""Mistakes are refused before signing, never signed and committed (issue 16).

A fake client records every submission: a bad argument to the SDK raises a typed error and
submits nothing; the CLI exits non-zero with one line (or one JSON document), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consortia.cli import connect as cli_connect
from consortia.cli import contract_cmds
from consortia.cli import main as cli_main
from consortia.cli.options import READ_KEY
from consortia.client import arguments, cbdc
from consortia.client import contracts as sdk
from consortia.client.wallet import Wallet
from consortia.contracts.python.errors import ContractFailed
from consortia.crypto.address import BadAddress
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError, InsufficientBalance, RemoteError

KEY = KeyPair.generate("ed25519")
BOB = bytes.fromhex("ab" * 20)
BOB_TEXT = "0x" + "ab" * 20


class FakeClient:
    """Answers like a node; records what is submitted; the receipt's status is set per test."""

    key = None  # signs as nobody: a wallet reads through it as itself (signed_as)

    def __init__(self, status: str = "ok", error: str = "") -> None:
        self.submitted: list[bytes] = []
        self.status, self.error = status, error

    def signed_as(self, key: KeyPair) -> FakeClient:
        return self

    def account(self, address: bytes) -> dict[str, Any]:
        return {"next_nonce": 0, "height": 1}

    def chain_id(self) -> str:
        return "test-chain"

    def submit(self, raw: bytes) -> bytes:
        self.submitted.append(raw)
        return bytes(32)

    def wait(self, tx_hash: bytes, timeout: float) -> dict[str, Any]:
        return {"height": 2, "receipt": {"status": self.status, "error": self.error, "steps": 7,
                                         "events": []}}

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def wallet(status: str = "ok", error: str = "") -> tuple[Wallet, FakeClient]:
    client = FakeClient(status, error)
    return Wallet(KEY, client), client  # type: ignore[arg-type]


HOSTILE = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=2**64, max_value=2**200),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.none(),
    st.binary(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
BAD_ADDRESSES = st.one_of(
    st.binary(max_size=40).filter(lambda b: len(b) != 20),
    st.text(max_size=50),
    st.integers(),
    st.none(),
    st.booleans(),
    st.lists(st.binary(min_size=20, max_size=20), max_size=2),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the SDK --------------------------------------------------------------------------------------


def test_text_address_is_accepted_and_signs_the_same_transfer_as_bytes() -> None:
    w, client = wallet()
    result = w.transfer(BOB_TEXT, 5)
    assert result.status == "ok" and len(client.submitted) == 1
    assert w.sign_transfer(BOB_TEXT, 5) == w.sign_transfer(BOB, 5) == w.sign_transfer("AB" * 20, 5)


@pytest.mark.parametrize("amount", [0, -5, 2**64, 10**30, True, 1.5, "5", None])
def test_bad_amounts_are_refused_before_signing(amount: object) -> None:
    w, client = wallet()
    with pytest.raises(arguments.InvalidAmount) as info:
        w.transfer(BOB, amount)  # type: ignore[arg-type]
    assert info.value.code == "invalid_amount" and client.submitted == []


@FAST
@given(amount=HOSTILE)
def test_hostile_amounts_never_reach_the_chain(amount: object) -> None:
    w, client = wallet()
    with pytest.raises(arguments.InvalidAmount):
        w.transfer(BOB, amount)  # type: ignore[arg-type]
    assert client.submitted == []


@FAST
@given(to=BAD_ADDRESSES)
def test_hostile_addresses_never_reach_the_chain(to: object) -> None:
    w, client = wallet()
    with pytest.raises(BadAddress) as info:
        w.transfer(to, 1)  # type: ignore[arg-type]
    assert info.value.code == "bad_address" and client.submitted == []


def test_a_refused_transfer_raises_its_receipts_typed_error() -> None:
    w, client = wallet("insufficient_balance", "balance 3 is below 5")
    with pytest.raises(InsufficientBalance) as info:
        w.transfer(BOB, 5)
    assert len(client.submitted) == 1  # submitted, then refused by the chain: raised, not returned
    assert "below 5" in info.value.message and info.value.receipt.height == 2  # type: ignore[attr-defined]
    w, _ = wallet("some_new_code", "?")
    with pytest.raises(RemoteError) as remote:
        w.transfer(BOB, 5)
    assert remote.value.remote_code == "some_new_code"


def test_contract_call_checks_names_values_and_arguments() -> None:
    w, client = wallet()
    assert sdk.call(w, "token", "transfer", BOB, 5).ok and len(client.submitted) == 1
    assert sdk.call(w, "token", "pay", value=0).ok and sdk.call(w, "token", "pay", value=2**64 - 1).ok
    client.submitted.clear()
    for contract, method in [("Token", "x"), ("", "x"), ("a" * 65, "x"), (5, "x"), ("token", "_x"),
                             ("token", ""), ("token", "a-b"), ("token", None), ("token", "x" * 65)]:
        with pytest.raises(arguments.InvalidArgument):
            sdk.call(w, contract, method)  # type: ignore[arg-type]
    for value in (-1, 2**64, True, 1.0, "1", None):
        with pytest.raises(arguments.InvalidAmount):
            sdk.call(w, "token", "pay", value=value)  # type: ignore[arg-type]
    for args in ([object()], [2**64], [-(2**63) - 1], [1.5], [{"a": {1, 2}}], 5, "ab"):
        with pytest.raises(arguments.InvalidArgument):
            sdk.send(w, "token", "pay", args)  # type: ignore[arg-type]
    for bad in [("Bad", "src", []), ("ok", "", []), ("ok", 5, []), ("ok", "src", [object()]),
                ("ok", "src", 5)]:
        with pytest.raises(arguments.InvalidArgument):
            sdk.deploy(w, *bad)  # type: ignore[arg-type]
    assert client.submitted == []


PLAIN = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5)
                     | st.binary(max_size=5),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8)
NOT_PLAIN = st.one_of(st.floats(), st.integers(min_value=2**64), st.integers(max_value=-(2**63) - 1),
                      st.sets(st.integers(), max_size=2), st.builds(object))


@FAST
@given(good=st.lists(PLAIN, max_size=3), bad=NOT_PLAIN, nested=st.integers(0, 2))
def test_call_arguments_must_be_plain_data(good: list[Any], bad: object, nested: int) -> None:
    w, client = wallet()
    hostile: Any = bad
    for _ in range(nested):
        hostile = [hostile]
    with pytest.raises(arguments.InvalidArgument):
        sdk.call(w, "token", "pay", *good, hostile)
    assert client.submitted == []
    assert sdk.call(w, "token", "pay", *good).ok and len(client.submitted) == 1


def test_a_failed_call_raises_the_contracts_typed_error() -> None:
    w, _ = wallet("contract_error", "not enough tokens")
    with pytest.raises(ContractFailed) as info:
        sdk.call(w, "token", "transfer", BOB, 5)
    assert info.value.message == "not enough tokens"
    receipt = sdk.call(w, "token", "transfer", BOB, 5, check=False)
    assert not receipt.ok and sdk.receipt_error(receipt).code == "contract_error"


def test_cbdc_keeps_its_public_names() -> None:
    assert cbdc.InvalidAmount is arguments.InvalidAmount and cbdc.InvalidArgument is arguments.InvalidArgument
    assert cbdc.check_amount is arguments.check_amount
    assert cbdc.check_address_arg is arguments.check_address_arg
    assert cbdc.check_height is arguments.check_height and cbdc.check_id is arguments.check_id
    assert cbdc.MAX_AMOUNT == arguments.MAX_AMOUNT == 2**64 - 1


# --- the CLI --------------------------------------------------------------------------------------


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    """Every CLI Client is a recording fake; reading a key file would fail the test."""
    fake = FakeClient()
    monkeypatch.setattr(cli_connect, "Client", lambda *a, **k: fake)  # every command connects there

    def no_key(path: Path) -> KeyPair:
        raise AssertionError("the key was read before the arguments were checked")

    monkeypatch.setattr(cli_main, "load_key", no_key)
    monkeypatch.setattr(contract_cmds, "load_key", no_key)
    monkeypatch.setattr(cli_connect, "load_key", no_key)
    return fake


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli_main.app, args)


def assert_refused(args: list[str], code: str | None = None) -> None:
    """Non-zero, no traceback; with --json exactly one JSON document naming the code."""
    text = invoke(args)
    assert text.exit_code != 0, text.output
    assert "Traceback" not in text.output and not isinstance(text.exception, AssertionError | KeyError)
    if text.exit_code == 1:  # a typed error (2 is click's own usage error)
        assert len(text.stderr.strip().splitlines()) == 1, text.stderr
        if code is not None:
            assert f"({code})" in text.stderr
    as_json = invoke([*args, "--json"])
    assert as_json.exit_code != 0 and "Traceback" not in as_json.output
    if as_json.exit_code == 1:
        document = json.loads(as_json.stdout)
        assert document["ok"] is False
        if code is not None:
            assert document["error"]["code"] == code


TRANSFER = ["transfer", "--key", "/nonexistent.key", "--to", BOB_TEXT]


@pytest.mark.parametrize(("amount", "code"), [
    ("0", "invalid_amount"), ("-5", "invalid_amount"), ("100000000000000000000000000000", "invalid_amount"),
    (str(2**64), "invalid_amount"), ("1.5", "invalid_amount"), ("abc", "invalid_amount"),
    ("9" * 5000, "invalid_amount"), ("", "invalid_amount"),
])
def test_cli_transfer_refuses_bad_amounts(recorder: FakeClient, amount: str, code: str) -> None:
    assert_refused([*TRANSFER, "--amount", amount], code)
    assert recorder.submitted == []


@pytest.mark.parametrize("to", ["0x1234", "zz" * 20, "", "[bold]x[/]", "0x" + "ab" * 21])
def test_cli_transfer_refuses_bad_addresses(recorder: FakeClient, to: str) -> None:
    assert_refused(["transfer", "--key", "/k", "--to", to, "--amount", "1"], "bad_address")
    assert recorder.submitted == []


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf", "1e400"])
def test_cli_transfer_refuses_bad_timeouts(recorder: FakeClient, timeout: str) -> None:
    assert_refused([*TRANSFER, "--amount", "1", "--timeout", timeout], "invalid_argument")


@FAST
@given(amount=st.one_of(st.integers(max_value=0).map(str), st.integers(min_value=2**64).map(str),
                        st.text(max_size=30).filter(lambda t: not t.strip().lstrip("+").isdigit()),
                        st.floats().map(str)))
def test_cli_transfer_hostile_amounts(amount: str) -> None:
    fake = FakeClient()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli_connect, "Client", lambda *a, **k: fake)
        mp.setattr(cli_main, "load_key", lambda path: pytest.fail("key read"))
        result = invoke([*TRANSFER, "--amount", amount, "--json"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    if result.exit_code == 1:
        assert json.loads(result.stdout)["error"]["code"] in {"invalid_amount", "invalid_argument"}
    assert fake.submitted == []


def test_cli_transfer_good_arguments_reach_the_key(tmp_path: Path) -> None:
    result = invoke([*TRANSFER, "--amount", "1_000", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["error"]["code"] == "key_file_error"


@pytest.mark.parametrize(("args", "code"), [
    (["call", "Bad", "m", "[]", "--key", "/k"], "invalid_argument"),
    (["call", "token", "_m", "[]", "--key", "/k"], "invalid_argument"),
    (["call", "token", "m", "[1.5]", "--key", "/k"], "malformed"),
    (["call", "token", "m", f"[{2**64}]", "--key", "/k"], "invalid_argument"),
    (["call", "token", "m", "[" + "9" * 5000 + "]", "--key", "/k"], "malformed"),
    (["call", "token", "m", "[" * 100_000 + "]" * 100_000, "--key", "/k"], None),
    (["call", "token", "m", "{}", "--key", "/k"], "malformed"),
    (["call", "token", "m", "[]", "--key", "/k", "--timeout", "-1"], "invalid_argument"),
    (["view", "token", "a-b"], "invalid_argument"),
    (["contract", "info", "No"], "invalid_argument"),
    (["balance", "0x12"], "bad_address"),
    (["receipt", "0x12"], "malformed"),
    (["receipt", "zz" * 32], "malformed"),
])
def test_cli_contract_and_query_commands_refuse(recorder: FakeClient, args: list[str],
                                                code: str | None) -> None:
    assert_refused(args, code)
    assert recorder.submitted == []


@FAST
@given(args=st.recursive(st.none() | st.floats() | st.integers() | st.text(max_size=4),
                         lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6))
def test_cli_call_hostile_json_arguments(args: Any) -> None:
    fake = FakeClient()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli_connect, "Client", lambda *a, **k: fake)
        mp.setattr(contract_cmds, "load_key", lambda path: (_ for _ in ()).throw(
            ConsortiaError("no key here")))
        result = invoke(["call", "token", "m", json.dumps([args]), "--key", "/k", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert json.loads(result.stdout)["ok"] is False
    assert fake.submitted == []


# --- every signing command of the CLI, hostile values in its money, address and number args ------

MONEY = {"amount", "price", "kwh", "max_w"}
LIMITS = {"limit"}
"""Ceilings, where 0 is a legal value (a credit line closed down to nothing)."""
ADDRESSES = {"address", "owner", "drawee", "core", "borrower", "lender", "payee", "supplier", "buyer",
             "seller", "to", "against", "releaser", "party", "patient", "grantee", "meter"}
NUMBERS = {"bill_id", "escrow_id", "earmark_id", "loan_id", "part_id", "payable_id", "payment_id",
           "proposal_id", "request_id", "serial", "trade_id", "tier", "kyc_tier", "rate_bps",
           "deadline_height", "expires_height", "first_height", "wh"}
HOSTILE_TEXT = {
    "money": st.one_of(st.sampled_from(["0", "-5", "1.5", "1e3", "", "abc", str(2**64), "9" * 5000]),
                       st.integers(max_value=0).map(str), st.integers(min_value=2**64).map(str)),
    "limit": st.one_of(st.sampled_from(["-5", "1.5", "1e3", "", "abc", str(2**64), "9" * 5000]),
                       st.integers(max_value=-1).map(str), st.integers(min_value=2**64).map(str)),
    "address": st.one_of(st.sampled_from(["0x12", "zz" * 20, "", "0x" + "ab" * 21, "[bold]x[/]"]),
                         st.text(max_size=41)),
    "number": st.one_of(st.sampled_from(["-1", "x", "", "1.5", "9" * 5000, str(2**64)]),
                        st.integers(max_value=-1).map(str)),
}
GOOD = {"money": "7", "limit": "7", "address": BOB_TEXT, "number": "3"}
DEAD_NODE = "http://127.0.0.1:1"
"""Nothing listens there: a command that signed and submitted would fail with connection_failed."""


def kind_of(name: str) -> str | None:
    if name in LIMITS:
        return "limit"
    return "money" if name in MONEY else "address" if name in ADDRESSES else (
        "number" if name in NUMBERS else None)


def signing_commands() -> list[tuple[tuple[str, ...], Any, list[Any]]]:
    """Every command with a key option and a required money, address or number parameter."""
    root = typer.main.get_command(cli_main.app)
    out = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))
        if getattr(command, "commands", None):
            return
        # a read's --key (options.READ_KEY) only says who asks: such a command signs nothing
        names = {p.name for p in command.params if not (p.name == "key" and p.help == READ_KEY.help)}
        checked = [p for p in command.params if p.required and kind_of(p.name)]
        if names & {"key", "org_key", "meter_key"} and checked:
            out.append((path, command, checked))

    walk(root, ())
    return out


SIGNING = signing_commands()
ROOT_COMMAND = typer.main.get_command(cli_main.app)


def fill(command: Any, key: Path, hostile: Any, value: str) -> list[str]:
    """Arguments for ``command``: ``value`` for ``hostile``, plausible ones for the rest."""
    args, options = [], []
    for param in command.params:
        kind = kind_of(param.name)
        text = value if param is hostile else GOOD[kind] if kind else (
            str(key) if param.name in {"key", "org_key", "meter_key"} else
            DEAD_NODE if param.name == "node" else "+30d" if param.name in {"maturity", "due", "until"}
            else "3,4" if param.name == "amounts" else "walk")
        if param.param_type_name == "argument" and param.required:
            args.append(text)
        elif param.param_type_name == "option" and (param.required or param.name in {"key", "node"}):
            options += [param.opts[0]] if param.is_flag or param.secondary_opts else [param.opts[0], text]
    return [*args, *options]


def test_the_walk_finds_the_signing_commands() -> None:
    paths = {path for path, _, _ in SIGNING}
    assert len(SIGNING) > 50
    assert {("transfer",), ("wallet", "pay"), ("bill", "issue"), ("energy", "offer"), ("scf", "finance"),
            ("cbdc", "issue")} <= paths


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_signing_command_refuses_hostile_arguments_before_the_node(data: st.DataObject,
                                                                         tmp_path_factory: Any) -> None:
    path, command, checked = data.draw(st.sampled_from(SIGNING), label="command")
    hostile = data.draw(st.sampled_from(checked), label="parameter")
    value = data.draw(HOSTILE_TEXT[kind_of(hostile.name) or "number"], label="value")
    key = tmp_path_factory.getbasetemp() / "hostile.key"
    if not key.exists():
        save_key_file(key, KEY, None)
    argv = [*path, *fill(command, key, hostile, value), "--json"]
    with CliRunner().isolation() as (out, _, _):
        try:
            ROOT_COMMAND.main(args=argv, prog_name="consortia")
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
        finally:
            text = out.getvalue().decode()
    named = f"consortia {' '.join(path)} {hostile.opts[0]} {value[:40]!r}"
    assert code != 0, f"{named} was accepted:\n{text}"
    assert "Traceback" not in text, f"{named}:\n{text}"
    if code == 1:  # a typed error (2: the parser's usage error, before anything runs)
        error = json.loads(text)["error"]
        assert error["code"] != "connection_failed", f"{named} went to the node:\n{text}"
