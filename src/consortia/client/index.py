"""SDK methods of the SQL index: account history, transactions, events, objects, check.

    queries = IndexQueries(client)
    page = queries.history(address, limit=50)              # newest first
    older = queries.history(address, cursor=page["next_cursor"])
    everything = queries.history_all(address)              # follows the cursors
    transfers = queries.txs(contract="currency", method="transfer", from_height=100)

Arguments are checked before anything is sent (typed :class:`InvalidArgument` /
:class:`~consortia.crypto.address.BadAddress`); the node's refusals come back typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from consortia.client.arguments import (
    InvalidArgument,
    check_address_arg,
    check_contract_name,
    check_height,
    check_text,
)
from consortia.client.client import Client
from consortia.crypto.address import format_address

MAX_LIMIT = 1000
MAX_TEXT = 64
ROLES = ("call", "out", "in")
ORDERS = ("desc", "asc")
DEFAULT_MAX_ITEMS = 100_000
"""What :meth:`IndexQueries.history_all` gathers at most unless told otherwise."""


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r:.40}")
    return limit


def _choice(value: str, what: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidArgument(f"{what} must be one of {', '.join(choices)}, got {value!r:.40}")
    return value


def _paging(cursor: str | None, limit: int, order: str) -> dict[str, Any]:
    out: dict[str, Any] = {"limit": _limit(limit), "order": _choice(order, "order", ORDERS)}
    if cursor:
        out["cursor"] = check_text(cursor, "cursor", MAX_TEXT)
    return out


class IndexQueries:
    def __init__(self, client: Client) -> None:
        self.client = client

    def status(self) -> dict[str, Any]:
        return self.client.get("/v1/index/status")  # type: ignore[no-any-return]

    def history(
        self, address: bytes | str, *, role: str | None = None, order: str = "desc",
        cursor: str | None = None, limit: int = 100,
    ) -> dict[str, Any]:  # fmt: skip
        """One page of an account's history: ``{"items", "next_cursor", "indexed_height"}``."""
        params = _paging(cursor, limit, order)
        if role is not None:
            params["role"] = _choice(role, "role", ROLES)
        path = f"/v1/history/{format_address(check_address_arg(address))}"
        return self.client.get(path, **params)  # type: ignore[no-any-return]

    def iter_history(
        self, address: bytes | str, *, role: str | None = None, order: str = "desc",
        page_size: int = MAX_LIMIT, cursor: str | None = None,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Every entry from ``cursor`` on (the start by default), a page at a time."""
        while True:
            page = self.history(address, role=role, order=order, cursor=cursor, limit=page_size)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def history_all(self, address: bytes | str, *, role: str | None = None, order: str = "desc",
                    max_items: int = DEFAULT_MAX_ITEMS) -> list[dict[str, Any]]:  # fmt: skip
        """Every entry of an account's history (at most ``max_items``; more is an error, so a
        caller never takes a cut list for the whole)."""
        out: list[dict[str, Any]] = []
        for item in self.iter_history(address, role=role, order=order):
            if len(out) >= max_items:
                raise InvalidArgument(f"the history has more than {max_items} entries; page it "
                                      "with history(cursor=...) or raise max_items")
            out.append(item)
        return out

    def complete_history(self, address: bytes | str, first: dict[str, Any],
                         max_items: int = DEFAULT_MAX_ITEMS) -> dict[str, Any]:  # fmt: skip
        """The first page of a history (e.g. the one ``reg audit`` carries) with every later
        page appended: the account's whole history, newest first."""
        items = list(first.get("items", []))
        cursor = first.get("next_cursor")
        if cursor:
            for item in self.iter_history(address, cursor=cursor):
                if len(items) >= max_items:
                    raise InvalidArgument(f"the history has more than {max_items} entries; "
                                          "page it with `consortia history --cursor`")
                items.append(item)
        return {**first, "items": items, "next_cursor": None}

    def txs(
        self, *, contract: str | None = None, method: str | None = None, status: str | None = None,
        sender: bytes | str | None = None, from_height: int | None = None,
        to_height: int | None = None, order: str = "desc", cursor: str | None = None, limit: int = 100,
    ) -> dict[str, Any]:  # fmt: skip
        """Transactions by contract (and method), status, sender and height range."""
        params = _paging(cursor, limit, order)
        if method is not None and contract is None:
            raise InvalidArgument("a method filter needs --contract (methods are named per contract)")
        if contract is not None:
            params["contract"] = check_contract_name(contract)
        if method is not None:
            params["method"] = check_text(method, "method", MAX_TEXT)
        if status is not None:
            params["status"] = check_text(status, "status", MAX_TEXT)
        if sender is not None:
            params["sender"] = format_address(check_address_arg(sender, "sender"))
        params.update(_heights(from_height, to_height))
        return self.client.get("/v1/index/txs", **params)  # type: ignore[no-any-return]

    def events(
        self, *, contract: str | None = None, name: str | None = None,
        party: bytes | str | None = None, from_height: int | None = None,
        to_height: int | None = None, order: str = "desc", cursor: str | None = None, limit: int = 100,
    ) -> dict[str, Any]:  # fmt: skip
        """Events by contract and name, or by a party (an address in the event's fields)."""
        params = _paging(cursor, limit, order)
        if name is not None and contract is None:
            raise InvalidArgument("an event name filter needs a contract")
        if contract is not None:
            params["contract"] = check_contract_name(contract)
        if name is not None:
            params["name"] = check_text(name, "event name", MAX_TEXT)
        if party is not None:
            params["party"] = format_address(check_address_arg(party, "party"))
        params.update(_heights(from_height, to_height))
        return self.client.get("/v1/index/events", **params)  # type: ignore[no-any-return]

    def alerts(self, *, address: bytes | str | None = None, order: str = "desc",
               cursor: str | None = None, limit: int = 100) -> dict[str, Any]:  # fmt: skip
        params = _paging(cursor, limit, order)
        if address is not None:
            params["address"] = format_address(check_address_arg(address))
        return self.client.get("/v1/index/alerts", **params)  # type: ignore[no-any-return]

    def proposals(self, *, status: str | None = None, order: str = "desc",
                  cursor: str | None = None, limit: int = 100) -> dict[str, Any]:  # fmt: skip
        params = _paging(cursor, limit, order)
        if status is not None:
            params["status"] = check_text(status, "status", MAX_TEXT)
        return self.client.get("/v1/index/proposals", **params)  # type: ignore[no-any-return]

    def wallets(self, *, org: str | None = None, order: str = "desc",
                cursor: str | None = None, limit: int = 100) -> dict[str, Any]:  # fmt: skip
        params = _paging(cursor, limit, order)
        if org is not None:
            params["org"] = check_text(org, "org", MAX_TEXT)
        return self.client.get("/v1/index/wallets", **params)  # type: ignore[no-any-return]

    def check(self, from_height: int = 0, to_height: int | None = None) -> dict[str, Any]:
        """The node compares its index with its chain over the range (at most 20,000 blocks)."""
        params = _heights(from_height, to_height)
        return self.client.get("/v1/index/check", **params)  # type: ignore[no-any-return]


def _heights(low: int | None, high: int | None) -> dict[str, int]:
    out: dict[str, int] = {}
    if low is not None:
        out["from_height"] = check_height(low, "from_height")
    if high is not None:
        out["to_height"] = check_height(high, "to_height")
    if low is not None and high is not None and low > high:
        raise InvalidArgument(f"from_height {low} is above to_height {high}")
    return out
