"""The OpenAPI 3.1 description of the REST API, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from consortia import __version__
from consortia.api import views
from consortia.api.app_schemas import APP_BODIES, CBDC_TYPES, app_body_ref
from consortia.api.auth_routes import SessionView
from consortia.api.schema_gen import SchemaBook
from consortia.api.views_explorer import EXPLORER_TYPES
from consortia.api.views_health import HEALTH_TYPES
from consortia.api.views_index import INDEX_TYPES
from consortia.api.views_notary import NOTARY_TYPES
from consortia.api.views_ops import OPS_TYPES
from consortia.api.views_perm import PERM_TYPES
from consortia.api.views_privacy import PRIVACY_TYPES
from consortia.api.views_reg import REG_TYPES
from consortia.api.views_trace import TRACE_TYPES
from consortia.ledger.proofs import ReceiptProof, StateValueProof
from consortia.types.genesis import Genesis

_ERROR = {"$ref": "#/components/schemas/Error"}
_HEX = {"type": "string", "pattern": "^0x[0-9a-f]*$"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): _json(_ERROR, "error with a stable machine-readable code") for c in codes}


def _get(summary: str, params: list[dict[str, Any]], ok: str, *errors: int) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {"200": _json({"type": "object"}, ok), **_errors(*errors)},
        }
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def _query(name: str, description: str, typ: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": typ}}


def _bills_paths() -> dict[str, Any]:
    """Cheques and bills (api/bills_routes.py); every action is a signed transaction (``/v1/tx``)."""
    bill = [_path("id", "instrument id")]
    address = "0x + 40 hex digits"
    return {
        "/v1/bills": _get("Instruments a holder holds now, or every instrument (the regulator's view)",
                          [_query("holder", address), _query("start", "first index or id", "integer"),
                           _query("limit", "at most 200", "integer")], "bills", 400),
        "/v1/bills/{id}": _get("One cheque or bill", bill, "bill", 400, 404),
        "/v1/bills/{id}/history": _get("Every step of an instrument, each naming its transaction", bill,
                                       "history", 400, 404),
        "/v1/bills/{id}/liable": _get("Who the holder may claim from on recourse", bill, "liable", 400, 404),
        "/v1/bills/{id}/quote": _get("Discount terms (ACT/360): days, interest, price",
                                     [*bill, _query("rate_bps", "annual rate in basis points", "integer"),
                                      _query("at_ms", "date of the discount (0: now)", "integer")],
                                     "terms", 400, 404),
        "/v1/bills/cover/{owner}/{drawee}": _get("Cover a drawer holds with a drawee",
                                                 [_path("owner", address), _path("drawee", address)],
                                                 "cover", 400),
        "/v1/bills/drawers/{address}": _get("Open dishonours of a drawer", [_path("address", address)],
                                            "open dishonours", 400),
    }


def _energy_paths() -> dict[str, Any]:
    """Energy (api/energy_routes.py); every action is a signed transaction (``/v1/tx``)."""
    address = "0x + 40 hex digits"
    page = [_query("start", "from the n-th (0-based)", "integer"), _query("limit", "at most 200", "integer")]
    return {
        "/v1/energy": _get("Totals: meters, production (Wh), certificates issued and retired, trades", [],
                           "totals", 404),
        "/v1/energy/meters/{address}": _get("A meter: owner, grid operator, interval, maximum, counters",
                                            [_path("address", address)], "meter", 400, 404),
        "/v1/energy/meters/{address}/readings/{period}": _get(
            "One interval's [produced Wh, consumed Wh], or null",
            [_path("address", address), _path("period", "the meter's period")], "reading", 400, 404),
        "/v1/energy/certificates": _get("Green certificates an owner holds (retired ones included)",
                                        [_query("owner", address), *page], "certificates", 400, 404),
        "/v1/energy/certificates/{serial}": _get("One certificate: meter, period, holder, status",
                                                 [_path("serial", "certificate serial")], "certificate",
                                                 400, 404),
        "/v1/energy/trades": _get("Peer-to-peer trades a party offered or accepted",
                                  [_query("party", address), *page], "trades", 400, 404),
        "/v1/energy/trades/{id}": _get("One trade: offer, buyer, locked price, settlement",
                                       [_path("id", "trade id")], "trade", 400, 404),
    }


def _scf_paths() -> dict[str, Any]:
    """Supply-chain finance and credit records (api/scf_routes.py); every action is a signed
    transaction (``/v1/tx``); a borrower's totals only through the logged ``credit.query``."""
    address = "0x + 40 hex digits"
    page = [_query("start", "from the n-th (0-based), or the first payable id", "integer"),
            _query("limit", "at most 200", "integer")]
    ident = [_path("id", "id")]
    return {
        "/v1/scf/payables": _get("Every payable (the regulator's view)", page, "payables", 400, 404),
        "/v1/scf/payables/{id}": _get("One payable and every part of it", ident, "payable", 400, 404),
        "/v1/scf/parts": _get("The unpaid parts a holder holds now", [_query("holder", address), *page],
                              "parts", 400, 404),
        "/v1/scf/parts/{id}": _get("One part: holder, amount, previous holders, offer, financing, claim",
                                   ident, "part", 400, 404),
        "/v1/scf/parts/{id}/quote": _get("Financing terms (ACT/360): days, interest, price",
                                         [*ident, _query("amount", "units to finance", "integer"),
                                          _query("rate_bps", "annual rate in basis points", "integer"),
                                          _query("at_ms", "date of the financing (0: now)", "integer")],
                                         "terms", 400, 404),
        "/v1/scf/lines/{core}": _get("A core enterprise's credit line: bank, limit, used, available",
                                     [_path("core", address)], "line", 400, 404),
        "/v1/scf/invoices/{hash}": _get("An invoice as registered (by the hash of its normalised fields)",
                                        [_path("hash", "0x + 64 hex digits")], "invoice", 400, 404),
        "/v1/scf/credit/loans/{id}": _get("One loan record: commitment, amount, dates, status now", ident,
                                          "loan", 400, 404),
        "/v1/scf/credit/log/{borrower}": _get("Every query of a borrower's credit: who, scope, when",
                                              [_path("borrower", address), *page], "log", 400, 404),
        "/v1/scf/credit/consents/{borrower}/{lender}": _get(
            "A borrower's consent for a lender (scope, until, revoked), or null",
            [_path("borrower", address), _path("lender", address)], "consent", 400, 404),
    }


