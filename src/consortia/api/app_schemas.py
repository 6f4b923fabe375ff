"""Response schemas of the application routes, from the result shapes their contracts' views
declare (contracts/python/shapes.py, decisions/0023).

An application route answers a body it builds around view results: ``{"height": h, "id": n,
"bill": <bills.get>}``, or the view's record spread into the body (``{"height": h, **quote}``).
:data:`APP_BODIES` says, per route, which field holds which view's result and which fields the
route adds itself; :func:`app_body_schema` turns that into a JSON Schema whose view parts are the
declared shapes, read from the contracts deployed at genesis (``apps.genesis.app_sources``), so
a contract's annotation and the document cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, TypedDict

from consortia.contracts.permissioned.records import TierLimits
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.shapes import (
    HEX_SCHEMA,
    OneOf,
    RecordShape,
    Shape,
    json_schema,
)

REF = "#/components/schemas/"
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
FIXED: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "text": {"type": "string"},
    "hex": HEX_SCHEMA,
    "address": ADDRESS,
}
"""The fields a route writes itself: heights and ids, flags, text, hex, addresses as sent."""


@dataclass(frozen=True, slots=True)
class View:
    """A field holding ``contract.method``'s result (its JSON view)."""

    contract: str
    method: str
    nullable: bool = False
    """The route answers null where the view found nothing (``{}`` or None)."""
    each: bool = False
    """A list of the view's results, one per item the route read."""


@dataclass(frozen=True, slots=True)
class Spread:
    """The fields of ``contract.method``'s record result, spread into the body."""

    contract: str
    method: str


@dataclass(frozen=True, slots=True)
class Body:
    fields: dict[str, str | View | Spread]
    optional: tuple[str, ...] = field(default=())


def _height(**fields: str | View | Spread) -> Body:
    return Body({"height": "int", **fields})


APP_BODIES: dict[tuple[str, str], Body] = {
    # cbdc applications (api/cbdc_routes.py)
    ("get", "/v1/escrows/{id}"): _height(id="int", escrow=View("escrow", "get")),
    ("get", "/v1/earmarks/{id}"): _height(id="int", earmark=View("earmark", "get")),
    ("get", "/v1/resolve/{id}"): _height(id="int", request=View("resolve", "get")),
    # bills (api/bills_routes.py)
    ("get", "/v1/bills"): Body({"height": "int", "holder": "text", "bills": View("bills", "instruments")},
                               optional=("holder",)),
    ("get", "/v1/bills/{id}"): _height(id="int", bill=View("bills", "get")),
    ("get", "/v1/bills/{id}/history"): _height(id="int", history=View("bills", "history")),
    ("get", "/v1/bills/{id}/liable"): _height(id="int", liable=View("bills", "liable")),
    ("get", "/v1/bills/{id}/quote"): _height(id="int", rate_bps="int", terms=Spread("bills", "quote")),
    ("get", "/v1/bills/cover/{owner}/{drawee}"): _height(cover=View("bills", "cover")),
    ("get", "/v1/bills/drawers/{address}"): _height(open_dishonours=View("bills", "open_dishonours")),
    # energy (api/energy_routes.py)
    ("get", "/v1/energy"): _height(totals=View("energy", "totals")),
    ("get", "/v1/energy/meters/{address}"): _height(meter=View("energy", "meter")),
    ("get", "/v1/energy/meters/{address}/readings/{period}"): _height(
        period="int", reading=View("energy", "reading")),
    ("get", "/v1/energy/certificates"): _height(owner="text", certificates=View("energy", "certificates_of")),
    ("get", "/v1/energy/certificates/{serial}"): _height(serial="int",
                                                         certificate=View("energy", "certificate")),
    ("get", "/v1/energy/trades"): _height(party="text", trades=View("energy", "trades_of")),
    ("get", "/v1/energy/trades/{id}"): _height(id="int", trade=View("energy", "trade")),
    # supply-chain finance and credit records (api/scf_routes.py)
    ("get", "/v1/scf/payables"): _height(payables=View("scf", "payables_list")),
    ("get", "/v1/scf/payables/{id}"): _height(id="int", payable=View("scf", "payable"),
                                              parts=View("scf", "parts_of")),
    ("get", "/v1/scf/parts"): _height(holder="text", parts=View("scf", "held_by")),
    ("get", "/v1/scf/parts/{id}"): _height(id="int", part=View("scf", "part")),
    ("get", "/v1/scf/parts/{id}/quote"): _height(id="int", amount="int", rate_bps="int",
                                                 terms=Spread("scf", "quote")),
    ("get", "/v1/scf/lines/{core}"): _height(line=View("scf", "line")),
    ("get", "/v1/scf/invoices/{hash}"): _height(invoice=View("scf", "invoice")),
    ("get", "/v1/scf/credit/loans/{id}"): _height(id="int", loan=View("credit", "loan")),
    ("get", "/v1/scf/credit/log/{borrower}"): _height(borrower="text", log=View("credit", "log")),
    ("get", "/v1/scf/credit/consents/{borrower}/{lender}"): _height(
        consent=View("credit", "consent_of", nullable=True)),
    # notarisation (api/notary_routes.py)
    ("get", "/v1/notary/roots/{root}"): _height(anchored=View("notary", "get")),
    ("get", "/v1/notary/stampers/{address}"): Body({
        "stamper": "address", "count": "int", "start": "int", "roots": View("notary", "get", each=True)}),
    # health records (api/health_routes.py)
    ("get", "/v1/health/records/{record}"): _height(record=View("health", "record"), stored_here="bool"),
    ("get", "/v1/health/records/{record}/log"): Body({
        "record": "hex", "count": "int", "start": "int", "log": View("health", "log")}),
    ("get", "/v1/health/records/{record}/grants/{address}"): Body({
        "record": "hex", "grantee": "address", "grant": View("health", "grant_of"),
        "access": View("health", "access")}),
    ("get", "/v1/health/patients/{address}"): Body({
        "patient": "address", "records": "int", "alerts": "int",
        "record_ids": View("health", "patient_record", each=True),
        "alert_list": View("health", "alert", each=True)}),
    ("get", "/v1/health/keys/{address}"): Body({"address": "address",
                                                "sealing_key": View("health", "key_of")}),
    # traceability (api/trace_routes.py): the contract's record; the graph comes from the index
    ("get", "/v1/trace/item"): _height(item=View("trace", "get")),
}  # fmt: skip
"""Per application route (method, OpenAPI path): the fields of its 2xx body. A ``Spread``'s key
only names it here; its record's fields are the body's."""


