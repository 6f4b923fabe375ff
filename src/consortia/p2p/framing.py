"""Length-prefixed frames, sans-I/O: bytes in, frames out.

Wire format: a 4-byte big-endian body length, then the body. A frame whose announced length
exceeds ``max_frame`` is rejected as soon as its header is seen, before any of its body is
buffered, so a hostile peer cannot make us allocate more than ``max_frame + HEADER_SIZE`` bytes
(plus one read chunk). After a rejection the decoder stays broken: the stream has lost its framing
and the connection must be closed.
"""

from __future__ import annotations

import struct

from consortia.p2p.errors import FrameTooLarge

HEADER_SIZE = 4
DEFAULT_MAX_FRAME = 8 * 1024 * 1024
ABSOLUTE_MAX_FRAME = 2**32 - 1  # what a 4-byte length can express

_HEADER = struct.Struct(">I")


class FrameCodec:
    """Encode payloads into frames and decode a byte stream, fed in any pieces, back into them."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not 0 <= max_frame <= ABSOLUTE_MAX_FRAME:
            raise ValueError(f"max_frame must be in [0, {ABSOLUTE_MAX_FRAME}], got {max_frame}")
        self.max_frame = max_frame
        self._buffer = bytearray()
        self._failed: FrameTooLarge | None = None

    def encode(self, body: bytes) -> bytes:
        """One frame carrying ``body``; :class:`FrameTooLarge` if the body exceeds ``max_frame``."""
        if len(body) > self.max_frame:
            raise FrameTooLarge(
                f"frame of {len(body)} bytes exceeds the maximum of {self.max_frame}",
                size=len(body),
                max_frame=self.max_frame,
            )
        return _HEADER.pack(len(body)) + body

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the frame bodies now complete, in order.

        Raises :class:`FrameTooLarge` when a header announces an oversize frame (frames completed
        earlier in the same ``data`` are lost with it: the connection is going away anyway).
        """
        if self._failed is not None:
            raise self._failed
        self._buffer += data
        frames: list[bytes] = []
        offset = 0
        buffer = self._buffer
        while len(buffer) - offset >= HEADER_SIZE:
            (length,) = _HEADER.unpack_from(buffer, offset)
            if length > self.max_frame:
                self._buffer = bytearray()
                self._failed = FrameTooLarge(
                    f"peer announced a frame of {length} bytes, the maximum is {self.max_frame}",
                    size=length,
                    max_frame=self.max_frame,
                )
                raise self._failed
            end = offset + HEADER_SIZE + length
            if end > len(buffer):
                break
            frames.append(bytes(buffer[offset + HEADER_SIZE : end]))
            offset = end
        if offset:
            del buffer[:offset]
        return frames

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    @property
    def failed(self) -> bool:
        """True once an oversize frame was seen; the stream cannot be decoded any further."""
        return self._failed is not None
