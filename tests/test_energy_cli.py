"""The energy CLI and SDK refuse bad input before anything is signed or sent (typed errors,
``--json`` documents, never a traceback), and their parsing of durations and periods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consortia.apps.energy import sdk as apps
from consortia.cli.main import app
from consortia.client import energy
from consortia.client.arguments import InvalidArgument
from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair

runner = CliRunner()
NOWHERE = "http://127.0.0.1:9"
"""No node listens there: a command that got as far as the network would fail differently."""


def invoke(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json", "--node", NOWHERE])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "k.key"
    save_key_file(path, KeyPair.generate("ed25519"), None)
    return path


def test_durations_and_periods() -> None:
    assert [energy.parse_duration(t) for t in ("900000", "15m", "1h", "30s", "1d", "250ms")] == [
        900_000, 900_000, 3_600_000, 30_000, 86_400_000, 250]
    for bad in ("", "1w", "-1h", "1.5h", "h"):
        with pytest.raises(InvalidArgument):
            energy.parse_duration(bad)
    now = 10 * 3_600_000 + 5
    periods = [energy.parse_period(t, now, 3_600_000) for t in ("last", "current", "next", "7")]
    assert periods == [9, 10, 11, 7]
    for bad in ("-1", "soon", "1e3", "9" * 20):
        with pytest.raises(InvalidArgument):
            energy.parse_period(bad, now, 3_600_000)
    with pytest.raises(InvalidArgument):
        energy.parse_period("last", 0, 3_600_000)  # no period has ended before the first


def test_settlement_arithmetic_conserves_the_locked_price() -> None:
    for offered_kwh, price, fee, surplus, before in ((10, 1234, 250, 6_777, 0), (5, 7, 1000, 999_999, 0),
                                                      (3, 1, 0, 2_999, 0), (4, 333, 1, 5_000, 3_000)):
        result = apps.settlement(offered_kwh * 1000, price, fee, surplus, before)
        assert result.paid + result.refund == offered_kwh * price
        assert result.seller_gets + result.fee == result.paid
        assert 0 <= result.delivered_wh <= offered_kwh * 1000


@pytest.mark.parametrize(("args", "code"), [
    (("energy", "read", "--wh", "-5", "--period", "1"), "invalid_argument"),
    (("energy", "read", "--wh", "many", "--period", "1"), "invalid_argument"),
    (("energy", "read", "--wh", str(apps.MAX_INTERVAL_WH + 1), "--period", "1"), "invalid_argument"),
    (("energy", "read", "--wh", "5", "--consumed-wh", "-1", "--period", "1"), "invalid_argument"),
    (("energy", "meter", "add", "--owner", "0x" + "11" * 20, "--max-w", "0"), "invalid_argument"),
    (("energy", "meter", "add", "--owner", "0x" + "11" * 20, "--max-w", "100", "--interval", "1s"),
     "invalid_argument"),  # 100 W for a second is not a Wh
    (("energy", "meter", "add", "--owner", "0x" + "11" * 20, "--max-w", "1000", "--interval", "1w"),
     "invalid_argument"),
    (("energy", "meter", "add", "--owner", "0x" + "11" * 20, "--max-w", "1000", "--fee-bps", "1001"),
     "invalid_argument"),
    (("energy", "offer", "--meter", "0x" + "11" * 20, "--kwh", "0", "--price", "5", "--period", "1"),
     "invalid_argument"),
    (("energy", "offer", "--meter", "0x" + "11" * 20, "--kwh", "1", "--price", "0", "--period", "1"),
     "invalid_argument"),
    (("energy", "cert", "retire", "0", "--beneficiary", "x"), "invalid_argument"),
    (("energy", "cert", "retire", "1", "--beneficiary", " padded"), "invalid_argument"),
    (("energy", "cert", "retire", "1", "--beneficiary", "x" * 201), "invalid_argument"),
    (("energy", "accept", "0"), "invalid_argument"),
    (("energy", "settle", "x"), "invalid_argument"),
])
def test_bad_arguments_are_refused_before_signing(key_file: Path, args: tuple[str, ...], code: str) -> None:
    extra = ["--meter-key", str(key_file)] if args[1] == "read" or args[1:3] == ("meter", "add") else []
    signer = [] if args[1] in ("certs", "trade", "trades", "totals") else ["--key", str(key_file)]
    rc, out = invoke(*args, *extra, *signer)
    assert rc != 0 and out["ok"] is False and out["error"]["code"] == code, out


def test_a_missing_key_file_and_a_bad_address_are_typed(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.key")
    rc, out = invoke("energy", "read", "--meter-key", missing, "--wh", "5", "--period", "1")
    assert rc != 0 and out["error"]["code"] == "key_file_error", out
    rc, out = invoke("energy", "certs", "--owner", "0x1234")
    assert rc != 0 and out["error"]["code"] == "bad_address", out