# --- the currency's own routes (api/cbdc_routes.py): permissioned state, not contract views -----


class SupplyTotalsView(TypedDict):
    issued: int
    redeemed: int
    in_circulation: int


class SupplyView(TypedDict):
    """``GET /v1/cbdc/supply``: the chain's issuance and redemption, and each organisation's."""

    height: int
    issued: int
    redeemed: int
    in_circulation: int
    by_org: dict[str, SupplyTotalsView]


class WalletView(TypedDict):
    """``GET /v1/wallets/{address}``: identity, tier, balance, the tier's limits (null: none) and
    what the wallet paid on the head block's UTC day."""

    height: int
    address: str
    org: str
    role: str
    wallet: bool
    tier: int
    status: str
    commitment: str
    opened_height: int
    opened_by: str | None
    closed_height: int
    frozen: bool
    balance: int
    limits: TierLimits
    day: int
    spent_today: int
    remaining_today: int | None
    balance_room: int | None


class ReserveView(TypedDict):
    """``GET /v1/reserves/{org}``: an organisation's reserve account and its issuance."""

    height: int
    org: str
    role: str
    status: str
    address: str
    balance: int
    frozen: bool
    supply: SupplyTotalsView


CBDC_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/cbdc/supply"): (SupplyView,),
    ("get", "/v1/wallets/{address}"): (WalletView,),
    ("get", "/v1/reserves/{org}"): (ReserveView,),
}
"""The bodies ``api/cbdc_routes`` builds (``supply_json``, ``wallet_json``, ``reserve_json``)."""


@functools.cache
def declared_results() -> dict[tuple[str, str], Shape | None]:
    """``(contract, method) -> declared result shape`` of every contract deployed at genesis."""
    from consortia.apps.genesis import app_sources

    host = PythonContractHost()
    return {
        (name, method): spec.returns
        for name, source in app_sources().items()
        for method, spec in host.compile(source).methods.items()
    }


def result_shape(contract: str, method: str) -> Shape | None:
    try:
        return declared_results()[(contract, method)]
    except KeyError:
        raise KeyError(f"no genesis contract method {contract}.{method}") from None


def view_schema(part: View, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shape = result_shape(part.contract, part.method)
    if part.nullable and isinstance(shape, OneOf):
        # the route answers null instead of the empty record the view returns for "none"
        kept = tuple(o for o in shape.options if not (isinstance(o, RecordShape) and not o.fields))
        shape = kept[0] if len(kept) == 1 else OneOf(kept)
    schema = json_schema(shape, components, prefix=part.contract + ".", ref_base=REF)
    if part.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {"type": "array", "items": schema} if part.each else schema


def body_name(method: str, path: str) -> str:
    """The component name of a route's body: ``answer.get.bills.id.quote``."""
    words = [w.strip("{}") for w in path.removeprefix("/v1/").split("/")]
    return ".".join(["answer", method, *(re.sub(r"[^A-Za-z0-9_-]", "_", w) for w in words)])


def app_body_ref(method: str, path: str, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A ``$ref`` to the route's body schema, added to ``components`` with the records it needs."""
    name = body_name(method, path)
    components[name] = app_body_schema(APP_BODIES[(method, path)], components)
    return {"$ref": REF + name}


def app_body_schema(body: Body, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The JSON Schema of a route's 2xx body; records it needs are added to ``components``."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for key, part in body.fields.items():
        if isinstance(part, Spread):
            shape = result_shape(part.contract, part.method)
            if not isinstance(shape, RecordShape):
                raise TypeError(f"{part.contract}.{part.method} declares no record to spread")
            for name, field_shape in shape.fields:
                properties[name] = json_schema(field_shape, components, prefix=part.contract + ".",
                                               ref_base=REF)
                required.append(name)
            continue
        properties[key] = dict(FIXED[part]) if isinstance(part, str) else view_schema(part, components)
        if key not in body.optional:
            required.append(key)
    return {"type": "object", "additionalProperties": False, "properties": properties, "required": required}
