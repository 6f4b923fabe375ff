"""Item identifiers of ``apps/trace``: GS1 (EPC URIs and GS1 Digital Link) and industrial-internet
identifiers, checked and turned into the one canonical form the contract keys items by (pure).

Accepted, and what they become:

* ``urn:epc:id:sgtin:<company prefix>.<indicator><item ref>.<serial>`` → ``https://id.gs1.org/01/<GTIN-14>/21/<serial>``
* ``urn:epc:class:lgtin:<company prefix>.<indicator><item ref>.<lot>`` → ``https://id.gs1.org/01/<GTIN-14>/10/<lot>``
* ``urn:epc:id:sscc:<company prefix>.<extension><serial ref>`` → ``https://id.gs1.org/00/<SSCC-18>``
* GS1 Digital Link URIs on any host (``https://example.com/01/<GTIN>/21/<serial>``; a GTIN-8, -12
  or -13 is padded to 14 digits): the same, on ``id.gs1.org``; the check digit must be right;
* ``88.<n>[.<n>...]/<suffix>`` (an industrial-internet identifier, Handle-based): as given.

EPC URIs carry no check digit (it is computed); Digital Links do (it is checked). Serials and
lots are 1 to 20 characters of letters, digits, ``-``, ``.``, ``_`` (a subset of GS1's character
set 82 that needs no percent-encoding; ``%2D``-style escapes in the input are decoded first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from consortia.client.arguments import InvalidArgument

DL_HOST = "https://id.gs1.org"
MAX_VALUE = 20
MAX_ID = 160
MAX_III_SUFFIX = 100
VALUE = r"[0-9A-Za-z\-._]{1,20}"
_SGTIN = re.compile(r"urn:epc:id:sgtin:([0-9]{6,12})\.([0-9]{1,7})\.(.{1,60})")
_LGTIN = re.compile(r"urn:epc:class:lgtin:([0-9]{6,12})\.([0-9]{1,7})\.(.{1,60})")
_SSCC = re.compile(r"urn:epc:id:sscc:([0-9]{6,12})\.([0-9]{5,11})")
_DL = re.compile(r"https?://[A-Za-z0-9.\-]{1,100}(?::[0-9]{1,5})?(?:/[^/]{1,60})*?/(01|00)/([0-9]{8,18})"
                 r"(?:/(10|21)/([^/?#]{1,60}))?/?(?:[?#].*)?")
_III = re.compile(r"88(?:\.[0-9]{1,8}){1,5}/[0-9A-Za-z\-._/:]{1,100}")
_VALUE = re.compile(VALUE)
KINDS = ("serial", "batch", "unit", "iii")


@dataclass(frozen=True, slots=True)
class ItemId:
    canonical: str
    kind: str  # serial | batch | unit | iii
    gtin: str = ""  # 14 digits (serial, batch) or the SSCC (unit)
    value: str = ""  # the serial or lot


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (the digits before it)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def valid_check_digit(digits: str) -> bool:
    return digits.isdigit() and len(digits) >= 2 and check_digit(digits[:-1]) == int(digits[-1])


def _value(text: str, what: str) -> str:
    value = unquote(text)
    if _VALUE.fullmatch(value) is None:
        raise InvalidArgument(f"a {what} is 1 to {MAX_VALUE} letters, digits, '-', '.' or '_'; "
                              f"got {value!r:.40}")
    return value


def _gtin_from_epc(prefix: str, reference: str) -> str:
    if len(prefix) + len(reference) != 13:
        raise InvalidArgument(f"an EPC's company prefix and item reference have 13 digits together, got "
                              f"{prefix}.{reference}")
    body = reference[0] + prefix + reference[1:]
    return body + str(check_digit(body))


def parse_item_id(text: object) -> ItemId:
    """The canonical identifier of an EPC URI, a GS1 Digital Link or an industrial-internet
    identifier; anything else (or a wrong check digit) is an :class:`InvalidArgument`."""
    if not isinstance(text, str) or not 0 < len(text) <= 300:
        raise InvalidArgument(f"an item id is text (EPC URI, GS1 Digital Link or 88.x/...), got {text!r:.60}")
    raw = text.strip()
    if m := _SGTIN.fullmatch(raw):
        gtin, serial = _gtin_from_epc(m[1], m[2]), _value(m[3], "serial")
        return ItemId(f"{DL_HOST}/01/{gtin}/21/{serial}", "serial", gtin, serial)
    if m := _LGTIN.fullmatch(raw):
        gtin, lot = _gtin_from_epc(m[1], m[2]), _value(m[3], "lot")
        return ItemId(f"{DL_HOST}/01/{gtin}/10/{lot}", "batch", gtin, lot)
    if m := _SSCC.fullmatch(raw):
        prefix, reference = m[1], m[2]
        if len(prefix) + len(reference) != 17:
            raise InvalidArgument(f"an SSCC's company prefix and serial reference have 17 digits together, "
                                  f"got {prefix}.{reference}")
        body = reference[0] + prefix + reference[1:]
        sscc = body + str(check_digit(body))
        return ItemId(f"{DL_HOST}/00/{sscc}", "unit", sscc)
    if m := _DL.fullmatch(raw):
        return _digital_link(m[1], m[2], m[3], m[4], raw)
    if _III.fullmatch(raw):
        if len(raw) > MAX_ID:
            raise InvalidArgument(f"an industrial-internet identifier has at most {MAX_ID} characters")
        return ItemId(raw, "iii")
    raise InvalidArgument(f"{raw!r:.80} is not an item id: give an EPC URI (urn:epc:id:sgtin:..., "
                          "urn:epc:class:lgtin:..., urn:epc:id:sscc:...), a GS1 Digital Link "
                          "(https://id.gs1.org/01/<GTIN>/21/<serial>) or an industrial-internet id "
                          "(88.x.y/...)")


def _digital_link(ai: str, digits: str, qualifier: str | None, value: str | None, raw: str) -> ItemId:
    if ai == "00":
        if len(digits) != 18 or qualifier is not None:
            raise InvalidArgument(f"{raw!r:.80}: an SSCC is 18 digits with nothing after it")
        if not valid_check_digit(digits):
            raise InvalidArgument(f"SSCC {digits} fails its check digit "
                                  f"(expected {check_digit(digits[:-1])})")
        return ItemId(f"{DL_HOST}/00/{digits}", "unit", digits)
    if len(digits) not in (8, 12, 13, 14):
        raise InvalidArgument(f"a GTIN has 8, 12, 13 or 14 digits, got {len(digits)} ({digits})")
    if not valid_check_digit(digits):
        raise InvalidArgument(f"GTIN {digits} fails its check digit (expected {check_digit(digits[:-1])})")
    if qualifier is None or value is None:
        raise InvalidArgument(f"{raw!r:.80} names a product class, not an item: "
                              "add /21/<serial> or /10/<lot>")
    gtin = digits.rjust(14, "0")
    found = _value(value, "serial" if qualifier == "21" else "lot")
    kind = "serial" if qualifier == "21" else "batch"
    return ItemId(f"{DL_HOST}/01/{gtin}/{qualifier}/{found}", kind, gtin, found)


def canonical(text: object) -> str:
    return parse_item_id(text).canonical


def epc_uri(item: ItemId, company_prefix_digits: int) -> str:
    """The EPC URI of a GS1 item, given its company prefix's length (6 to 12 digits: the
    Digital Link does not carry it)."""
    if item.kind not in ("serial", "batch", "unit") or not 6 <= company_prefix_digits <= 12:
        raise InvalidArgument("an EPC URI is made for a GS1 item with a company prefix of 6 to 12 digits")
    n = company_prefix_digits
    if item.kind == "unit":
        body = item.gtin[:-1]
        return f"urn:epc:id:sscc:{body[1:1 + n]}.{body[0]}{body[1 + n:]}"
    body = item.gtin[:-1]
    reference = body[0] + body[1 + n:]
    if item.kind == "serial":
        return f"urn:epc:id:sgtin:{body[1:1 + n]}.{reference}.{item.value}"
    return f"urn:epc:class:lgtin:{body[1:1 + n]}.{reference}.{item.value}"
