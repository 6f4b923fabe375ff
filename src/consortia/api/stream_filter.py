"""What a caller's event stream carries (issue 14): a member sees only the events that concern it.

``/v1/events`` sends each committed block with its transactions' events. Staff (admins,
validators, the node's operator) and overseers (the regulator, auditors) receive every event,
as they may read every block. Any other identity receives only the events whose parties
(:func:`~consortia.api.event_parties.event_parties`, the notion the SQL index records) include
its own address, and only the blocks that carry one; a block without any is not sent at all
(its header is no member's business). A development chain's open API has no caller to filter
for and streams everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consortia.api.auth.gate import staff
from consortia.api.auth.principal import Principal
from consortia.api.event_parties import event_parties

BlockMessage = dict[str, Any]
"""``{"block": summary, "events": [{"tx_hash", "index", "contract", "name", "data", "fields"}]}``"""


def concerns(event: dict[str, Any], address: bytes) -> bool:
    data = str(event.get("data", ""))
    try:
        raw = bytes.fromhex(data.removeprefix("0x"))
    except ValueError:
        return False
    return address in event_parties(raw)


def stream_filter(who: Principal | None) -> Callable[[BlockMessage], BlockMessage | None] | None:
    """None: the caller receives every block whole; else a function that keeps a block's
    events that concern ``who`` (None: nothing in this block for it)."""
    if who is None or staff(who):
        return None
    mine = who.address

    def keep(message: BlockMessage) -> BlockMessage | None:
        events = [e for e in message.get("events", []) if concerns(e, mine)]
        return {**message, "events": events} if events else None

    return keep
