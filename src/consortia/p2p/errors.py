"""Errors raised by the peer-to-peer layer."""

from __future__ import annotations

from consortia.errors import ConsortiaError


class P2PError(ConsortiaError):
    """Base of the errors of the transport between validator nodes."""

    code = "p2p_error"


class FrameTooLarge(P2PError):
    """A frame announces (or a payload needs) more bytes than the configured maximum."""

    code = "p2p_frame_too_large"


class ProtocolViolation(P2PError):
    """The peer sent bytes that break the link protocol (unknown frame kind, hello twice, ...)."""

    code = "p2p_protocol_violation"


class CertificateError(P2PError):
    """A certificate is malformed or does not name exactly one validator index."""

    code = "p2p_bad_certificate"


class PinMismatch(CertificateError):
    """A well-formed certificate naming validator ``i`` that is not validator ``i``'s: issued by
    another CA than that of the organisation running ``i``, or for another key than ``i``'s."""

    code = "p2p_pin_mismatch"


class PeerRejected(P2PError):
    """An authenticated connection whose certificate does not name a peer we may talk to."""

    code = "p2p_peer_rejected"


class UnknownPeer(P2PError):
    """``send`` was given a validator index that is not one of the configured peers."""

    code = "p2p_unknown_peer"
