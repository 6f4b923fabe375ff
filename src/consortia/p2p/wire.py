"""What travels inside a frame: one kind byte, then the body of that kind.

``DATA`` carries the node's opaque payload; ``PING`` keeps an idle link provably alive; ``HELLO``
is the first frame each side sends once it has accepted the other's certificate, so that neither
side writes payloads into a connection its peer is about to refuse. Identity never comes from a
frame: it comes from the TLS certificate.
"""

from __future__ import annotations

from enum import IntEnum

from consortia.p2p.errors import ProtocolViolation

PROTOCOL_VERSION = 1
KIND_SIZE = 1


class FrameKind(IntEnum):
    DATA = 0
    PING = 1
    HELLO = 2


PING_BODY = bytes([FrameKind.PING])
HELLO_BODY = bytes([FrameKind.HELLO, PROTOCOL_VERSION])


def data_body(payload: bytes) -> bytes:
    """The frame body carrying an application payload."""
    return bytes([FrameKind.DATA]) + payload


def parse_body(body: bytes) -> tuple[FrameKind, bytes]:
    """Split a frame body into its kind and the rest; :class:`ProtocolViolation` if malformed."""
    if not body:
        raise ProtocolViolation("empty frame")
    try:
        kind = FrameKind(body[0])
    except ValueError:
        raise ProtocolViolation(f"unknown frame kind {body[0]}") from None
    rest = body[KIND_SIZE:]
    if kind is FrameKind.PING and rest:
        raise ProtocolViolation("ping frame with a body")
    if kind is FrameKind.HELLO and rest != bytes([PROTOCOL_VERSION]):
        raise ProtocolViolation(f"unsupported link protocol version {rest.hex() or 'none'}")
    return kind, rest
