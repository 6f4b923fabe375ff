"""Declared result shapes of contract methods (issue 16, decisions/0023): a view's return
annotation is read into a shape, carried by the ABI, and its result is checked against it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.contracts.python.checker import find_violations
from consortia.contracts.python.errors import ContractRejected, ResultShapeMismatch
from consortia.contracts.python.shapes import (
    DictOf,
    ListOf,
    OneOf,
    RecordShape,
    Scalar,
    json_schema,
    mismatch,
    shape_json,
    shape_text,
)
from consortia.contracts.python.testing import DictState, LocalChain

SHOP = '''
from consortia_contract import Contract, Map, Record, Value, public, view


class Item(Record):
    """One item on sale."""
    name: str
    price: int
    seller: bytes


class Listing(Item):
    tags: list[str]
    sold: bool | None


class Shop(Contract):
    items = Map(int, dict)
    count = Value(int)

    @public
    def add(self, name: str, price: int) -> int:
        self.count += 1
        self.items[self.count] = {"name": name, "price": price, "seller": self.caller}
        return self.count

    @view
    def item(self, n: int) -> Item | None:
        return self.items.get(n)

    @view
    def listing(self, n: int) -> Listing:
        found = self.items[n]
        return {"name": found["name"], "price": found["price"], "seller": found["seller"],
                "tags": ["new"], "sold": None}

    @view
    def all_items(self) -> list[Item]:
        return [self.items[n] for n in range(1, self.count + 1)]

    @view
    def prices(self) -> dict[str, int]:
        return {self.items[n]["name"]: self.items[n]["price"] for n in range(1, self.count + 1)}

    @view
    def total(self) -> int:
        return self.count

    @view
    def anything(self, kind: str) -> dict:
        if kind == "none":
            return None
        return {"kind": kind}

    @view
    def liar(self, kind: str) -> Item:
        if kind == "missing":
            return {"name": "x", "price": 1}
        if kind == "extra":
            return {"name": "x", "price": 1, "seller": b"", "colour": "red"}
        if kind == "type":
            return {"name": "x", "price": "1", "seller": b""}
        if kind == "bool":
            return {"name": "x", "price": True, "seller": b""}
        return None

    @view
    def wrong_count(self) -> int:
        return "many"
'''


@pytest.fixture
def shop() -> LocalChain:
    chain = LocalChain()
    chain.deploy("shop", SHOP, sender=chain.account("owner"))
    chain.call("shop", "add", "pen", 3, sender=chain.account("alice"))
    return chain


def test_views_that_keep_their_declared_shape_answer(shop: LocalChain) -> None:
    alice = LocalChain.account("alice")
    assert shop.view("shop", "item", 1) == {"name": "pen", "price": 3, "seller": alice}
    assert shop.view("shop", "item", 9) is None
    assert shop.view("shop", "all_items") == [{"name": "pen", "price": 3, "seller": alice}]
    assert shop.view("shop", "prices") == {"pen": 3}
    assert shop.view("shop", "listing", 1)["tags"] == ["new"]
    assert shop.view("shop", "total") == 1


def test_bare_dict_declares_no_shape_as_before(shop: LocalChain) -> None:
    assert shop.view("shop", "anything", "none") is None
    assert shop.view("shop", "anything", "x") == {"kind": "x"}


@pytest.mark.parametrize(("kind", "said"), [
    ("missing", "lacks seller"),
    ("extra", "has undeclared 'colour'"),
    ("type", "result.price must be int, got str"),
    ("bool", "result.price must be int, got bool"),
    ("none", "must be a Item record (a dict), got None"),
])
def test_a_view_returning_the_wrong_shape_is_a_typed_error(shop: LocalChain, kind: str, said: str) -> None:
    with pytest.raises(ResultShapeMismatch) as caught:
        shop.view("shop", "liar", kind)
    assert caught.value.code == "bad_result"
    assert "shop.liar returned a value that is not the Item it declares" in caught.value.message
    assert said in caught.value.message
    with pytest.raises(ResultShapeMismatch, match="not the int it declares: result must be int, got str"):
        shop.view("shop", "wrong_count")


def method_shapes(chain: LocalChain) -> dict[str, Any]:
    loaded = chain.host.loaded(DictState(chain.state), "shop")
    return {name: shape_json(spec.returns) for name, spec in loaded.methods.items()}


def test_public_results_are_described_not_checked(shop: LocalChain) -> None:
    assert method_shapes(shop)["add"] == {"type": "int"}


def test_the_abi_carries_every_declared_shape(shop: LocalChain) -> None:
    shapes = method_shapes(shop)
    item = {"type": "record", "name": "Item",
            "fields": {"name": {"type": "str"}, "price": {"type": "int"}, "seller": {"type": "bytes"}}}
    assert shapes["item"] == {"type": "union", "of": [item, {"type": "null"}]}
    assert shapes["all_items"] == {"type": "list", "items": item}
    assert shapes["prices"] == {"type": "dict", "keys": "str", "values": {"type": "int"}}
    listing = shapes["listing"]
    assert list(listing["fields"]) == ["name", "price", "seller", "tags", "sold"]  # inherited first
    assert listing["fields"]["sold"] == {"type": "union", "of": [{"type": "bool"}, {"type": "null"}]}
    assert shapes["anything"] is None


def test_json_schema_of_a_shape_names_each_record_once() -> None:
    item = RecordShape("Item", (("name", Scalar("str")), ("seller", Scalar("bytes"))))
    records: dict[str, dict[str, Any]] = {}
    schema = json_schema(OneOf((ListOf(item), Scalar("null"))), records, prefix="shop.")
    assert schema == {"anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/shop.Item"}},
                                {"type": "null"}]}
    assert records["shop.Item"]["required"] == ["name", "seller"]
    assert records["shop.Item"]["properties"]["seller"]["pattern"] == "^0x([0-9a-f]{2})*$"
    assert shape_text(OneOf((ListOf(item), Scalar("null")))) == "list[Item] | None"
    assert shape_text(DictOf("bytes", Scalar("int"))) == "dict[bytes, int]"


@pytest.mark.parametrize(("body", "rule"), [
    ("class Bad(Record):\n    x: int = 3\n", "record"),
    ("class Bad(Record):\n    def f(self) -> int:\n        return 1\n", "record"),
    ("class Bad(Record):\n    count = Value(int)\n", "record"),
])
def test_a_record_holds_only_annotated_fields(body: str, rule: str) -> None:
    source = ("from consortia_contract import Contract, Record, Value, view\n" + body +
              "class C(Contract):\n    @view\n    def f(self) -> int:\n        return 1\n")
    found = find_violations(source)
    assert [v.rule for v in found] == [rule]
    assert isinstance(found[0], ContractRejected)


def test_a_record_cannot_be_built_by_calling_it() -> None:
    chain = LocalChain()
    source = SHOP.replace('return self.count\n\n    @view\n    def anything',
                         'return Item(name="x")\n\n    @view\n    def anything')
    chain.deploy("shop", source, sender=chain.account("owner"))
    with pytest.raises(Exception, match="declares a result shape; return a plain dict"):
        chain.view("shop", "total")


SHAPES = st.recursive(
    st.sampled_from([Scalar("int"), Scalar("str"), Scalar("bytes"), Scalar("bool"), Scalar("null")]),
    lambda inner: st.one_of(
        inner.map(ListOf),
        inner.map(lambda s: DictOf("str", s)),
        st.lists(inner, min_size=2, max_size=3).map(lambda o: OneOf(tuple(o))),
        st.lists(inner, min_size=1, max_size=3).map(
            lambda fs: RecordShape("R", tuple((f"f{i}", s) for i, s in enumerate(fs)))),
    ),
    max_leaves=8,
)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=4)
    | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


def conforms(shape: Any, value: Any) -> bool:
    """An independent reading of the rules, to compare :func:`mismatch` with."""
    if isinstance(shape, Scalar):
        return type(value) is {"int": int, "str": str, "bytes": bytes, "bool": bool,
                               "null": type(None)}[shape.kind]
    if isinstance(shape, ListOf):
        return isinstance(value, list) and all(conforms(shape.item, v) for v in value)
    if isinstance(shape, DictOf):
        return isinstance(value, dict) and all(type(k) is str and conforms(shape.value, v)
                                               for k, v in value.items())
    if isinstance(shape, OneOf):
        return any(conforms(o, value) for o in shape.options)
    return (isinstance(value, dict) and set(value) == {n for n, _ in shape.fields}
            and all(conforms(s, value[n]) for n, s in shape.fields))


@settings(max_examples=200, deadline=None)
@given(shape=SHAPES, value=PLAIN)
def test_mismatch_agrees_with_the_rules(shape: Any, value: Any) -> None:
    problem = mismatch(shape, value)
    assert (problem is None) == conforms(shape, value), problem


def test_contract_info_shows_types_and_result_shapes(shop: LocalChain) -> None:
    from consortia.api.contract_routes import methods_json

    methods = methods_json(shop.host, DictState(shop.state), "shop")
    assert methods["add"] == {"kind": "public", "params": ["name", "price"], "types": ["str", "int"],
                              "returns": {"type": "int"}}
    assert methods["item"]["returns"]["of"][0]["name"] == "Item"
    assert methods["anything"]["returns"] is None


def test_every_view_of_the_built_in_applications_declares_its_result() -> None:
    from consortia.apps.genesis import app_sources
    from consortia.contracts.python.host import PythonContractHost

    host = PythonContractHost()
    undeclared = []
    for name, source in app_sources().items():
        for method, spec in host.compile(source).methods.items():
            if spec.kind == "view" and spec.returns is None:
                undeclared.append(f"{name}.{method}")
    assert undeclared == []


def test_an_application_routes_body_is_checked_against_its_views_declared_shape() -> None:
    import jsonschema
    from tests.bills_world import make_world
    from tests.openapi_bodies import check_answer
    from tests.test_app_bills import issue_bill

    from consortia.apps.bills import sdk
    from consortia.contracts.python.json_data import to_json

    w = make_world()
    bill_id = issue_bill(w)
    w.ok("beta", sdk.discount(bill_id, w["bank-b"], 500))  # an offer: the Offer record, not {}
    bill = to_json(w.view(sdk.get(bill_id)))
    check_answer(f"/v1/bills/{bill_id}", {"height": 3, "id": bill_id, "bill": bill})
    check_answer(f"/v1/bills/{bill_id}/history",
                 {"height": 3, "id": bill_id, "history": to_json(w.view(sdk.history(bill_id)))})
    check_answer(f"/v1/bills/{bill_id}/quote",
                 {"height": 3, "id": bill_id, "rate_bps": 500, **to_json(w.view(sdk.quote(bill_id, 500, 0)))})
    for broken in ({**bill, "amount": "1"}, {**bill, "holder": "acme"}, {**bill, "extra": 1},
                   {k: v for k, v in bill.items() if k != "memo"}, {**bill, "offer": {"bank": 1}}):
        with pytest.raises(jsonschema.ValidationError):
            check_answer(f"/v1/bills/{bill_id}", {"height": 3, "id": bill_id, "bill": broken})


def test_the_currency_routes_bodies_keep_their_documented_schema() -> None:
    import jsonschema
    from tests.bills_world import make_world
    from tests.openapi_bodies import check_answer

    from consortia.api.cbdc_routes import reserve_json, supply_json, wallet_json
    from consortia.crypto.address import format_address

    w = make_world()
    acme = w["acme"]
    wallet = {"height": 1, **wallet_json(w.h.get, acme, w.now)}
    check_answer(f"/v1/wallets/{format_address(acme)}", wallet)
    check_answer("/v1/cbdc/supply", {"height": 1, **supply_json(w.h.get)})
    check_answer("/v1/reserves/bank-a", {"height": 1, **reserve_json(w.h.get, "bank-a")})
    with pytest.raises(jsonschema.ValidationError):
        check_answer(f"/v1/wallets/{format_address(acme)}", {**wallet, "limits": {"daily": "1"}})


def test_the_abi_form_reads_back_as_the_annotation(shop: LocalChain) -> None:
    from consortia.contracts.python.shapes import json_shape_text

    shapes = method_shapes(shop)
    assert json_shape_text(shapes["item"]) == "Item | None"
    assert json_shape_text(shapes["all_items"]) == "list[Item]"
    assert json_shape_text(shapes["prices"]) == "dict[str, int]"
    assert json_shape_text(shapes["add"]) == "int"
    assert json_shape_text({"type": "tuple"}) == json_shape_text("x") == "?"


def test_contract_info_text_shows_each_methods_result(shop: LocalChain) -> None:
    from consortia.api.contract_routes import methods_json
    from consortia.cli.contract_cmds import print_info
    from consortia.cli.output import console

    data = {"name": "shop", "version": 1, "code_hash": "0x00", "owner": "0x00", "height": 1, "versions": [],
            "methods": methods_json(shop.host, DictState(shop.state), "shop")}
    with console.capture() as captured:
        print_info(data)
    text = captured.get()
    assert "@view item(n) -> Item | None" in text and "@view listing(n) -> Listing" in text
    assert "@view anything(kind)\n" in text  # no declared shape: nothing shown
