"""How the API is served: uvicorn over h11, with a deadline for request headers.

uvicorn closes idle keep-alive connections but has no deadline for the headers of a request: a
client sending one byte every few seconds (slowloris) holds its connection for ever, and enough
of them exhaust the node's sockets. :class:`HeaderDeadlineProtocol` arms a timer when a
connection opens (and when the next request on a kept-alive connection starts) and cancels it
once h11 has the complete request head; when it fires first, the node answers 408 and closes.

Together with a cap on concurrent connections (``limit_concurrency``: over it, requests get
503), a cap on the size of a request head (``h11_max_incomplete_event_size``) and the body limits
in :mod:`consortia.api.bodies`, a hostile client can hold neither memory nor connections for long.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0
"""Seconds from connection (or from the first byte of a kept-alive connection's next request)
until the request line and headers are complete."""
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle kept-alive connection stays open between requests."""
MAX_CONNECTIONS = 512
"""Concurrent connections (and tasks) before new requests are answered 503."""
MAX_HEADER_BYTES = 16 * 1024
"""Bytes of a request line and headers (h11's incomplete-event buffer); over it: 400."""

_TIMEOUT_BODY = b'{"code":"header_timeout","message":"the request headers took too long"}'
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    header_timeout: ClassVar[float] = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()  # the next request of a kept-alive connection begins
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request head is complete (or invalid)
            self._cancel_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._on_header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self.logger.debug("closing a connection whose request headers took over %gs", self.header_timeout)
        self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    """:class:`HeaderDeadlineProtocol` with another deadline (tests, tuned deployments)."""
    if seconds == HEADER_TIMEOUT:
        return HeaderDeadlineProtocol
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": seconds})


def api_server_config(
    app: Any,
    host: str,
    port: int,
    *,
    header_timeout: float = HEADER_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    tls: tuple[Path, Path] | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration of a node's API (no signal handlers, lifespan or access log);
    ``tls``: (certificate chain, private key) files to serve HTTPS with (TLS 1.2 or later)."""
    secure: dict[str, Any] = {}
    if tls is not None:
        secure = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=header_deadline_protocol(header_timeout),
        limit_concurrency=max_connections,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        **secure,
    )
