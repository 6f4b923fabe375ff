"""Timeouts and retry pacing of validator links, gathered so tests can shrink them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkTimings:
    """All durations in seconds; ``None`` disables pings or the idle timeout."""

    ping_interval: float | None = 2.0  # send a ping after this long without writing anything
    idle_timeout: float | None = 15.0  # close a link silent this long (or that cannot drain writes)
    connect_timeout: float = 5.0  # TCP connect plus TLS handshake when dialling
    handshake_timeout: float = 5.0  # TLS handshake on accept; hello exchange on both sides
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    stable_after: float = 1.0  # a link up this long resets the backoff
    close_timeout: float = 1.0  # how long to wait for a TLS close before aborting
    # a new connection from a peer whose link is up is refused unless that link has heard nothing
    # for this long (a live peer pings every ping_interval); None: the old link must end first
    replace_silent_after: float | None = 5.0

    def __post_init__(self) -> None:
        ping, idle = self.ping_interval, self.idle_timeout
        if ping is not None and idle is not None and ping >= idle:
            raise ValueError("ping_interval must be shorter than idle_timeout")
        replace = self.replace_silent_after
        if ping is not None and replace is not None and ping >= replace:
            raise ValueError("ping_interval must be shorter than replace_silent_after")