def _trace_paths() -> dict[str, Any]:
    """Industrial traceability (api/trace_routes.py); every action is a signed transaction
    (``/v1/tx``); the graph queries come from the SQL index."""
    item = [_query("id", "the item: EPC URI, GS1 Digital Link or industrial-internet id (88.x/...)")]
    return {
        "/v1/trace/item": _get("The contract's record of an item (committed state)", item, "item", 400, 404),
        "/v1/trace/status": _get("Holder, pending handover, recall and the recalls an item is affected by",
                                 item, "status", 400, 404),
        "/v1/trace/provenance": _get("Everything an item comes from, the edges and every inspection",
                                     item, "provenance", 400, 404),
        "/v1/trace/where-used": _get("Everything made from an item or packed around it, and the edges",
                                     item, "where-used", 400, 404),
        "/v1/trace/public": _get("The public verification view: only what the producer marked public",
                                 item, "public view", 400, 404),
        "/v1/trace/export": _get("An EPCIS 2.0 document of the events of an item and everything upstream",
                                 item, "EPCIS document", 400, 404),
        "/v1/trace/epcis": {"post": {
            "summary": "Validate an EPCIS 2.0 JSON-LD document (GS1's schema); the calls it would make",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": _json({"type": "object"}, "the calls"), **_errors(400, 413)},
        }},
    }


