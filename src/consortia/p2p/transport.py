"""The authenticated, encrypted transport between validator nodes (asyncio, mutual TLS 1.3).

Topology: one link per pair of validators. The node with the lower index dials, the higher one
accepts; the dialler redials with exponential backoff whenever the link is down.

Identity: a peer's index comes from the certificate it presented, never from anything it sends,
and that certificate must match the peer's pin (issued by the CA of the organisation that runs
it, carrying its own key: see :mod:`consortia.p2p.pinning`), checked by one function on both
sides: the dialler requires the index it dialled, the acceptor a configured peer with a lower
index than its own.

A new connection never silently evicts a live link: a second connection from a peer whose link
has heard from it within ``replace_silent_after`` is refused (normally before its hello); only a
link that has gone silent (a live peer pings every ``ping_interval``) is closed in favour of the
new one. A peer that restarts after a crash is therefore back within a few seconds even if its old
TCP connection still looks open, and otherwise at once (its kernel closed the old connection).

Payloads are opaque bytes. ``send`` and ``broadcast`` never block: each peer has a bounded queue
that drops its oldest payload when full; a queue is drained whenever its link is up, so payloads
sent while a peer is away reach it after the reconnect. Delivery is at most once, in order per
link. All methods must be called from the event loop's thread; ``on_message`` is called there too.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization

from consortia.invariant import invariant
from consortia.p2p.backoff import Backoff
from consortia.p2p.certs import load_certificate
from consortia.p2p.errors import CertificateError, FrameTooLarge, PeerRejected, PinMismatch, UnknownPeer
from consortia.p2p.framing import DEFAULT_MAX_FRAME
from consortia.p2p.link import LINK_ERRORS, Link, close_writer
from consortia.p2p.pinning import PeerPin, TlsPin, authenticate_peer, load_trust, resolve_pins, spki_sha256
from consortia.p2p.send_queue import SendQueue
from consortia.p2p.stats import TransportStats
from consortia.p2p.timings import LinkTimings
from consortia.p2p.tls import TlsFiles, client_context, peer_certificate, server_context
from consortia.p2p.wire import KIND_SIZE

log = logging.getLogger("consortia.p2p")

DEFAULT_SEND_QUEUE_LIMIT = 10_000
MAX_PENDING_HANDSHAKES = 64  # connections accepted but not yet through TLS; more are dropped


class PeerTransport:
    """Links from validator ``me`` to each of ``peers`` (index -> (host, port)).

    ``pins`` (index -> :class:`TlsPin`) must cover every peer; a node always passes them. Without
    ``pins`` any certificate from a CA of the bundle may speak for the index it names: tests only.
    """

    def __init__(
        self,
        me: int,
        listen_host: str,
        listen_port: int,
        peers: Mapping[int, tuple[str, int]],
        tls: TlsFiles,
        on_message: Callable[[int, bytes], None],
        max_frame: int = DEFAULT_MAX_FRAME,
        send_queue_limit: int = DEFAULT_SEND_QUEUE_LIMIT,
        *,
        timings: LinkTimings | None = None,
        rng: random.Random | None = None,
        pins: Mapping[int, TlsPin] | None = None,
    ) -> None:
        if me in peers:
            raise ValueError(f"validator {me} is listed among its own peers")
        if pins is not None and (unpinned := sorted(set(peers) - set(pins))):
            raise ValueError(f"no TLS pin for peers {unpinned}")
        if max_frame < 1:
            raise ValueError(f"max_frame must be >= 1, got {max_frame}")
        self.me = me
        self.max_frame = max_frame
        self._listen = (listen_host, listen_port)
        self._peers = dict(peers)
        self._tls = tls
        self._pins = None if pins is None else {peer: pins[peer] for peer in self._peers}
        self._identities: dict[int, PeerPin | None] = {}
        self._on_message = on_message
        self._timings = timings if timings is not None else LinkTimings()
        self._rng = rng if rng is not None else random.Random()
        self._send_queue_limit = send_queue_limit
        self._queues = {peer: SendQueue(send_queue_limit) for peer in self._peers}
        self._links: dict[int, Link] = {}
        self._ever_linked: set[int] = set()
        self._stats = TransportStats()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._stopping = False
        self._port: int | None = None
        self._client_ctx: ssl.SSLContext | None = None
        self._server_ctx: ssl.SSLContext | None = None
        self._handshakes = 0
        self._trusted_extra: set[bytes] = set()

    # --- lifecycle -------------------------------------------------------------------------

    def reload_certificate(self) -> None:
        """Present the (renewed) certificate and key of ``tls`` in every handshake from now on;
        links already up are left as they are. Raises ``ssl.SSLError`` (nothing changed) if
        the files do not make a certificate and its key."""
        if self._client_ctx is None or self._server_ctx is None:
            raise RuntimeError("reload_certificate before start()")
        fresh = client_context(self._tls)  # checks the pair before either context changes
        del fresh
        for context in (self._client_ctx, self._server_ctx):
            context.load_cert_chain(certfile=str(self._tls.cert), keyfile=str(self._tls.key))

    def add_peer(self, index: int, address: tuple[str, int], pin: TlsPin, ca_pem: bytes) -> bool:
        """Take up a peer learnt after start (a node that joined the consortium): trust its
        organisation's CA (``ca_pem``, which ``pin.ca_spki_sha256`` must name) for new
        handshakes, pin it, and dial it if its index is higher than ours. False if ``index`` is
        already a peer (nothing changes); raises :class:`CertificateError` (nothing changed) for
        a CA that is not the pinned one, ``ValueError`` for our own index."""
        if self._client_ctx is None or self._server_ctx is None or self._pins is None:
            raise RuntimeError("add_peer needs a started transport with pinned peers")
        if index == self.me:
            raise ValueError(f"validator {index} is this node")
        if index in self._peers:
            return False
        ca = load_certificate(ca_pem)
        if spki_sha256(ca) != pin.ca_spki_sha256:
            raise CertificateError(f"the CA given for validator {index} is not the one its pin names",
                                   index=index)
        text = ca.public_bytes(serialization.Encoding.PEM).decode()
        for context in (self._client_ctx, self._server_ctx):
            context.load_verify_locations(cadata=text)
        self._peers[index] = address
        self._pins[index] = pin
        self._identities[index] = PeerPin(index, pin.spki_sha256, ca)
        self._queues[index] = SendQueue(self._send_queue_limit)
        log.info("validator %d: new peer %d at %s:%d", self.me, index, *address)
        if index > self.me and not self._stopping:
            self._spawn(self._dial_forever(index), f"p2p {self.me} dials {index}")
        return True

    def peer_pins(self) -> dict[int, TlsPin]:
        """Every peer's pin as configured or added (its CA is the one it was pinned to first)."""
        if self._pins is None:
            return {}
        return dict(self._pins)

    def set_peer_cas(self, index: int, ca_pems: list[bytes]) -> bool:
        """Accept certificates of any of ``ca_pems`` (the first is the peer's current CA) for
        peer ``index`` from the next handshake on, trusting each for new handshakes: an
        organisation rotating its CA (decisions/0019). Links already up are left as they are.
        False if nothing changed; raises :class:`CertificateError` (nothing changed) for an
        unreadable CA, ``ValueError`` for an index that is no peer."""
        if self._client_ctx is None or self._server_ctx is None or self._pins is None:
            raise RuntimeError("set_peer_cas needs a started transport with pinned peers")
        if index not in self._peers:
            raise ValueError(f"validator {index} is not a peer of {self.me}")
        if not ca_pems:
            raise ValueError("set_peer_cas needs at least one CA")
        cas = [load_certificate(pem) for pem in ca_pems]
        current = self._identities.get(index)
        digests = [spki_sha256(ca) for ca in cas]
        if current is not None and [spki_sha256(c) for c in (current.ca, *current.also)] == digests:
            return False
        for ca, digest in zip(cas, digests, strict=True):
            if digest not in self._trusted_extra:
                text = ca.public_bytes(serialization.Encoding.PEM).decode()
                for context in (self._client_ctx, self._server_ctx):
                    context.load_verify_locations(cadata=text)
                self._trusted_extra.add(digest)
        self._identities[index] = PeerPin(index, self._pins[index].spki_sha256, cas[0], tuple(cas[1:]))
        log.info("validator %d: peer %d accepted with %d CA(s) from now on", self.me, index, len(cas))
        return True

    async def start(self) -> None:
        """Listen for lower-index peers and start dialling higher-index ones."""
        if self._server is not None or self._stopping:
            raise RuntimeError("a PeerTransport starts once")
        self._client_ctx = client_context(self._tls)
        self._server_ctx = server_context(self._tls)
        if self._pins is None:
            log.warning("validator %d: peer certificates are NOT pinned (tests only)", self.me)
            self._identities = dict.fromkeys(self._peers)
        else:
            self._identities = dict(resolve_pins(self._pins, load_trust(self._tls.ca_bundle)))
        # plain TCP listener, TLS started in _on_accept: refused handshakes are then ours to log
        # and count, and the number of connections still in their handshake is bounded
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _HalfCloseRefusingProtocol(asyncio.StreamReader(), self._on_accept),
            self._listen[0],
            self._listen[1],
        )
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("validator %d listening on %s:%d", self.me, self._listen[0], self._port)
        for peer in sorted(self._peers):
            if peer > self.me:
                self._spawn(self._dial_forever(peer), f"p2p {self.me} dials {peer}")

    async def stop(self) -> None:
        """Close every link and the listener; wait until all of the transport's tasks are done."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for link in list(self._links.values()):
            link.close()
        await asyncio.sleep(0)  # let a connection accepted just before close() start its handler
        while self._tasks:
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._tasks.difference_update(pending)
        if self._server is not None:
            await self._server.wait_closed()
        log.info("validator %d transport stopped", self.me)

    @property
    def port(self) -> int:
        """The port actually listened on (useful with ``listen_port=0``)."""
        if self._port is None:
            raise RuntimeError("transport not started")
        return self._port

    # --- sending ---------------------------------------------------------------------------

    def send(self, peer: int, payload: bytes) -> None:
        """Queue ``payload`` for ``peer``; never blocks. Raises for an unknown peer or oversize payload."""
        queue = self._queues.get(peer)
        if queue is None:
            raise UnknownPeer(f"validator {peer} is not a configured peer of {self.me}", peer=peer)
        self._check_size(payload)
        self._enqueue(queue, payload)

    def broadcast(self, payload: bytes) -> None:
        """Queue ``payload`` for every peer; never blocks."""
        self._check_size(payload)
        for queue in self._queues.values():
            self._enqueue(queue, payload)

    def _check_size(self, payload: bytes) -> None:
        if len(payload) > self.max_frame:
            raise FrameTooLarge(
                f"payload of {len(payload)} bytes exceeds max_frame {self.max_frame}",
                size=len(payload),
                max_frame=self.max_frame,
            )

    def _enqueue(self, queue: SendQueue, payload: bytes) -> None:
        dropped = queue.dropped
        queue.put(payload)
        self._stats.drops += queue.dropped - dropped

    # --- observation -----------------------------------------------------------------------

    def connected_peers(self) -> list[int]:
        """Peers with a link that is up (both sides accepted each other's certificate)."""
        return sorted(self._links)

    def queued(self, peer: int) -> int:
        """Payloads waiting for ``peer``."""
        return len(self._queues[peer])

    def stats(self) -> dict[str, int]:
        """Counters since construction (see :class:`TransportStats`), plus payloads still queued."""
        return {**self._stats.as_dict(), "queued": sum(len(q) for q in self._queues.values())}

    # --- links -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dial_forever(self, peer: int) -> None:
        backoff = Backoff(self._timings.backoff_initial, self._timings.backoff_max, self._rng)
        loop = asyncio.get_running_loop()
        while not self._stopping:
            started = loop.time()
            try:
                await self._dial_once(peer)
            except Exception:
                log.exception("validator %d: unexpected error on the link to %d; redialling", self.me, peer)
            if loop.time() - started >= self._timings.stable_after:
                backoff.reset()
            await asyncio.sleep(backoff.next_delay())

    async def _dial_once(self, peer: int) -> None:
        host, port = self._peers[peer]
        invariant(self._client_ctx is not None, "dialling before start()")
        try:
            async with asyncio.timeout(self._timings.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self._client_ctx, ssl_handshake_timeout=self._timings.connect_timeout
                )
        except ssl.SSLCertVerificationError as exc:
            self._reject(f"validator {peer} at {host}:{port}", exc)
            return
        except LINK_ERRORS as exc:
            log.debug("validator %d: dialling %d at %s:%d failed: %s", self.me, peer, host, port, exc)
            return
        try:
            self._identify(writer, expected=peer)
        except (CertificateError, PeerRejected) as exc:
            self._reject(f"validator {peer} at {host}:{port}", exc)
            await close_writer(writer, self._timings.close_timeout)
            return
        await self._run_link(peer, reader, writer)

    async def _on_accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if await self._accept_tls(writer):
                peer = self._authorise_incoming(writer)
                if peer is not None:
                    await self._run_link(peer, reader, writer)
            await close_writer(writer, self._timings.close_timeout)
        except Exception:
            log.exception("validator %d: unexpected error on an incoming link", self.me)
            writer.transport.abort()
        except asyncio.CancelledError:
            # stop() cancels us; end quietly (asyncio 3.11 logs an error for a cancelled handler)
            writer.transport.abort()
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _accept_tls(self, writer: asyncio.StreamWriter) -> bool:
        """Run the server side of the TLS handshake; False (and logged) if it fails or is refused."""
        address = writer.get_extra_info("peername")
        if self._stopping or self._server_ctx is None:
            return False
        if self._handshakes >= MAX_PENDING_HANDSHAKES:
            log.warning("validator %d: too many TLS handshakes in progress, dropping %s", self.me, address)
            return False
        self._handshakes += 1
        try:
            await writer.start_tls(self._server_ctx, ssl_handshake_timeout=self._timings.handshake_timeout)
        except ssl.SSLError as exc:
            self._reject(f"incoming {address}", exc)
            return False
        except LINK_ERRORS as exc:
            log.debug("validator %d: TLS handshake with %s failed: %s", self.me, address, exc)
            return False
        finally:
            self._handshakes -= 1
        return True

    def _identify(self, writer: asyncio.StreamWriter, expected: int | None) -> int:
        """The authenticated index of a peer after the TLS handshake (both sides come here)."""
        der = peer_certificate(writer.get_extra_info("ssl_object"))
        return authenticate_peer(der, self._identities, expected)

    def _authorise_incoming(self, writer: asyncio.StreamWriter) -> int | None:
        """The peer index of an accepted connection, or None (and a log line) if it is refused."""
        address = writer.get_extra_info("peername")
        try:
            peer = self._identify(writer, expected=None)
            if peer > self.me:
                raise PeerRejected(f"validator {peer} has a higher index and must accept, not dial")
            self._make_room(peer)
        except (CertificateError, PeerRejected) as exc:
            self._reject(f"incoming {address}", exc)
            return None
        return peer

    def _make_room(self, peer: int) -> None:
        """Let a new link to ``peer`` in: refuse it while the current one is live (never evict an
        authenticated link silently), close the current one if it has gone silent."""
        old = self._links.get(peer)
        if old is None or not old.alive:
            return
        silent = old.silent_for()
        limit = self._timings.replace_silent_after
        if limit is None or silent < limit:
            self._stats.duplicates_refused += 1
            raise PeerRejected(
                f"validator {peer} already has a live link (heard from {silent:.1f} s ago); "
                "the new connection is refused"
            )
        log.info(
            "validator %d: link to %d silent for %.1f s, a new connection replaces it", self.me, peer, silent
        )
        self._stats.links_replaced += 1
        old.close()

    def _reject(self, who: str, exc: Exception) -> None:
        self._stats.rejected += 1
        if isinstance(exc, PinMismatch):
            self._stats.pin_mismatches += 1
        log.warning("validator %d refused connection with %s: %s", self.me, who, exc)

    async def _run_link(self, peer: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(
            self.me,
            peer,
            reader,
            writer,
            queue=self._queues[peer],
            max_frame_body=self.max_frame + KIND_SIZE,
            timings=self._timings,
            stats=self._stats,
            deliver=self._on_message,
        )
        try:
            reason = await link.run(self._link_up)
        finally:
            was_up = self._links.get(peer) is link
            if was_up:
                del self._links[peer]
        if not self._stopping and not link.closed_locally:
            self._stats.link_failures += 1
            level = logging.INFO if was_up else logging.DEBUG
            log.log(level, "validator %d: link to %d ended: %s", self.me, peer, reason)

    def _link_up(self, link: Link) -> None:
        # checked again: another connection from the same peer may have come up meanwhile
        try:
            self._make_room(link.peer)
        except PeerRejected as exc:
            self._reject(repr(link), exc)
            link.close()
            return
        self._links[link.peer] = link
        self._stats.connects += 1
        if link.peer in self._ever_linked:
            self._stats.reconnects += 1
        self._ever_linked.add(link.peer)
        log.info("validator %d: link to %d is up", self.me, link.peer)


class _HalfCloseRefusingProtocol(asyncio.StreamReaderProtocol):
    """Stream protocol for connections upgraded to TLS after accept.

    A TCP or TLS EOF always closes the connection (links are never half-open). Returning False
    here also avoids asyncio's "returning true from eof_received() has no effect when using ssl"
    warning when the peer closes while ``start_tls`` is still finishing.
    """

    def eof_received(self) -> bool:
        super().eof_received()
        return False
