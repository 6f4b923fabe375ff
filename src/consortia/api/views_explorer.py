"""Typed bodies of the explorer's read routes and ``/v1/auth/whoami`` (api/explorer_routes.py;
issue 16, decisions/0023)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from consortia.api.views_perm import IdentityView


class SearchMatch(TypedDict):
    """One thing a query names: its ``kind`` (block, tx, account, meter, proposal, bill, payable,
    part, certificate, trade, notary_root, invoice, record, item, org), the ``id`` its page takes
    (a height or number, or a hex/text id) and a label; a part names its ``payable``."""

    kind: str
    id: int | str
    label: str
    payable: NotRequired[int]


class SearchView(TypedDict):
    """A search box query: how it was read (``form``), the head height, what it names."""

    query: str
    form: str
    height: int
    matches: list[SearchMatch]


class ExplorerAccountView(TypedDict):
    """An address's identity (null: none enrolled), the organisations it administers, whether it
    is a registered meter."""

    address: str
    identity: IdentityView | None
    admin_of: list[str]
    meter: bool


class AccountTracedItem(TypedDict):
    item: str
    product: str
    kind: str
    status: str
    holds: bool
    produced: bool
    recalled: bool


class TracedItemsOf(TypedDict):
    """The traced items an account holds or produced (SQL index; ``truncated``: more than listed)."""

    address: str
    truncated: bool
    items: list[AccountTracedItem]


class AccountTracedItems(TracedItemsOf):
    """The traced items an account holds or produced, and the index's height."""

    indexed_height: int


class WhoAmI(TypedDict):
    """The caller on this node: ``api_access`` open (nothing else said) or signed, with the
    identity (or ``operator``), organisation, roles, staff, oversight and session expiry."""

    api_access: str
    operator: NotRequired[bool]
    address: NotRequired[str | None]
    org: NotRequired[str | None]
    role: NotRequired[str]
    org_role: NotRequired[str]
    staff: NotRequired[bool]
    oversees: NotRequired[bool]
    session_expires: NotRequired[int | None]


EXPLORER_TYPES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("get", "/v1/search"): (SearchView,),
    ("get", "/v1/explorer/accounts/{address}"): (ExplorerAccountView,),
    ("get", "/v1/explorer/trace/accounts/{address}"): (AccountTracedItems,),
    ("get", "/v1/auth/whoami"): (WhoAmI,),
}
"""Those routes' 2xx bodies, for ``api/openapi.RESPONSE_TYPES``."""
