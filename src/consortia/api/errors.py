"""Typed errors of the HTTP layer itself: a request the API refuses before any route logic.

They are :class:`~consortia.errors.ConsortiaError` subclasses like every other rejection, so the
API answers them as ``{"code", "message", "details"}`` JSON. A refused request body is not read
to its end: the answer closes the connection (``close_connection``), so a client cannot keep
streaming bytes the node will only throw away.
"""

from __future__ import annotations

from typing import ClassVar

from consortia.errors import ConsortiaError


class RequestRefused(ConsortiaError):
    """A request the HTTP layer refuses; the connection is closed after the answer."""

    code = "request_refused"
    close_connection: ClassVar[bool] = True


class BodyTooLarge(RequestRefused):
    """A request body (declared or streamed) over the route's limit."""

    code = "body_too_large"
    http_status = 413


class BodyTimeout(RequestRefused):
    """A request body that did not arrive in full within the allowed time."""

    code = "body_timeout"
    http_status = 408


class ClientGone(RequestRefused):
    """The client disconnected before its request body was complete."""

    code = "client_disconnected"