def _explorer_paths() -> dict[str, Any]:
    """The explorer's own read routes (api/explorer_routes.py); the page itself is ``GET /``."""
    return {
        "/v1/search": _get("What a search box query names: blocks, transactions, accounts, meters, "
                           "proposals, bills, payables and parts, certificates, trades, notarised "
                           "roots, invoices, organisations",
                           [_query("q", "an address, a hash, a height, 'bill 3', 'payable 2', "
                                        "'cert 1', 'proposal 1' or an organisation's name")],
                           "matches: kind, id, label", 400),
        "/v1/explorer/accounts/{address}": _get(
            "An address's identity (or null), the organisations it administers, whether it is a meter",
            [_path("address", "0x + 40 hex digits")], "identity, admin_of, meter", 400),
        "/v1/explorer/trace/events": _get(
            "A traced item's own events in chain order (SQL index): name, fields, signer, transaction",
            [_query("id", "EPC URI, GS1 Digital Link or 88.x/… id")], "events", 400, 404),
        "/v1/explorer/trace/accounts/{address}": _get(
            "The traced items an account holds or produced (SQL index, the first 100 registered)",
            [_path("address", "0x + 40 hex digits")], "items", 400, 404),
        "/v1/auth/whoami": _get(
            "Who the caller is on this node (identity or operator, organisation, role, staff, "
            "oversees, session expiry); {api_access: open} on an open API",
            [], "the caller", 401),
    }


def _notary_paths() -> dict[str, Any]:
    """Notarisation's routes (api/notary_routes.py)."""
    sha = [_path("document", "SHA-256: 0x + 64 hex digits")]
    hashes = {"type": "object", "required": ["hashes"],
              "properties": {"hashes": {"type": "array", "items": {"type": "string"}}}}
    return {
        "/v1/notary/stamp": {"post": {
            "summary": "The stamping service: document hashes in (JSON or raw 32-byte hashes), the "
                       "request's Merkle level and the anchoring's receipt proof out, once final",
            "parameters": [_query("wait", "seconds to wait for finality, at most 60")],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": hashes},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": _json({"type": "object"}, "level, anchor (receipt proof), height"),
                          **_errors(400, 404, 408, 413, 429, 502, 504)}}},
        "/v1/notary/service": _get("The stamping service: stamper, pending work, limits", [],
                                   "service status", 404),
        "/v1/notary/batches": {"post": {
            "summary": "Register a committed one-level batch in this node's document index",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["tx_hash", "hashes"],
                "properties": {"tx_hash": {"type": "string"},
                               "hashes": {"type": "array", "items": {"type": "string"}}}}}}},
            "responses": {"200": _json({"type": "object"}, "indexed"),
                          **_errors(400, 404, 408, 413, 422)}}},
        "/v1/notary/documents/{document}": _get("A document's earliest known stamp, with its receipt",
                                                sha, "first stamp", 400, 404),
        "/v1/notary/roots/{root}": _get("A root's first anchoring on chain",
                                        [_path("root", "0x + 64 hex digits")], "anchoring", 400, 404),
        "/v1/notary/stampers/{address}": _get(
            "The roots an address anchored first",
            [_path("address", "0x + 40 hex digits"), _query("start", "from the n-th", "integer"),
             _query("limit", "1 to 100", "integer")], "roots", 400),
    }


