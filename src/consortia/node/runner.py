"""Run a node until told to stop: API server, block production, clean shutdown on signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import uvicorn

from consortia.api.app import api_authenticates, create_app
from consortia.api.server import api_server_config
from consortia.errors import ConfigError
from consortia.node.ca_rollover import CaRollover
from consortia.node.cert_watch import CertificateWatch
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.network_setup import peer_pins, tls_files
from consortia.node.node import Node
from consortia.node.peer_directory import DirectoryFollower
from consortia.node.peer_network import PeerNetwork
from consortia.p2p.transport import PeerTransport

log = logging.getLogger("consortia.runner")


def check_ports_free(node: Node) -> None:
    """Refuse to start, naming the port, when the API or p2p address is taken (another node, an
    earlier run still up): a typed error instead of a traceback deep in the servers."""
    wanted = [("API", node.config.api_host, node.config.api_port)]
    if len(node.genesis.validators) > 1:
        wanted.append(("p2p", node.config.p2p_host, node.config.p2p_port))
    for what, host, port in wanted:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise ConfigError(
                    f"the {what} address {host}:{port} of {node.config.name} cannot be used: "
                    f"{exc.strerror or exc} (another process holds it: stop it, or give this node "
                    "other ports)", host=host, port=port
                ) from None


async def serve(node: Node, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
    check_ports_free(node)
    node.start_index()
    app = create_app(node)
    tls = api_tls_files(node)
    if api_authenticates(node):
        host = node.config.api_host if node.config.api_host not in ("0.0.0.0", "::") else "127.0.0.1"
        log.info("api: callers sign their requests (docs/api-access.md); the operator's one-time "
                 "explorer sign-in: %s://%s:%d/#signin=%s", "https" if tls else "http", host,
                 node.config.api_port, app.state.sessions.sign_in())  # fmt: skip
    config = api_server_config(app, node.config.api_host, node.config.api_port, tls=tls)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    api_task = asyncio.create_task(server.serve(), name="api")
    while not server.started:
        if api_task.done():
            api_task.result()
            raise RuntimeError("API server stopped during start-up")
        await asyncio.sleep(0.02)
    if on_ready is not None:
        on_ready()
    frames: PeerTransport | None = None
    watcher: asyncio.Task[None] | None = None
    directory: asyncio.Task[None] | None = None
    rotations: asyncio.Task[None] | None = None
    if len(node.genesis.validators) > 1:
        network = PeerNetwork(node)
        node.metrics.watch_sync(network.block_sync)
        frames = PeerTransport(
            node.config.validator_index,
            node.config.p2p_host,
            node.config.p2p_port,
            {p.index: (p.host, p.port) for p in node.config.peers},
            tls_files(node.home),
            network.on_frame,
            pins=peer_pins(node.config.peers),
        )
        driver = ConsensusDriver(node, transport=network)
        network.attach(frames, driver)
        node.peers = frames
        await frames.start()
        follower = DirectoryFollower(
            node.store.state_get, [v.public_key for v in node.genesis.validators],
            node.config.validator_index, {p.index for p in node.config.peers}, frames, driver,
        )
        follower.refresh()
        directory = asyncio.create_task(follower.run(stop), name="node directory")
        rollover = CaRollover(node.store.state_get, lambda: _committed_height(node), tls_files(node.home),
                              frames)
        rollover.refresh()
        rotations = asyncio.create_task(rollover.run(stop), name="CA rotations")
        links = frames
        watch = CertificateWatch(tls_files(node.home), node.metrics.registry, node.warnings,
                                 lambda: _reload_all(links, config, tls))
        watcher = asyncio.create_task(watch.run(stop, node.clock.monotonic), name="certificates")
    else:
        driver = ConsensusDriver(node)
        if tls is not None:  # one validator serving HTTPS: its API takes up a renewed certificate
            watch = CertificateWatch(tls_files(node.home), node.metrics.registry, node.warnings,
                                     lambda: _reload_all(None, config, tls))
            watcher = asyncio.create_task(watch.run(stop, node.clock.monotonic), name="certificates")
    node.consensus = driver
    producer = asyncio.create_task(driver.run(stop), name="consensus")
    stopper = asyncio.create_task(stop.wait(), name="stop")
    done, _ = await asyncio.wait({api_task, producer, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    server.should_exit = True
    for task in (producer, api_task):
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
    stopper.cancel()
    if watcher is not None:
        watcher.cancel()
    if directory is not None:
        directory.cancel()
    if rotations is not None:
        rotations.cancel()
    if frames is not None:
        await frames.stop()
    for task in done:
        if task is not stopper and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def api_tls_files(node: Node) -> tuple[Path, Path] | None:
    """The node's certificate and key when its API serves HTTPS (``api_tls``); a typed error
    when they are missing (a development home has none: its API is plain HTTP)."""
    if not node.config.api_tls:
        return None
    files = tls_files(node.home)
    for path in (files.cert, files.key):
        if not path.is_file():
            raise ConfigError(f"api_tls is on but {path} does not exist: a node home made by "
                              "`consortia network init` or `org node` has its organisation's "
                              "certificate there; turn api_tls off for a development chain",
                              path=str(path))  # fmt: skip
    return files.cert, files.key


def _reload_all(links: PeerTransport | None, config: uvicorn.Config, tls: tuple[Path, Path] | None) -> None:
    """A renewed certificate (``node rotate-tls``): the p2p links and the HTTPS API present it in
    every handshake from now on. The pair is checked on a fresh context first, so a bad pair
    changes nothing (``ssl.SSLError``, logged by the watch)."""
    if tls is not None:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile=str(tls[0]), keyfile=str(tls[1]))
    if links is not None:
        links.reload_certificate()
    if tls is not None and config.ssl is not None:
        config.ssl.load_cert_chain(certfile=str(tls[0]), keyfile=str(tls[1]))


def _committed_height(node: Node) -> int:
    head = node.store.head()
    return 0 if head is None else head.height


def run_node(node: Node, on_ready: Callable[[], None] | None = None) -> None:
    """Block until SIGINT/SIGTERM, then stop cleanly (a kill -9 loses nothing committed)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await serve(node, stop, on_ready)
        finally:
            node.close()

    asyncio.run(main())
