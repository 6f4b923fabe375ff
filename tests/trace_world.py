"""A permissioned in-process chain with the trace application deployed as at genesis, and the
parties of a supply chain: four firms (a mine, a steelworks, a parts maker, a machine builder,
members of two enterprise organisations), an inspector (staff of an ``inspector``
organisation), the regulator. Every call is also signed and kept with its receipt, so the SQL
index can be filled from them exactly as the follower fills it from blocks (:meth:`index_into`).
Shared by tests/test_app_trace.py, tests/test_trace_stateful.py and bench/trace.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.app_world import AppWorld

from consortia.apps.cbdc.sdk import AppCall, encode_args
from consortia.apps.genesis import app_records
from consortia.apps.trace import sdk
from consortia.client.tx_builder import sign_tx
from consortia.contracts.permissioned.alerting import alerts
from consortia.contracts.permissioned.harness import DEFAULT_ORGS, Outcome, consortium
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import get_suite
from consortia.index.database import IndexDatabase
from consortia.index.extract import BlockRows, receipt_rows
from consortia.types.receipt import Receipt
from consortia.types.transaction import Call

SUITE = "ed25519"
FIRMS = ("mine", "mill", "parts", "maker")
COMPANIES = ("corp-x", "corp-y")
BLOCK_ID = b"\x42" * 32


@dataclass
class TraceWorld(AppWorld):
    keys: dict[str, KeyPair] = field(default_factory=dict)
    log: list[tuple[bytes, Receipt, int]] = field(default_factory=list)
    """Every transaction sent: its signed bytes, its receipt, the block time."""

    def send(self, who: str | bytes, call: AppCall) -> Outcome:
        out = super().send(who, call)
        key = self.keys[who] if isinstance(who, str) else None
        if key is not None:
            raw = sign_tx(key, self.h.chain_id, len(self.log), 2**40,
                          Call(call.contract, call.method, encode_args(call), call.value))
            tx_hash = len(self.log).to_bytes(32, "big")
            self.log.append((raw, Receipt(tx_hash, out.code, out.message, 0, list(out.events)), self.now))
        return out

    def item(self, item_id: str) -> dict[str, Any]:
        return dict(self.view(sdk.get(item_id)))

    def alerts(self) -> list[Any]:
        return alerts(self.h.get, limit=1000)

    def index_into(self, db: IndexDatabase, start: int = 0, per_block: int = 1) -> int:
        """Write the calls from ``log[start:]`` into ``db``, ``per_block`` transactions a block,
        as the follower would (one SQL transaction per block); the next ``start``."""
        suite = get_suite(SUITE)
        height = db.head().height + 1
        while start < len(self.log):
            chunk = self.log[start:start + per_block]
            rows = BlockRows(height, height.to_bytes(32, "big"))
            rows.add("blocks", {"height": height, "block_id": rows.block_id, "timestamp_ms": chunk[-1][2],
                                "round": 0, "proposer": 0, "tx_count": len(chunk),
                                "receipt_count": len(chunk), "state_root": BLOCK_ID})  # fmt: skip
            for idx, (raw, receipt, when) in enumerate(chunk):
                receipt_rows(rows, idx, raw, receipt, suite, when)
            db.write_block(rows)
            start += len(chunk)
            height += 1
        return start


def make_world() -> TraceWorld:
    net = consortium(DEFAULT_ORGS + tuple((name, "enterprise") for name in COMPANIES)
                     + (("lab-org", "inspector"),))  # fmt: skip
    h = net.harness
    h.state.data.update(app_records(SUITE))
    host = h.enable_contracts()
    keys: dict[str, KeyPair] = {"reg": net.admins["reg"], "bank-a": net.admins["bank-a"],
                                "lab-admin": net.admins["lab-org"]}
    for index, label in enumerate(FIRMS):
        keys[label] = net.member(COMPANIES[index % 2], label)
    keys["lab"] = net.member("lab-org", "lab")
    return TraceWorld(net, host, {label: key.address for label, key in keys.items()}, keys)
