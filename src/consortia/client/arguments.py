"""Argument checks shared by the SDK and the CLI: every value is checked before anything is
signed, so a mistake is refused with a typed error instead of being committed (issue 16).

* amounts: integers (not bool) from 1 to 2**64 - 1, else :class:`InvalidAmount`;
* attached values: integers from 0 to 2**64 - 1, else :class:`InvalidAmount`;
* addresses: 20 bytes, or 40 hex digits as text (``0x`` optional), else
  :class:`~consortia.crypto.address.BadAddress`;
* contract names, method names, call arguments, heights, ids and text: else
  :class:`InvalidArgument`.

The CLI reads numbers as text and turns them into integers here (:func:`parse_int_text`), so
a huge or malformed number is a typed error, never an ``OverflowError`` traceback.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from consortia.contracts.python.layout import valid_name
from consortia.contracts.python.limits import MAX_NAME_LEN
from consortia.contracts.python.plain_data import plain_problem
from consortia.crypto.address import BadAddress, parse_address
from consortia.errors import ConsortiaError, InvalidCall

__all__ = [
    "MAX_AMOUNT",
    "MAX_HEIGHT",
    "BadAddress",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidValue",
    "check_address_arg",
    "check_amount",
    "check_call_args",
    "check_contract_name",
    "check_flag",
    "check_height",
    "check_id",
    "check_instance",
    "check_list",
    "check_method_name",
    "check_text",
    "check_value",
    "is_int",
    "parse_int_text",
]

MAX_AMOUNT = 2**64 - 1
"""Largest amount of one action (the chain's 64-bit balances)."""
MAX_HEIGHT = 2**63 - 1
MAX_INT_TEXT = 40
"""Longest number accepted as text (2**64 has 20 digits; more is refused before ``int()``)."""
METHOD_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
T = TypeVar("T")


class InvalidAmount(ConsortiaError):
    """An amount that is not an integer from 1 to 2**64 - 1 (refused before signing)."""

    code = "invalid_amount"


class InvalidValue(InvalidAmount, InvalidCall):
    """Native units attached to a call that are not an integer from 0 to 2**64 - 1 (an
    :class:`InvalidAmount`, and an ``InvalidCall`` as the SDK raised before)."""

    code = "invalid_amount"


class InvalidArgument(ConsortiaError):
    """Any other argument refused before signing (heights, ids, names, lists, personal data)."""

    code = "invalid_argument"


def is_int(value: object) -> bool:
    """An ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: object) -> str:
    try:
        return f"{value!r:.60}"
    except Exception:  # a hostile __repr__ must not hide the refusal
        return f"<{type(value).__name__}>"


def check_amount(value: object, what: str = "amount") -> int:
    """An integer from 1 to 2**64 - 1, or :class:`InvalidAmount`."""
    if not is_int(value):
        raise InvalidAmount(f"{what} must be a whole number of units, got {_shown(value)}",
                            amount=_shown(value))
    assert isinstance(value, int)
    if not 0 < value <= MAX_AMOUNT:
        raise InvalidAmount(f"{what} must be from 1 to {MAX_AMOUNT}, got {_shown(value)}",
                            amount=_shown(value))
    return value


def check_value(value: object, what: str = "attached value") -> int:
    """Native units attached to a call: an integer from 0 to 2**64 - 1, or :class:`InvalidAmount`."""
    if not is_int(value) or not 0 <= value <= MAX_AMOUNT:  # type: ignore[operator]
        raise InvalidValue(f"{what} must be a whole number of units from 0 to {MAX_AMOUNT}, "
                           f"got {_shown(value)}", amount=_shown(value))
    assert isinstance(value, int)
    return value


def check_address_arg(value: object, what: str = "address") -> bytes:
    """A 20-byte address from bytes or ``"0x…"`` text, or :class:`BadAddress`."""
    if isinstance(value, bytes | bytearray):
        if len(value) != 20:
            raise BadAddress(f"{what} must be 20 bytes, got {len(value)}")
        return bytes(value)
    if isinstance(value, str):
        try:
            return parse_address(value.strip())
        except BadAddress as exc:
            raise BadAddress(f"{what}: {exc.message}", **exc.details) from None
    raise BadAddress(f"{what} must be 20 bytes or 0x text, got {type(value).__name__}")


def check_height(value: object, what: str = "height") -> int:
    if not is_int(value) or not 0 <= value <= MAX_HEIGHT:  # type: ignore[operator]
        raise InvalidArgument(f"{what} must be a block height from 0 to {MAX_HEIGHT}, got {_shown(value)}")
    assert isinstance(value, int)
    return value


def check_id(value: object, what: str = "id") -> int:
    if not is_int(value) or not 1 <= value <= MAX_HEIGHT:  # type: ignore[operator]
        raise InvalidArgument(f"{what} must be a whole number from 1 to {MAX_HEIGHT}, got {_shown(value)}")
    assert isinstance(value, int)
    return value


def check_text(value: object, what: str, maximum: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > maximum:
        raise InvalidArgument(f"{what} must be text of 1 to {maximum} characters, got {_shown(value)}")
    return value


def check_flag(value: object, what: str) -> bool:
    """``True`` or ``False`` itself: ``None``, ``0``, ``"yes"`` are refused, not coerced."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"{what} must be True or False, got {_shown(value)}")
    return value


def check_list(value: object, what: str, minimum: int = 0, maximum: int = 10_000) -> list[Any]:
    """A list or tuple of ``minimum`` to ``maximum`` items (text and bytes are not lists of
    characters here); the items are the caller's to check."""
    if not isinstance(value, list | tuple):
        raise InvalidArgument(f"{what} must be a list, got {type(value).__name__}")
    if not minimum <= len(value) <= maximum:
        raise InvalidArgument(f"{what} must list {minimum} to {maximum} items, got {len(value)}")
    return list(value)


def check_instance(value: object, kind: type[T], what: str) -> T:
    """``value`` if it is a ``kind`` (a key pair, a saved record, ...), else :class:`InvalidArgument`."""
    if not isinstance(value, kind):
        raise InvalidArgument(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def check_contract_name(value: object, what: str = "contract name") -> str:
    """A contract name: lowercase letters, digits and ``_``, starting with a letter, at most
    :data:`MAX_NAME_LEN` characters."""
    if not valid_name(value):
        raise InvalidArgument(f"{what} must be lowercase letters, digits and _ (starting with a "
                              f"letter, at most {MAX_NAME_LEN}), got {_shown(value)}")
    assert isinstance(value, str)
    return value


def check_method_name(value: object, what: str = "method name") -> str:
    """A method name: an identifier that does not start with ``_`` (contracts cannot define
    such names), at most :data:`MAX_NAME_LEN` characters."""
    if (not isinstance(value, str) or len(value) > MAX_NAME_LEN
            or METHOD_PATTERN.fullmatch(value) is None):
        raise InvalidArgument(f"{what} must be letters, digits and _ (starting with a letter, "
                              f"at most {MAX_NAME_LEN}), got {_shown(value)}")
    return value


def check_call_args(args: object, what: str = "call arguments") -> list[Any]:
    """A call's arguments as a list of plain data (None, bool, int of 64 bits, str, bytes,
    list, tuple, dict with text keys), or :class:`InvalidArgument`."""
    if not isinstance(args, list | tuple):
        raise InvalidArgument(f"{what} must be a list, got {type(args).__name__}")
    problem = plain_problem(list(args))
    if problem is not None:
        raise InvalidArgument(f"{what} must be plain data: {problem}")
    return list(args)


def parse_int_text(text: object, what: str = "amount") -> int:
    """A whole number written as decimal text (``_`` separators allowed), for the CLI; the
    range is checked by the caller (:func:`check_amount`, :func:`check_height`, ...)."""
    if not isinstance(text, str):
        raise InvalidArgument(f"{what} must be a whole number, got {_shown(text)}")
    body = text.strip().replace("_", "")
    digits = body[1:] if body[:1] in "+-" else body
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > MAX_INT_TEXT:
        error = InvalidAmount if what == "amount" or what.endswith("amount") else InvalidArgument
        raise error(f"{what} must be a whole number (at most {MAX_INT_TEXT} digits), got {_shown(text)}")
    return int(body)


MAX_TIMEOUT = 86_400.0
"""Longest wait for finality a command accepts (a day)."""


DIGEST_BYTES = 32


def check_digest(value: object, what: str = "hash",
                 error: type[ConsortiaError] | None = None) -> bytes:
    """A 32-byte digest (SHA-256, SM3) from bytes or 64 hex digits with an optional ``0x``;
    anything else is ``error`` (an :class:`InvalidArgument` unless an app names its own)."""
    raw: bytes | None = value if isinstance(value, bytes) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            raw = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
        except ValueError:
            raw = None
    if raw is None or len(raw) != DIGEST_BYTES:
        raise (error or InvalidArgument)(f"the {what} is {DIGEST_BYTES} bytes (64 hex digits, optional 0x), "
                                         f"got {str(value)[:80]!r}")
    return raw


def check_bps(value: object, maximum: int, what: str = "rate") -> int:
    """A whole rate in basis points a year, 1 to ``maximum``."""
    if not is_int(value) or not 1 <= value <= maximum:  # type: ignore[operator]
        raise InvalidArgument(f"the {what} is 1 to {maximum} basis points a year, got {value!r:.40}")
    assert isinstance(value, int)
    return value


CHAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_chain_id(value: object, what: str = "chain id") -> str:
    """A chain id: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."""
    if not isinstance(value, str) or CHAIN_ID.fullmatch(value) is None:
        raise InvalidArgument(f"{what} must be 1 to 64 letters, digits, '.', '_' or '-' (starting with a "
                              f"letter or digit), got {value!r}")
    return value


def check_timeout(value: float) -> float:
    """Seconds to wait: more than 0 and at most a day (``nan`` and ``inf`` refused)."""
    if not 0 < value <= MAX_TIMEOUT:
        raise InvalidArgument(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, "
                              f"got {value}")
    return value
