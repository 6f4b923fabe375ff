"""Building the calls of ``apps/trace`` and reading its views: plain functions the client SDK,
the CLI, the EPCIS import and the REST layer wrap (the :class:`AppCall` / :class:`ViewCall`
shapes of ``apps/cbdc``). Item ids here are canonical (:func:`.identifiers.canonical`).

    call = register("https://id.gs1.org/01/09506000134352/10/LOT7", "hot-rolled coil", ["product"])
    tx_call = Call(call.contract, call.method, encode_args(call), call.value)
"""

from __future__ import annotations

from collections.abc import Sequence

from consortia.apps.cbdc.sdk import AppCall, ViewCall, encode_args, event_fields

__all__ = ["AppCall", "ViewCall", "encode_args", "event_fields"]

TRACE = "trace"
MAX_TEXT = 200
MAX_ITEMS = 64
HASH_BYTES = 32
RESULTS = ("pass", "fail")
PUBLIC_FIELDS = ("product", "producer", "registered", "holder", "inspections", "observations", "provenance")
"""Fields a producer may mark public for the verification view (a recall is always shown)."""
INSPECTOR = "inspector"
ALERT_RULES = ("trace.recall",)
"""The regulator alert rule the contract raises (one alert per holder of affected items)."""
EVENTS = ("Registered", "Observed", "Aggregated", "Disaggregated", "Transformed", "HandoverOffered",
          "HandoverCancelled", "Received", "Certified", "Recalled", "Affected", "HolderAlerted",
          "RecallLifted", "Cleared")

ERROR_CODES: tuple[str, ...] = (
    "bad_id", "bad_text", "bad_list", "bad_result", "bad_hash", "bad_public", "bad_address",
    "unknown_party", "party_frozen", "unknown_item", "already_registered", "not_holder",
    "handover_pending", "no_handover", "not_receiver", "self_handover", "already_consumed", "packed",
    "not_aggregated", "cycle", "output_exists", "recalled", "already_recalled", "not_recalled",
    "not_inspector", "not_recaller",
)
"""The receipt statuses the contract refuses with."""


def register(item_id: str, product: str, public: Sequence[str] = ()) -> AppCall:
    return AppCall(TRACE, "register", [item_id, product, list(public)])


def observe(item_id: str, where: str, reading: str = "") -> AppCall:
    return AppCall(TRACE, "observe", [item_id, where, reading])


def aggregate(parent: str, children: Sequence[str]) -> AppCall:
    return AppCall(TRACE, "aggregate", [parent, list(children)])


def disaggregate(parent: str) -> AppCall:
    return AppCall(TRACE, "disaggregate", [parent])


def transform(inputs: Sequence[str], outputs: Sequence[str], product: str = "") -> AppCall:
    """Consume ``inputs``, make ``outputs`` (new ids get ``product``; ids the caller registered
    and never used are taken as they are)."""
    return AppCall(TRACE, "transform", [list(inputs), list(outputs), product])


def handover(item_id: str, to: bytes) -> AppCall:
    return AppCall(TRACE, "handover", [item_id, to])


def cancel_handover(item_id: str) -> AppCall:
    return AppCall(TRACE, "cancel_handover", [item_id])


def receive(item_id: str) -> AppCall:
    return AppCall(TRACE, "receive", [item_id])


def certify(item_id: str, result: str, report: bytes, anchor: bytes = b"") -> AppCall:
    return AppCall(TRACE, "certify", [item_id, result, report, anchor])


def recall(item_id: str, reason: str) -> AppCall:
    return AppCall(TRACE, "recall", [item_id, reason])


def lift_recall(item_id: str, reason: str) -> AppCall:
    return AppCall(TRACE, "lift_recall", [item_id, reason])


def get(item_id: str) -> ViewCall:
    return ViewCall(TRACE, "get", [item_id])


def count() -> ViewCall:
    return ViewCall(TRACE, "count", [])


def handover_of(item_id: str, n: int) -> ViewCall:
    return ViewCall(TRACE, "handover_of", [item_id, n])
