"""Refusing a signed request served before: the (key, nonce) pairs of the last ``MAX_AGE_S``.

A signature older than that is refused for its age, so remembering nonces that long suffices.
The cache is bounded: when it is full of unexpired entries the request is refused as a
:class:`~consortia.errors.ConsortiaError` 503 rather than forgetting a nonce early (which would
let a replay through)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from consortia.api.auth.errors import ReplayedRequest
from consortia.api.auth.request_signatures import MAX_AGE_S, MAX_SKEW_S
from consortia.errors import ConsortiaError

MAX_REMEMBERED = 1_000_000
"""Nonces remembered at most (~100 MB at worst); 16k signed requests a second for a minute."""


class TooManySignedRequests(ConsortiaError):
    code = "too_many_signed_requests"
    http_status = 503


class NonceCache:
    def __init__(self, clock: Callable[[], float] = time.time, limit: int = MAX_REMEMBERED) -> None:
        self._clock = clock
        self._limit = limit
        self._seen: OrderedDict[tuple[bytes, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_remember(self, public_key: bytes, nonce: str, created: int) -> None:
        """Refuse a (key, nonce) seen within the window; remember it until it has expired."""
        now = self._clock()
        forget_at = max(created + MAX_AGE_S, now) + MAX_SKEW_S
        entry = (public_key, nonce)
        with self._lock:
            while self._seen:
                oldest, until = next(iter(self._seen.items()))
                if until > now:
                    break
                del self._seen[oldest]
            if entry in self._seen:
                raise ReplayedRequest("this signed request was already served (a request is signed "
                                      "once, with a fresh nonce, per sending)")  # fmt: skip
            if len(self._seen) >= self._limit:
                raise TooManySignedRequests("this node is remembering too many signed requests; retry")
            self._seen[entry] = forget_at
            self._seen.move_to_end(entry)
