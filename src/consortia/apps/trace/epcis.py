"""EPCIS 2.0 JSON-LD documents in and out of ``apps/trace`` (pure; decisions/0021).

Every action on the chain is one :class:`TraceCall` (what was done, to what, by whom, when);
:func:`calls_of_events` reads them from the index's trace events, :func:`export_document`
writes them as an EPCIS 2.0 document, :func:`import_document` reads a document back into calls
(which :func:`app_call` turns into contract calls to sign). Every document going out or coming
in is validated against GS1's published EPCIS 2.0 JSON Schema (shipped in ``schema/``, draft 7,
formats checked: date-time, uri).

The mapping (``cons:`` is this chain's extension namespace, :data:`CONS_NS`):

| call | EPCIS 2.0 event |
|---|---|
| register | ObjectEvent ADD, bizStep ``commissioning``, ``cons:product``, ``cons:public`` |
| observe | ObjectEvent OBSERVE, ``cons:where``, ``cons:reading`` |
| aggregate / disaggregate | AggregationEvent ADD / DELETE (``packing`` / ``unpacking``) |
| transform | TransformationEvent, inputs and outputs, ``cons:product`` |
| handover / receive / cancel | ObjectEvent OBSERVE ``shipping`` / ``receiving`` / ``void_shipping`` |
| certify | ObjectEvent OBSERVE ``inspecting``, ``conformant`` / ``non_conformant``, ``cons:report`` |
| recall / lift_recall | ObjectEvent OBSERVE ``holding``, ``recalled`` / ``active``, ``cons:reason`` |

Batches (lots) go in quantity lists (``epcClass``), serialised items and logistic units in EPC
lists, as GS1 Digital Link URIs; an industrial-internet id ``88.x/y`` travels as
``urn:consortia:iii:88.x/y``; accounts as ``urn:consortia:account:0x…``. Every event carries
``cons:action`` (the contract method) and ``cons:signer``. A document from another system
(no ``cons:action``) is read by the event's type, action, bizStep and disposition; EPC URIs in
it are turned into canonical ids (:mod:`.identifiers`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import jsonschema

from consortia.apps.cbdc.sdk import AppCall
from consortia.apps.trace import sdk
from consortia.apps.trace.identifiers import parse_item_id
from consortia.client.arguments import InvalidArgument
from consortia.errors import ConsortiaError

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CONS_NS = "https://consortia.dev/ns/trace#"
III_URN = "urn:consortia:iii:"
ACCOUNT_URN = "urn:consortia:account:"
MAX_DOCUMENT_EVENTS = 10_000
MAX_ERRORS = 5
ACTIONS = ("register", "observe", "aggregate", "disaggregate", "transform", "handover", "cancel_handover",
           "receive", "certify", "recall", "lift_recall")  # fmt: skip
_PRIMARY = {
    "Registered": "register", "Observed": "observe", "Aggregated": "aggregate",
    "Disaggregated": "disaggregate",
    "Transformed": "transform", "HandoverOffered": "handover", "HandoverCancelled": "cancel_handover",
    "Received": "receive", "Certified": "certify", "Recalled": "recall", "RecallLifted": "lift_recall",
}  # fmt: skip
"""The event of each call that says what the call did (the others follow from it)."""


class EpcisInvalid(ConsortiaError):
    """A document that is not valid EPCIS 2.0, or an event this chain cannot take."""

    code = "epcis_invalid"


@dataclass(frozen=True, slots=True)
class TraceCall:
    """One action on an item. ``party``: the other side of a handover (the receiver of
    ``handover``/``cancel_handover``, the sender of ``receive``); addresses and hashes as 0x text."""

    action: str
    item: str
    items: tuple[str, ...] = ()  # children (aggregate/disaggregate), inputs (transform)
    outputs: tuple[str, ...] = ()
    product: str = ""
    public: tuple[str, ...] = ()
    where: str = ""
    reading: str = ""
    party: str = ""
    result: str = ""
    report: str = ""
    anchor: str = ""
    reason: str = ""
    signer: str = ""
    time_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def normal(self) -> TraceCall:
        """The same call with its item lists in a fixed order (order means nothing to the contract)."""
        return replace(self, items=tuple(sorted(self.items)), outputs=tuple(sorted(self.outputs)))


# --- from the chain ---------------------------------------------------------------------------


def calls_of_events(events: Iterable[dict[str, Any]]) -> list[TraceCall]:
    """The calls behind trace events as :func:`consortia.index.trace_queries.events_of` gives
    them (each with ``name``, ``fields``, ``signer``, ``timestamp_ms``, ``tx_hash``), in order."""
    events = list(events)
    transform_txs = {e["tx_hash"] for e in events if e["name"] == "Transformed"}
    out = []
    for e in events:
        action = _PRIMARY.get(e["name"])
        if action is None or (action == "register" and e["tx_hash"] in transform_txs):
            continue  # consequences (Affected, ...) and the outputs a transformation registered
        out.append(_call_of(action, e["fields"], str(e.get("signer") or ""), int(e["timestamp_ms"])))
    return out


def _call_of(action: str, f: dict[str, Any], signer: str, time_ms: int) -> TraceCall:
    base = TraceCall(action, str(f.get("item") or f.get("parent") or ""), signer=signer, time_ms=time_ms)
    if action == "register":
        return replace(base, product=f["product"], public=tuple(f["public"]))
    if action == "observe":
        return replace(base, where=f["where"], reading=f["reading"])
    if action in ("aggregate", "disaggregate"):
        return replace(base, items=tuple(f["children"]))
    if action == "transform":
        return replace(
            base, item="", items=tuple(f["inputs"]), outputs=tuple(f["outputs"]), product=f["product"]
        )
    if action in ("handover", "cancel_handover"):
        return replace(base, party=f["receiver"])
    if action == "receive":
        return replace(base, party=f["sender"])
    if action == "certify":
        return replace(
            base, result=f["result"], report=f["report"], anchor=f["anchor"] if f["anchor"] != "0x" else ""
        )
    return replace(base, reason=f["reason"])  # recall, lift_recall


def app_call(call: TraceCall) -> AppCall:
    """The contract call that does ``call`` (signed by whoever imports it)."""
    if call.action == "register":
        return sdk.register(call.item, call.product, list(call.public))
    if call.action == "observe":
        return sdk.observe(call.item, call.where, call.reading)
    if call.action == "aggregate":
        return sdk.aggregate(call.item, list(call.items))
    if call.action == "disaggregate":
        return sdk.disaggregate(call.item)
    if call.action == "transform":
        return sdk.transform(list(call.items), list(call.outputs), call.product)
    if call.action == "handover":
        return sdk.handover(call.item, _address(call.party))
    if call.action == "cancel_handover":
        return sdk.cancel_handover(call.item)
    if call.action == "receive":
        return sdk.receive(call.item)
    if call.action == "certify":
        return sdk.certify(
            call.item, call.result, _hash(call.report), _hash(call.anchor) if call.anchor else b""
        )
    if call.action == "recall":
        return sdk.recall(call.item, call.reason)
    if call.action == "lift_recall":
        return sdk.lift_recall(call.item, call.reason)
    raise EpcisInvalid(f"no contract call does {call.action!r}")


def _address(text: str) -> bytes:
    if not (text.startswith("0x") and len(text) == 42):
        raise EpcisInvalid(f"{text!r:.60} is not an account address (0x and 40 hex digits)")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise EpcisInvalid(f"{text!r:.60} is not an account address (0x and 40 hex digits)") from None


def _hash(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    except ValueError:
        raw = b""
    if len(raw) != sdk.HASH_BYTES:
        raise EpcisInvalid(f"{text!r:.80} is not a {sdk.HASH_BYTES}-byte hash in hex")
    return raw


# --- identifiers and times as EPCIS writes them ----------------------------------------------------


def item_uri(item: str) -> str:
    return III_URN + item if item.startswith("88.") else item


def item_of_uri(uri: Any) -> str:
    if not isinstance(uri, str):
        raise EpcisInvalid(f"an item is a URI, got {uri!r:.60}")
    text = uri[len(III_URN) :] if uri.startswith(III_URN) else uri
    try:
        return parse_item_id(text).canonical
    except InvalidArgument as exc:
        raise EpcisInvalid(f"item {uri!r:.80}: {exc.message}") from None


def _is_lot(item: str) -> bool:
    return item.startswith("https://id.gs1.org/01/") and "/10/" in item


def _lists(items: Iterable[str], instance_key: str, class_key: str) -> dict[str, Any]:
    items = list(items)
    out: dict[str, Any] = {}
    instances = [item_uri(i) for i in items if not _is_lot(i)]
    classes = [{"epcClass": i} for i in items if _is_lot(i)]
    if instances:
        out[instance_key] = instances
    if classes:
        out[class_key] = classes
    return out


def _items_of(event: dict[str, Any], instance_key: str, class_key: str) -> tuple[str, ...]:
    found = [item_of_uri(u) for u in event.get(instance_key, [])]
    found += [item_of_uri(q.get("epcClass")) for q in event.get(class_key, [])]
    return tuple(found)


def iso_time(ms: int) -> str:
    return (
        dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def ms_of_time(text: Any) -> int:
    try:
        when = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise EpcisInvalid(f"eventTime {text!r:.40} is not an ISO date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def _account_uri(address: str) -> str:
    return ACCOUNT_URN + address


def _account_of(uri: str) -> str:
    return uri[len(ACCOUNT_URN) :] if uri.startswith(ACCOUNT_URN) else ""


# --- writing -------------------------------------------------------------------------------------


def export_document(calls: Iterable[TraceCall], created_ms: int) -> dict[str, Any]:
    """An EPCIS 2.0 document of ``calls`` (validated before it is returned)."""
    document = {
        "@context": [EPCIS_CONTEXT, {"cons": CONS_NS}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_time(created_ms),
        "epcisBody": {"eventList": [epcis_event(c) for c in calls]},
    }
    validate(document)
    return document


def epcis_event(call: TraceCall) -> dict[str, Any]:
    event: dict[str, Any] = {"eventTime": iso_time(call.time_ms), "eventTimeZoneOffset": "+00:00"}
    a = call.action
    if a in ("aggregate", "disaggregate"):
        event |= {"type": "AggregationEvent", "action": "ADD" if a == "aggregate" else "DELETE",
                  "bizStep": "packing" if a == "aggregate" else "unpacking", "parentID": item_uri(call.item),
                  **_lists(call.items, "childEPCs", "childQuantityList")}  # fmt: skip
    elif a == "transform":
        event |= {
            "type": "TransformationEvent",
            **_lists(call.items, "inputEPCList", "inputQuantityList"),
            **_lists(call.outputs, "outputEPCList", "outputQuantityList"),
            "cons:product": call.product,
        }
    else:
        event |= {"type": "ObjectEvent", "action": "ADD" if a == "register" else "OBSERVE",
                  **_lists([call.item], "epcList", "quantityList")}  # fmt: skip
        if a == "register":
            event |= {"bizStep": "commissioning", "disposition": "active", "cons:product": call.product,
                      "cons:public": list(call.public)}  # fmt: skip
        elif a == "observe":
            event |= {"cons:where": call.where, "cons:reading": call.reading}
        elif a in ("handover", "cancel_handover", "receive"):
            sender, receiver = (call.signer, call.party) if a != "receive" else (call.party, call.signer)
            event |= {
                "bizStep": {
                    "handover": "shipping",
                    "cancel_handover": "void_shipping",
                    "receive": "receiving",
                }[a],
                "sourceList": [{"type": "possessing_party", "source": _account_uri(sender)}],
                "destinationList": [{"type": "possessing_party", "destination": _account_uri(receiver)}],
            }
            if a == "handover":
                event["disposition"] = "in_transit"
        elif a == "certify":
            event |= {"bizStep": "inspecting", "disposition": "conformant" if call.result == "pass"
                      else "non_conformant", "cons:report": call.report}  # fmt: skip
            if call.anchor:
                event["cons:anchor"] = call.anchor
        elif a in ("recall", "lift_recall"):
            event |= {"bizStep": "holding", "disposition": "recalled" if a == "recall" else "active",
                      "cons:reason": call.reason}  # fmt: skip
    event["cons:action"] = a
    if call.signer:
        event["cons:signer"] = _account_uri(call.signer)
    return event


# --- reading -------------------------------------------------------------------------------------


def import_document(document: Any) -> list[TraceCall]:
    """The calls of an EPCIS 2.0 document (validated first), in its order."""
    validate(document)
    events = document["epcisBody"]["eventList"]
    if len(events) > MAX_DOCUMENT_EVENTS:
        raise EpcisInvalid(f"a document holds at most {MAX_DOCUMENT_EVENTS} events, this one {len(events)}")
    out = []
    for n, event in enumerate(events):
        try:
            out.append(call_of_event(event))
        except EpcisInvalid as exc:
            raise EpcisInvalid(f"event {n} ({event.get('type')}): {exc.message}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise EpcisInvalid(f"event {n} ({event.get('type')}): missing or malformed {exc}") from None
    return out


def call_of_event(e: dict[str, Any]) -> TraceCall:
    kind = e["type"]
    action = e.get("cons:action") or _infer(e)
    if action not in ACTIONS:
        raise EpcisInvalid(f"cons:action {action!r:.40} is not one of {list(ACTIONS)}")
    base = TraceCall(
        action, "", signer=_account_of(str(e.get("cons:signer", ""))), time_ms=ms_of_time(e["eventTime"])
    )
    if kind == "AggregationEvent":
        return replace(
            base, item=item_of_uri(e["parentID"]), items=_items_of(e, "childEPCs", "childQuantityList")
        )
    if kind == "TransformationEvent":
        return replace(base, items=_items_of(e, "inputEPCList", "inputQuantityList"),
                       outputs=_items_of(e, "outputEPCList", "outputQuantityList"),
                       product=str(e.get("cons:product", "")))  # fmt: skip
    if kind != "ObjectEvent":
        raise EpcisInvalid(
            f"{kind} events are not taken (ObjectEvent, AggregationEvent, TransformationEvent are)"
        )
    items = _items_of(e, "epcList", "quantityList")
    if len(items) != 1:
        raise EpcisInvalid(f"an ObjectEvent here names one item, this one {len(items)}")
    call = replace(base, item=items[0])
    if action == "register":
        return replace(call, product=str(e.get("cons:product") or "registered from an EPCIS document"),
                       public=tuple(e.get("cons:public", ())))  # fmt: skip
    if action == "observe":
        where = e.get("cons:where") or e.get("readPoint", {}).get("id") or e.get("bizLocation", {}).get("id")
        if not where:
            raise EpcisInvalid("an observation needs cons:where, a readPoint or a bizLocation")
        return replace(call, where=str(where), reading=str(e.get("cons:reading", "")))
    if action in ("handover", "cancel_handover", "receive"):
        side = "sourceList" if action == "receive" else "destinationList"
        key = "source" if action == "receive" else "destination"
        parties = [_account_of(p[key]) for p in e.get(side, []) if p.get("type") == "possessing_party"]
        if len(parties) != 1 or not parties[0]:
            raise EpcisInvalid(
                f"a {action} names the other possessing party as {ACCOUNT_URN}0x… in its {side}"
            )
        return replace(call, party=parties[0])
    if action == "certify":
        report = e.get("cons:report")
        if not isinstance(report, str):
            raise EpcisInvalid("an inspection carries its report's hash as cons:report")
        result = {"conformant": "pass", "non_conformant": "fail"}.get(e.get("disposition", ""))
        if result is None:
            raise EpcisInvalid("an inspection's disposition is conformant or non_conformant")
        return replace(call, result=result, report=report, anchor=str(e.get("cons:anchor", "")))
    if action in ("recall", "lift_recall"):
        return replace(
            call, reason=str(e.get("cons:reason") or ("recalled" if action == "recall" else "lifted"))
        )
    return call  # disaggregate / aggregate under an ObjectEvent never reach here


def _infer(e: dict[str, Any]) -> str:
    """The action of an event from another system (no ``cons:action``)."""
    kind, action, step, disposition = e["type"], e.get("action"), e.get("bizStep"), e.get("disposition")
    if kind == "AggregationEvent":
        return "aggregate" if action == "ADD" else "disaggregate" if action == "DELETE" else "unsupported"
    if kind == "TransformationEvent":
        return "transform"
    if action == "ADD":
        return "register"
    if disposition == "recalled":
        return "recall"
    return {"shipping": "handover", "receiving": "receive", "void_shipping": "cancel_handover",
            "inspecting": "certify"}.get(step, "observe")  # fmt: skip


# --- the schema ----------------------------------------------------------------------------------


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    text = (
        resources.files("consortia.apps.trace.schema").joinpath("EPCIS-JSON-Schema.json").read_text("utf-8")
    )
    return jsonschema.Draft7Validator(
        json.loads(text), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def validate(document: Any) -> None:
    """Raise :class:`EpcisInvalid` naming the first problems unless ``document`` is valid EPCIS 2.0
    (GS1's JSON Schema) and an ``EPCISDocument``."""
    if not isinstance(document, dict) or document.get("type") != "EPCISDocument":
        raise EpcisInvalid('an EPCIS 2.0 document is a JSON object with "type": "EPCISDocument"')
    errors = sorted(_validator().iter_errors(document), key=lambda err: list(err.absolute_path))
    if errors:
        shown = "; ".join(f"{'/'.join(str(p) for p in err.absolute_path) or '(document)'}: "
                          f"{err.message[:160]}" for err in errors[:MAX_ERRORS])  # fmt: skip
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise EpcisInvalid(f"not valid EPCIS 2.0: {shown}{more}")