def _privacy_paths() -> dict[str, Any]:
    """Sealed content (api/privacy_routes.py, apps/privacy); keys, the supervisor, stores and
    erasures are signed transactions of the ``privacy`` contract (``/v1/tx``)."""
    return {
        "/v1/confidential": {
            **_get("This node's store of sealed content: its organisation, objects kept and erased", [],
                   "store"),
            "post": {"summary": "A party's sealed object (ciphertext and envelopes), kept if the chain's "
                                "object carries its SHA-256; names the other concerned stores",
                     "requestBody": {"required": True, "content": {
                         "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                     "responses": {"200": _json({"type": "object"}, "kept, replicate_to"),
                                   **_errors(400, 401, 403, 404, 409, 410, 413)}},
        },
        "/v1/confidential/{hash}": _get(
            "Sealed content: the ciphertext, the caller's envelope, the object's parties",
            [_path("hash", "SHA-256 of the ciphertext: 0x + 64 hex digits")], "content",
            400, 401, 403, 404, 410),
    }


def _health_paths() -> dict[str, Any]:
    """Healthcare records (api/health_routes.py); grants, revocations and emergency openings are
    signed transactions (``/v1/tx``)."""
    record = [_path("record", "SHA-256 of the ciphertext: 0x + 64 hex digits")]
    address = "0x + 40 hex digits"
    fetch = {"type": "object", "required": ["record", "public_key", "timestamp_ms", "nonce", "signature"],
             "properties": {"record": _HEX, "public_key": _HEX, "timestamp_ms": {"type": "integer"},
                            "nonce": _HEX, "signature": _HEX}}
    return {
        "/v1/health/node": _get("This node's record store: custodian address, sealing key, limits", [],
                                "store", 404),
        "/v1/health/fetch": {"post": {
            "summary": "A reader's signed fetch request: the ciphertext and its sealed data key, once the "
                       "access is logged on chain",
            "requestBody": {"required": True, "content": {"application/json": {"schema": fetch}}},
            "responses": {"200": _json({"type": "object"}, "ciphertext, sealed_key, basis, log_tx, height"),
                          **_errors(400, 401, 403, 404, 409, 413, 504)}}},
        "/v1/health/records/{record}": {
            **_get("A record on chain (patient, hospital, custodian, sealed keys), and whether this node "
                   "holds its ciphertext", record, "record", 400, 404),
            "put": {"summary": "The record's ciphertext, kept if the chain holds its hash for this node",
                    "parameters": record,
                    "requestBody": {"required": True, "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {"200": _json({"type": "object"}, "stored"), **_errors(400, 404, 413)}},
        },
        "/v1/health/records/{record}/log": _get(
            "The record's access log", [*record, _query("start", "from the n-th", "integer"),
                                        _query("limit", "1 to 100", "integer")], "log", 400, 404),
        "/v1/health/records/{record}/grants/{address}": _get(
            "A grant on the record and the address's access now", [*record, _path("address", address)],
            "grant", 400, 404),
        "/v1/health/patients/{address}": _get("A patient's records and emergency alerts",
                                              [_path("address", address)], "records, alerts", 400),
        "/v1/health/keys/{address}": _get("An identity's registered sealing key (X25519)",
                                          [_path("address", address)], "key", 400),
    }


def _index_paths() -> dict[str, Any]:
    """The SQL index's routes (api/index_routes.py)."""
    page = [_query("cursor", "next_cursor of the previous page"),
            _query("limit", "1 to 1000", "integer"), _query("order", "desc (default) or asc")]
    heights = [_query("from_height", "lowest height", "integer"),
               _query("to_height", "highest height", "integer")]
    return {
        "/v1/index/status": _get("The SQL index: backend, indexed height, lag", [], "status", 404),
        "/v1/history/{address}": _get(
            "An account's history: calls and payments made and received, with counterparties",
            [_path("address", "0x + 40 hex digits"), _query("role", "call, out or in"), *page],
            "page of history", 400, 404),
        "/v1/index/txs": _get(
            "Transactions by contract, method, status, sender and height range",
            [_query("contract", "contract name"), _query("method", "method (with contract)"),
             _query("status", "ok or an error code"), _query("sender", "0x + 40 hex digits"),
             *heights, *page], "page of transactions", 400, 404),
        "/v1/index/txs/{tx_hash}": _get("One indexed transaction",
                                        [_path("tx_hash", "0x + 64 hex digits")], "transaction", 400, 404),
        "/v1/index/events": _get(
            "Events by contract and name, or by a party (an address in their fields)",
            [_query("contract", "contract name"), _query("name", "event name (with contract)"),
             _query("party", "0x + 40 hex digits"), *heights, *page], "page of events", 400, 404),
        "/v1/index/alerts": _get("Regulator alerts, by account",
                                 [_query("address", "0x + 40 hex digits"), *page], "page of alerts",
                                 400, 404),
        "/v1/index/proposals": _get("Governance proposals with their votes",
                                    [_query("status", "open, executed, rejected, failed"), *page],
                                    "page of proposals", 400, 404),
        "/v1/index/wallets": _get("Wallets by operator bank",
                                  [_query("org", "organisation name"), *page], "page of wallets", 400, 404),
        "/v1/index/check": _get("Compare the index with the chain over a height range",
                                heights, "check report", 400, 404),
    }  # fmt: skip


RESPONSE_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/status"): (views.StatusView,),
    ("post", "/v1/auth/session"): (SessionView,),
    ("get", "/v1/genesis"): (Genesis,),
    ("post", "/v1/tx"): (views.AdmittedView,),
    ("post", "/v1/txs"): (views.BatchView,),
    ("get", "/v1/tx/{tx_hash}"): (views.TxCommittedView, views.TxPendingView, views.TxDroppedView),
    ("get", "/v1/tx/{tx_hash}/wait"): (views.TxCommittedView, views.TxDroppedView),
    ("get", "/v1/tx/{tx_hash}/proof"): (ReceiptProof,),
    ("get", "/v1/blocks"): (views.BlockListView,),
    ("get", "/v1/blocks/{ref}"): (views.BlockView,),
    ("get", "/v1/accounts/{address}"): (views.AccountView,),
    ("get", "/v1/accounts/{address}/proof"): (StateValueProof,),
    ("get", "/v1/state/{key}"): (StateValueProof,),
    ("get", "/v1/evidence"): (views.EvidenceListView,),
    ("get", "/v1/contracts/{name}"): (views.ContractInfoView,),
    ("get", "/v1/contracts/{name}/source"): (views.ContractSourceView,),
    ("post", "/v1/contracts/{name}/view/{method}"): (views.ContractViewResult,),
    ("get", "/openapi.json"): (views.OpenApiDocument,),
    **CBDC_TYPES,
    **INDEX_TYPES,
    **REG_TYPES,
    **NOTARY_TYPES,
    **OPS_TYPES,
    **PERM_TYPES,
    **HEALTH_TYPES,
    **PRIVACY_TYPES,
    **EXPLORER_TYPES,
    **TRACE_TYPES,
}
"""The type each route's handler builds its 2xx body with (api/views.py, or a canonical Struct
sent through ``to_plain``); a JSON route not named here answers an application's view
(:class:`~consortia.api.views.ViewAnswer`) unless ``app_schemas.APP_BODIES`` types it."""

REQUEST_TYPES: dict[tuple[str, str], Any] = {
    ("post", "/v1/tx"): views.TxSubmitBody,
    ("post", "/v1/txs"): views.TxBatchBody,
    ("post", "/v1/contracts/{name}/view/{method}"): views.ViewArgsBody,
}


def _typed(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every JSON body described by the type the server builds it with, and the
    components those types need."""
    book = SchemaBook()
    error = book.ref(views.ErrorBody)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                _type_parameter(parameter)
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if media is None:
                    continue
                if not status.startswith("2"):
                    media["schema"] = error
                    continue
                if (method, path) in APP_BODIES:  # built around contract views' declared results
                    media["schema"] = app_body_ref(method, path, book.components)
                    continue
                types = RESPONSE_TYPES.get((method, path), (views.ViewAnswer,))
                refs = [book.ref(t) for t in types]
                media["schema"] = refs[0] if len(refs) == 1 else {"anyOf": refs}
            body = REQUEST_TYPES.get((method, path))
            if body is not None:
                content = operation.setdefault("requestBody", {"content": {}})["content"]
                content.setdefault("application/json", {})["schema"] = book.ref(body)
    spec["components"]["schemas"].update(book.components)
    spec["components"]["schemas"]["Error"] = error
    return spec


INTEGER_PARAMETERS = {"id", "tier", "serial", "period", "start", "limit", "since", "before", "version",
                      "rate_bps", "at_ms", "amount", "from_height", "to_height"}


def _type_parameter(parameter: dict[str, Any]) -> None:
    """A parameter's schema as its route parses it: addresses and hashes by their pattern,
    ids and counts as integers (``0x + 40 hex digits`` in a description is the address form)."""
    description = parameter.get("description", "")
    if "0x + 40 hex digits" in description:
        parameter["schema"] = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
    elif "0x + 64 hex digits" in description:
        parameter["schema"] = {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}
    elif parameter["name"] in INTEGER_PARAMETERS and parameter["schema"].get("type") == "string":
        parameter["schema"] = {"type": "integer", "minimum": 0}


def openapi_spec(server_url: str = "/") -> dict[str, Any]:
    """The API's description; ``server_url`` is where this node serves it."""
    spec = _spec(server_url)
    for operations in spec["paths"].values():  # any caller past its budget (api/edge.py)
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("429", _json(
                _ERROR, "rate_limited (retry after Retry-After seconds) or too_many_streams"))
    return _typed(spec)


def _spec(server_url: str) -> dict[str, Any]:
    tx_hash = _path("tx_hash", "transaction hash, 0x + 64 hex digits")
    submit_body = {
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {"tx": _HEX}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }
    }
    batch_body = {
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "txs": {"type": "array", "items": _HEX}}}},
            "application/msgpack": {"schema": {"type": "string", "format": "binary",
                                               "description": "MessagePack array of bin"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "servers": [{"url": server_url, "description": "this node"}],
        "info": {"title": "Consortia node API", "version": __version__,
                 "description": "Submit transactions, read blocks, accounts and state with "
                                "proofs that verify offline, and follow commits live."},
        "paths": {
            "/v1/status": _get("Chain and node status", [], "height, ids, roots"),
            "/v1/auth/session": {"post": {
                "summary": "A session token (bearer, 15 min, this node) for a request signed by an "
                           "identity (RFC 9421) or the operator's one-time sign-in link; see "
                           "docs/api-access.md",
                "responses": {"200": _json({"type": "object"}, "the session"),
                              **_errors(401, 403, 404)}}},
            "/v1/genesis": _get("The genesis this node runs", [], "genesis"),
            "/v1/tx": {"post": {
                "summary": "Submit one signed transaction (wire bytes)",
                "requestBody": submit_body,
                "responses": {"202": _json({"type": "object"}, "accepted into the mempool"),
                              **_errors(400, 408, 409, 413, 503)}}},
            "/v1/txs": {"post": {
                "summary": "Submit a batch of signed transactions",
                "requestBody": batch_body,
                "responses": {"202": _json({"type": "object"},
                                           "per-transaction results: hash or error"),
                              **_errors(400, 408, 413)}}},
            "/v1/tx/{tx_hash}": _get("A transaction: pending, committed with its receipt, or dropped "
                                     "(status dropped, with the reason it can never commit)",
                                     [tx_hash], "transaction: wire hex (tx), receipt with each "
                                     "event's decoded fields, and decoded (sender, nonce, expiry, "
                                     "contract, method, value, named args, raw)", 400, 404),
            "/v1/tx/{tx_hash}/wait": _get(
                "Wait until a pending transaction commits (or the pool drops it)",
                [tx_hash, _query("timeout", "seconds to wait (max 60)", "number")],
                "the committed transaction (with decoded) and receipt, or status dropped with "
                "the reason",
                400, 404, 504),
            "/v1/tx/{tx_hash}/proof": _get(
                "Receipt with inclusion proofs and the certified block header",
                [tx_hash], "a receipt proof that verifies offline", 400, 404),
            "/v1/blocks": _get("Latest blocks", [_query("limit", "at most 100", "integer"),
                                                 _query("before", "height", "integer")],
                               "block summaries", 400),
            "/v1/blocks/{ref}": _get("A block by height, id, or 'latest'",
                                     [_path("ref", "height, 0x block id, or latest")],
                                     "header, certificate, transaction hashes (txs) and each "
                                     "transaction decoded with its receipt (transactions)",
                                     400, 404),
            "/v1/accounts/{address}": _get("Balance and nonces of an account",
                                           [_path("address", "0x + 40 hex digits")],
                                           "account", 400),
            "/v1/accounts/{address}/proof": _get(
                "An account's record with its state proof",
                [_path("address", "0x + 40 hex digits")], "state value proof", 400),
            "/v1/state/{key}": _get("Any state key's value, or its absence, with proof",
                                    [_path("key", "hex key")], "state value proof", 400),
            "/v1/events": {"get": {
                "summary": "Server-sent events: every committed block with its events",
                "responses": {"200": {"description": "text/event-stream of 'block' events: "
                                                     "the block summary and its events, each with "
                                                     "raw data and decoded fields",
                                      "content": {"text/event-stream": {}}}}}},
            "/v1/evidence": _get("Validator misbehaviour recorded on chain", [],
                                 "double proposals and double votes, with their proofs"),
            "/v1/contracts/{name}": _get("A deployed contract: versions, code hash, owner, methods",
                                         [_path("name", "contract name")], "contract info", 404),
            "/v1/contracts/{name}/source": _get("A contract's source (optionally ?version=N)",
                                                [_path("name", "contract name"),
                                                 _query("version", "1 to the current version",
                                                        "integer")], "source", 400, 404),
            "/v1/contracts/{name}/view/{method}": {"post": {
                "summary": "A read-only call on committed state; body {\"args\": [...]}",
                "parameters": [_path("name", "contract name"), _path("method", "view method")],
                "responses": {"200": _json({"type": "object"}, "the view's result"),
                              **_errors(400, 404, 408, 413)}}},
            "/v1/orgs": _get("Organisations of the consortium", [], "organisations"),
            "/v1/identities/{address}": _get("An identity: org, role, KYC tier, status",
                                             [_path("address", "0x + 40 hex digits")], "identity",
                                             400, 404),
            "/v1/gov/proposals": _get("Governance proposals", [_query("since", "id", "integer"),
                                                               _query("limit", "count", "integer")],
                                      "proposals", 400),
            "/v1/gov/proposals/{id}": _get("One proposal with its votes and outcome",
                                           [_path("id", "proposal id")], "proposal", 400, 404),
            "/v1/reg/alerts": _get("Regulator alerts", [_query("since", "alert id", "integer"),
                                                        _query("limit", "count", "integer")],
                                   "alerts", 400),
            "/v1/reg/alerts/stream": {"get": {
                "summary": "Server-sent events: regulator alerts as they are committed",
                "responses": {"200": {"description": "text/event-stream",
                                      "content": {"text/event-stream": {}}}}}},
            "/v1/audit/reads": _get("The read audit: overseers' reads of other organisations' data, "
                                    "oldest first (decisions/0026)",
                                    [_query("after", "entries after this sequence number", "integer"),
                                     _query("limit", "at most this many (1 to 500)", "integer"),
                                     _query("org", "only reads of this organisation's data")],
                                    "page of reads", 400, 503),
            "/v1/reg/rules": _get("The regulator's alert rules (thresholds, windows)", [], "rules"),
            "/v1/reg/audit/{address}": _get("The regulator's view of an account",
                                            [_path("address", "0x + 40 hex digits")], "audit", 400),
            "/v1/reg/limits/{tier}": _get("The limits of a KYC tier", [_path("tier", "0 to 255")],
                                          "tier limits", 400),
            "/v1/cbdc/supply": _get("Money supply: issued, redeemed, in circulation, per organisation",
                                    [], "supply"),
            "/v1/wallets/{address}": _get("A wallet: bank, tier, balance, tier limits, paid today",
                                          [_path("address", "0x + 40 hex digits")], "wallet", 400, 404),
            "/v1/reserves/{org}": _get("An organisation's reserve account and its issuance",
                                       [_path("org", "organisation name")], "reserve", 400, 404),
            "/v1/escrows/{id}": _get("An escrow of the escrow application", [_path("id", "escrow id")],
                                     "escrow", 400, 404),
            "/v1/earmarks/{id}": _get("Earmarked funds", [_path("id", "earmark id")], "earmark", 400, 404),
            "/v1/resolve/{id}": _get("An identity-resolution request (the answer stays ciphertext)",
                                     [_path("id", "request id")], "request", 400, 404),
            **_index_paths(),
            **_notary_paths(),
            **_health_paths(),
            **_privacy_paths(),
            **_bills_paths(),
            **_energy_paths(),
            **_scf_paths(),
            **_trace_paths(),
            **_explorer_paths(),
            "/metrics": {"get": {"summary": "Prometheus metrics",
                                 "responses": {"200": {"description": "text exposition"}}}},
            "/openapi.json": _get("This description of the API (OpenAPI 3.1)", [], "the document"),
        },
        "components": {"schemas": {"Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "details": {"type": "object"}},
        }}},
    }
