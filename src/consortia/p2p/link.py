"""One authenticated connection to one peer, from the hello exchange to its close.

A link reads frames and hands payloads to ``deliver``; it drains the peer's :class:`SendQueue`
into the connection; it pings when it has nothing to say and gives up on a peer that stays silent
(or stops reading) for ``idle_timeout``. Whatever ends it, :meth:`Link.run` returns the reason and
leaves the connection closed. Delivery is at most once: a payload taken from the queue and written
to a connection that then dies is lost, not retried.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

from consortia.p2p.errors import FrameTooLarge, P2PError, ProtocolViolation
from consortia.p2p.framing import FrameCodec
from consortia.p2p.send_queue import SendQueue
from consortia.p2p.stats import TransportStats
from consortia.p2p.timings import LinkTimings
from consortia.p2p.wire import HELLO_BODY, PING_BODY, FrameKind, data_body, parse_body

log = logging.getLogger("consortia.p2p")

READ_CHUNK = 64 * 1024
WRITE_BATCH_ITEMS = 256
WRITE_BATCH_BYTES = 1024 * 1024

LINK_ERRORS = (OSError, ssl.SSLError, EOFError, TimeoutError, P2PError, asyncio.IncompleteReadError)


class LinkClosed(Exception):
    """Internal: the connection ended; the message says why."""


class Link:
    """Carries frames between this node and ``peer`` over one TLS stream."""

    def __init__(
        self,
        me: int,
        peer: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        queue: SendQueue,
        max_frame_body: int,
        timings: LinkTimings,
        stats: TransportStats,
        deliver: Callable[[int, bytes], None],
    ) -> None:
        self.me = me
        self.peer = peer
        self._reader = reader
        self._writer = writer
        self._queue = queue
        self._codec = FrameCodec(max_frame_body)
        self._timings = timings
        self._stats = stats
        self._deliver = deliver
        self._early_frames: list[bytes] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._ending = False
        self._last_heard = asyncio.get_running_loop().time()

    def __repr__(self) -> str:
        return f"<Link {self.me}->{self.peer}>"

    async def run(self, on_up: Callable[[Link], None]) -> str:
        """Exchange hellos, call ``on_up``, then pump frames until the link ends; return why."""
        try:
            await self._exchange_hello()
            if self._closed:
                return "closed before it was up"
            on_up(self)
            if self._closed:
                return "refused: another link to this peer is live"
            return await self._pump()
        except LinkClosed as exc:
            return str(exc)
        except (FrameTooLarge, ProtocolViolation) as exc:
            self._stats.frame_errors += 1
            log.warning("%r: closing, bad frame from peer: %s", self, exc)
            return f"bad frame: {exc}"
        except LINK_ERRORS as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            self._ending = True
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await close_writer(self._writer, self._timings.close_timeout)

    @property
    def closed_locally(self) -> bool:
        """True once :meth:`close` was called (replaced, refused as a duplicate, or the transport
        stops)."""
        return self._closed

    @property
    def alive(self) -> bool:
        """Neither closed locally nor ending (an ending link may still be closing its stream)."""
        return not (self._closed or self._ending)

    def silent_for(self) -> float:
        """Seconds since anything arrived from the peer (the hello included)."""
        return asyncio.get_running_loop().time() - self._last_heard

    def close(self) -> None:
        """Ask the link to end (replaced, refused, or the transport stops); returns at once."""
        self._closed = True
        for task in self._tasks:
            task.cancel()

    # --- phases ------------------------------------------------------------------------------

    async def _exchange_hello(self) -> None:
        self._write_frame(HELLO_BODY)
        async with asyncio.timeout(self._timings.handshake_timeout):
            await self._writer.drain()
            while True:
                frames = await self._read_frames()
                if frames:
                    break
        kind, _ = parse_body(frames[0])
        if kind is not FrameKind.HELLO:
            raise ProtocolViolation(f"expected hello, got {kind.name}")
        self._early_frames = frames[1:]

    async def _pump(self) -> str:
        self._tasks = [
            asyncio.create_task(self._read_loop(), name=f"{self!r} reader"),
            asyncio.create_task(self._write_loop(), name=f"{self!r} writer"),
        ]
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        if self._closed:
            return "closed locally"
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        return "ended"

    async def _read_loop(self) -> None:
        for body in self._early_frames:
            self._handle(body)
        self._early_frames = []
        while True:
            try:
                async with asyncio.timeout(self._timings.idle_timeout):
                    frames = await self._read_frames()
            except TimeoutError:
                raise LinkClosed(f"peer silent for {self._timings.idle_timeout} s") from None
            for body in frames:
                self._handle(body)

    async def _write_loop(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._timings.ping_interval):
                    await self._queue.wait()
            except TimeoutError:
                self._write_frame(PING_BODY)
                self._stats.pings_out += 1
            else:
                batch = self._queue.take(WRITE_BATCH_ITEMS, WRITE_BATCH_BYTES)
                for payload in batch:
                    self._write_frame(data_body(payload))
                self._stats.messages_out += len(batch)
            try:
                async with asyncio.timeout(self._timings.idle_timeout):
                    await self._writer.drain()
            except TimeoutError:
                raise LinkClosed(f"peer has not read for {self._timings.idle_timeout} s") from None

    # --- frames ------------------------------------------------------------------------------

    async def _read_frames(self) -> list[bytes]:
        data = await self._reader.read(READ_CHUNK)
        if not data:
            raise LinkClosed("closed by peer")
        self._last_heard = asyncio.get_running_loop().time()
        self._stats.bytes_in += len(data)
        return self._codec.feed(data)

    def _write_frame(self, body: bytes) -> None:
        frame = self._codec.encode(body)
        self._writer.write(frame)
        self._stats.bytes_out += len(frame)

    def _handle(self, body: bytes) -> None:
        kind, rest = parse_body(body)
        if kind is FrameKind.DATA:
            self._stats.messages_in += 1
            try:
                self._deliver(self.peer, rest)
            except Exception:
                log.exception("%r: on_message raised; the link stays up", self)
        elif kind is FrameKind.PING:
            self._stats.pings_in += 1
        else:
            raise ProtocolViolation(f"unexpected {kind.name} frame on an established link")


async def close_writer(writer: asyncio.StreamWriter, timeout: float) -> None:
    """Close a stream, waiting at most ``timeout`` for the TLS close before aborting it."""
    writer.close()
    try:
        async with asyncio.timeout(timeout):
            await writer.wait_closed()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
    except LINK_ERRORS:
        writer.transport.abort()
