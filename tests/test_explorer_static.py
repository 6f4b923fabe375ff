"""The explorer's files and its search query parser, without a node: every page file is served
from the package (nothing from the internet), chain data never reaches the DOM as markup, and the
search box's queries are classified (or refused with what the box takes)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.api.explorer_routes import ASSETS, CSP, STATIC
from consortia.api.search_query import KINDS, NUMBERED, BadSearch, parse_query

SCRIPTS = sorted(name for name in ASSETS if name.endswith(".js"))


def test_every_asset_the_page_loads_is_shipped_and_served() -> None:
    html = (STATIC / "explorer.html").read_text()
    loaded = set(re.findall(r'(?:src|href)="/explorer/([^"]+)"', html))
    imports = re.compile(r'from "\./([a-z_0-9]+\.js)"')
    imported = {m for name in SCRIPTS for m in imports.findall((STATIC / name).read_text())}
    assert loaded | imported <= set(ASSETS), (loaded | imported) - set(ASSETS)
    for name in ASSETS:
        assert (STATIC / name).is_file(), name


def test_nothing_comes_from_the_internet_and_no_markup_is_built_from_strings() -> None:
    for name in [*ASSETS, "explorer.html"]:
        text = (STATIC / name).read_text()
        urls = [u for u in re.findall(r"https?://[^\s\"')]+", text) if u != "http://www.w3.org/2000/svg"]
        assert not urls, (name, urls)  # the SVG namespace is a name, not a fetch
        for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                       "new Function", "style="):
            assert unsafe not in text, (name, unsafe)
    assert "default-src 'none'" in CSP and "script-src 'self'" in CSP and "connect-src 'self'" in CSP


@pytest.mark.parametrize(("text", "form", "kinds", "number"), [
    ("12", "number", NUMBERED, 12),
    (" 0 ", "number", NUMBERED, 0),
    ("bill 3", "number", ("bill",), 3),
    ("Payable:2", "number", ("payable",), 2),
    ("cert #1", "number", ("certificate",), 1),
    ("proposal 7", "number", ("proposal",), 7),
    ("height 5", "number", ("block",), 5),
])  # fmt: skip
def test_numbers_and_object_ids(text: str, form: str, kinds: tuple[str, ...], number: int) -> None:
    query = parse_query(text)
    assert (query.form, query.kinds, query.number) == (form, kinds, number)


def test_addresses_hashes_and_names() -> None:
    address = "0x" + "ab" * 20
    assert parse_query(address).form == "address" and parse_query(address).raw == bytes.fromhex("ab" * 20)
    assert parse_query("AB" * 20).form == "address"
    digest = "0x" + "0f" * 32
    assert parse_query(digest).form == "hash" and parse_query(digest).raw == bytes.fromhex("0f" * 32)
    assert parse_query("bank-a").form == "name"
    assert parse_query("beef").form == "name"  # short hex-looking words are names


@pytest.mark.parametrize(("text", "says"), [
    ("", "type an address"),
    ("   ", "type an address"),
    ("0x1234", "neither an address (40) nor a hash (64)"),
    ("0x" + "a" * 63, "neither an address"),
    ("widget 4", "not a kind of object"),
    ("9" * 19, "larger than any height"),
    ("x" * 201, "at most 200 characters"),
    ("<script>", "is not an address"),
    ("12 13", "is not an address"),
])  # fmt: skip
def test_refusals_say_what_the_box_takes(text: str, says: str) -> None:
    with pytest.raises(BadSearch) as refused:
        parse_query(text)
    assert says in refused.value.message and refused.value.code == "bad_search"
    assert refused.value.http_status == 400


def test_every_kind_word_names_a_numbered_kind() -> None:
    assert set(KINDS.values()) == set(NUMBERED)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=250))
def test_any_text_is_classified_or_refused_with_a_typed_error(text: str) -> None:
    try:
        query = parse_query(text)
    except BadSearch as refused:
        assert refused.message
        return
    assert query.form in ("number", "address", "hash", "name")
    if query.form == "number":
        assert query.number is not None and 0 <= query.number < 2**63 and query.kinds
    if query.form in ("address", "hash"):
        assert len(query.raw) == (20 if query.form == "address" else 32)


@pytest.mark.parametrize(("text", "item"), [
    ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
    ("urn:epc:class:lgtin:0614141.107346.COIL-7", "https://id.gs1.org/01/10614141073464/10/COIL-7"),
    ("https://example.com/01/10614141073464/21/2017", "https://id.gs1.org/01/10614141073464/21/2017"),
    ("88.100.1/pump-7", "88.100.1/pump-7"),
])  # fmt: skip
def test_a_traced_items_identifier_is_made_canonical(text: str, item: str) -> None:
    query = parse_query(text)
    assert (query.form, query.text) == ("item", item)


@pytest.mark.parametrize("text", ["urn:epc:id:sgtin:1", "https://id.gs1.org/01/10614141073465/21/1",
                                  "88.1/"])  # fmt: skip
def test_a_bad_item_identifier_is_refused_saying_so(text: str) -> None:
    with pytest.raises(BadSearch) as refused:
        parse_query(text)
    assert "not a traced item's identifier" in refused.value.message


def test_names_that_look_like_nothing_else_stay_names() -> None:
    assert parse_query("88.1").form == "name" and parse_query("hosp-a").form == "name"
