"""What a search box query asks for (pure): the explorer's one box takes an address, a
transaction or block hash, a height, an application object id or an organisation's name.

A bare number is a height *and* every object with that id; a word before it picks one kind
(``bill 3``, ``payable:2``, ``cert 1``, ``proposal 1``, ``block 12``). A traced item's identifier
(an EPC URI, a GS1 Digital Link or an industrial-internet id ``88.x/...``) is made canonical
(form ``item``); a 64-hex hash may also be a health record. Anything that is none of these is a
typed :class:`BadSearch` that says what the box takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from consortia.apps.trace.identifiers import canonical
from consortia.client.arguments import InvalidArgument
from consortia.errors import DecodeError

MAX_QUERY_CHARS = 200
MAX_ID = 2**63 - 1

KINDS: dict[str, str] = {
    "block": "block", "height": "block",
    "proposal": "proposal", "prop": "proposal",
    "bill": "bill", "cheque": "bill",
    "payable": "payable",
    "part": "part",
    "certificate": "certificate", "cert": "certificate",
    "trade": "trade",
}  # fmt: skip
"""Words a user may put before a number, and the kind of object each one names."""
NUMBERED = ("block", "proposal", "bill", "payable", "part", "certificate", "trade")
"""Every kind a bare number may name, in the order matches are listed."""

_NUMBER = re.compile(r"[0-9]{1,19}")
_HEX = re.compile(r"(?:0[xX])?([0-9a-fA-F]+)")
_PREFIXED = re.compile(r"([A-Za-z]+)\s*[:#\s]\s*#?([0-9]{1,19})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ITEM = re.compile(r"(?:urn:epc:|https?://|88\.[0-9][0-9.]*/)", re.IGNORECASE)
"""How a traced item's identifier starts: an EPC URI, a Digital Link, an industrial-internet id."""


class BadSearch(DecodeError):
    code = "bad_search"


@dataclass(frozen=True)
class Query:
    """One classified query: ``form`` is ``number``, ``address``, ``hash``, ``item`` (``text`` is
    the canonical id) or ``name``."""

    form: str
    text: str
    number: int | None = None
    kinds: tuple[str, ...] = ()
    raw: bytes = b""


def parse_query(text: str) -> Query:
    """Classify a search box query; :class:`BadSearch` with what the box takes otherwise."""
    q = text.strip()
    if not q:
        raise BadSearch("type an address, a transaction or block hash, a height, an object id "
                        "(bill 3, payable 2, cert 1, proposal 1), a health record, an item's "
                        "identifier (urn:epc:..., a GS1 Digital Link, 88.x/...) or an organisation's name")
    if len(q) > MAX_QUERY_CHARS:
        raise BadSearch(f"a search is at most {MAX_QUERY_CHARS} characters, got {len(q)}")
    if _NUMBER.fullmatch(q):
        return _numbered(q, int(q), NUMBERED)
    prefixed = _PREFIXED.fullmatch(q)
    if prefixed is not None:
        kind = KINDS.get(prefixed.group(1).lower())
        if kind is None:
            known = ", ".join(sorted(set(KINDS)))
            raise BadSearch(f"{prefixed.group(1)!r} is not a kind of object; use one of {known}")
        return _numbered(q, int(prefixed.group(2)), (kind,))
    if _ITEM.match(q):
        try:
            return Query("item", canonical(q))
        except InvalidArgument as exc:
            raise BadSearch(f"not a traced item's identifier: {exc.message}") from None
    hexed = _HEX.fullmatch(q)
    if hexed is not None and len(hexed.group(1)) in (40, 64):
        digits = hexed.group(1)
        form = "address" if len(digits) == 40 else "hash"
        return Query(form, q, raw=bytes.fromhex(digits))
    if hexed is not None and (q[:2] in ("0x", "0X") or len(q) > 20):
        raise BadSearch(f"{len(hexed.group(1))} hex digits is neither an address (40) nor a hash (64)")
    if _NAME.fullmatch(q):
        return Query("name", q)
    raise BadSearch(f"{q[:40]!r} is not an address, a hash, a height, an object id or a name")


def _numbered(text: str, number: int, kinds: tuple[str, ...]) -> Query:
    if number > MAX_ID:
        raise BadSearch(f"{number} is larger than any height or id ({MAX_ID})")
    return Query("number", text, number=number, kinds=kinds)
