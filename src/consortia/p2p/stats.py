"""Counters of one transport, read by the node's metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class TransportStats:
    bytes_in: int = 0  # framed bytes received (after TLS decryption)
    bytes_out: int = 0  # framed bytes written (before TLS encryption)
    messages_in: int = 0  # payloads delivered to on_message
    messages_out: int = 0  # payloads written to a link
    pings_in: int = 0
    pings_out: int = 0
    drops: int = 0  # payloads dropped from a full send queue (oldest first)
    connects: int = 0  # links established (hello exchanged), first ones included
    reconnects: int = 0  # links established to a peer that had been linked before
    link_failures: int = 0  # links that ended other than by stop()
    rejected: int = 0  # connections refused: bad certificate, unknown or wrong peer, duplicate
    pin_mismatches: int = 0  # of which: a certificate naming a peer that is not that peer's
    duplicates_refused: int = 0  # of which: a second connection from a peer whose link is live
    links_replaced: int = 0  # silent links closed for a new connection from the same peer
    frame_errors: int = 0  # links closed for an oversize or malformed frame

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
