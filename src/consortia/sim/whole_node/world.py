"""N real node stacks on one virtual-time loop, with faults planned from one seed.

Each slot is one validator home. An *incarnation* is one run of the real stack from that home:
``Node`` (chain, executor, mempool, ``ChainStore`` on real LMDB), ``ConsensusDriver`` and
``PeerNetwork`` wired as ``node/runner.py`` wires them, with a simulated clock and frame
transport instead of the wall clock and TLS. A crash drops an incarnation without any clean
shutdown (its frames, timers and storage go inert at once) and a restart opens a fresh one from
the same home.

Faults planned from the seed, all before the network heals (GST): link loss, duplication,
delay and reordering; partitions; crash-restarts at any instant; per incarnation, a write that
is torn by a crash or whose fsync fails; clock skew and drift per node; optionally one Byzantine
validator that serves forged catch-up blocks. After GST the network is clean, every node is up
and the run ends once every honest node made progress and every acknowledged transaction is
accounted for (or the liveness window runs out: a violation).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import logging
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from consortia.errors import NodeHalted
from consortia.node.chain import ExecutedBlock
from consortia.node.consensus_driver import ConsensusDriver
from consortia.node.node import Node
from consortia.node.peer_network import PeerNetwork
from consortia.sim.network import LinkProfile
from consortia.sim.whole_node.byzantine import ForgingNetwork
from consortia.sim.whole_node.clock import SimClock
from consortia.sim.whole_node.homes import SIM_PARAMS, make_homes
from consortia.sim.whole_node.invariants import LedgerView, WholeNodeChecker
from consortia.sim.whole_node.net import SimFrames, SimNet
from consortia.sim.whole_node.storage import FaultyEnv, StorageFaults
from consortia.sim.whole_node.vloop import VirtualTimeLoop
from consortia.sim.whole_node.workload import Workload, committed_nonce
from consortia.types.block import CommittedBlock
from consortia.types.genesis import Genesis

NodeFactory = Callable[..., Node]
DriverFactory = Callable[..., ConsensusDriver]
NetworkFactory = Callable[..., PeerNetwork]

_SHM = Path("/dev/shm")
_CURRENT: contextvars.ContextVar[tuple[int, int]] = contextvars.ContextVar("sim_node", default=(-1, 0))
"""Which node (and incarnation) is running: each incarnation's tasks and frames run in its own
context, so everything it logs is attributed to it."""


@dataclass(frozen=True)
class WholeOptions:
    gst_ms: tuple[int, int] = (5_000, 12_000)
    """The network heals at a seeded instant in this range."""
    liveness_window_ms: int = 30_000
    commits_after_gst: int = 3
    crashes: bool = True
    storage_faults: bool = True
    partitions: bool = True
    link_faults: bool = True
    """Loss, duplication and long delays before GST (off: the post-GST network throughout)."""
    workload: bool = True
    byzantine: bool | None = None
    """None: one Byzantine validator in some seeds (n >= 4); True/False: always/never."""
    node_factory: NodeFactory = Node
    driver_factory: DriverFactory = ConsensusDriver
    network_factory: NetworkFactory = PeerNetwork
    verbose: bool = False
    """Print the nodes' log (INFO and up) with virtual time, to study a replayed seed."""


@dataclass
class WholeResult:
    seed: int
    validators: int
    virtual_ms: int
    heights: list[int]
    commits: int
    acked: int
    submitted: int
    restarts: int
    halts: int
    faults: list[str]
    violations: list[str]
    errors: list[str]
    digest: str
    steps: int
    events: dict[str, int] = field(default_factory=dict)
    """How often each kind of node log line appeared (catch-ups, snapshots, refusals...)."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Incarnation:
    number: int
    node: Node
    driver: ConsensusDriver
    network: PeerNetwork
    frames: SimFrames
    env: FaultyEnv
    context: contextvars.Context
    task: asyncio.Task[None] | None = None
    extra: list[asyncio.Task[None]] = field(default_factory=list)
    dead: bool = False


@dataclass
class Slot:
    index: int
    home: Path
    byzantine: bool
    offset_ms: int = 0
    drift: float = 0.0
    inc: Incarnation | None = None
    incarnations: int = 0
    restart: asyncio.TimerHandle | None = None
    closing: list[Node] = field(default_factory=list)


class _NodeLog(logging.Handler):
    """Counts what the node code logs (what a seed exercised), collects ERROR and above
    (contained failures are findings); ``verbose``: prints everything from INFO up, stamped
    with virtual time and node."""

    def __init__(self, world: World, verbose: bool) -> None:
        super().__init__(logging.INFO)
        self._world = world
        self._verbose = verbose

    def emit(self, record: logging.LogRecord) -> None:
        world = self._world
        what = str(record.msg)[:40]
        world.events[what] = world.events.get(what, 0) + 1  # what the seed exercised
        if not self._verbose and record.levelno < logging.ERROR:
            return
        node, number = _CURRENT.get()
        message = record.getMessage()
        if self._verbose:
            print(f"{world.now_ms():>7}ms node {node}.{number}: {record.levelname} "
                  f"{record.name}: {message}")
        if record.levelno < logging.ERROR:
            return
        if len(world.errors) < 50:
            world.errors.append(f"node {node}: {record.name}: {message}")
        if "simulated" not in message and world.is_live(node, number):
            # nothing but an injected fault may make a running node log an error
            world.checker.fail(f"ERROR logged by node {node}: {record.name}: {message}")


class World:
    def __init__(self, seed: int, validators: int, options: WholeOptions) -> None:
        self.seed = seed
        self.n = validators
        self.options = options
        self.rng = random.Random(f"whole-node/{validators}/{seed}")
        self.loop = VirtualTimeLoop()
        self.faults: list[str] = []
        self.errors: list[str] = []
        self.checker = WholeNodeChecker(self.now_ms, ())
        self.restarts = 0
        self.halts = 0
        self.gst = False
        self.done = asyncio.Event()
        self.root = Path(tempfile.mkdtemp(prefix="consortia-sim-",
                                          dir=_SHM if _SHM.is_dir() else None))
        self.slots: list[Slot] = []
        self.net: SimNet | None = None
        self.workload: Workload | None = None
        self._trace = hashlib.blake2b(digest_size=16)
        self._genesis: Genesis | None = None
        self.steps = 0
        self.events: dict[str, int] = {}

    def now_ms(self) -> int:
        return int(self.loop.time() * 1000)

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> WholeResult:
        handler = _NodeLog(self, self.options.verbose)
        logger = logging.getLogger("consortia")
        saved = (logger.level, logger.propagate)
        logger.addHandler(handler)
        logger.setLevel(handler.level)
        logger.propagate = False
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(self._loop_error)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self._shutdown()
            asyncio.set_event_loop(None)
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]
            shutil.rmtree(self.root, ignore_errors=True)
        return self._result()

    async def _main(self) -> None:
        rng, opts = self.rng, self.options
        gst_ms = rng.randint(*opts.gst_ms)
        self._plan(gst_ms)
        for slot in self.slots:
            self._boot(slot)
        self.loop.after_iteration = self._every_step
        if opts.workload and self.workload is not None:
            self._spawn(self.workload.run((gst_ms + 1_000) / 1000))
        self.loop.call_later(gst_ms / 1000, self._heal)
        deadline = (gst_ms + opts.liveness_window_ms) / 1000
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), timeout=deadline)
        self.loop.after_iteration = None
        if not self.done.is_set():
            self._final_check(last=True)
        self.steps = self.loop.iterations

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        return self.loop.create_task(coro)

    # --- planning ---------------------------------------------------------------------------

    def _plan(self, gst_ms: int) -> None:
        rng, opts, n = self.rng, self.options, self.n
        params = SIM_PARAMS
        far_behind = rng.random() < 0.2
        if far_behind:
            params = msgspec.structs.replace(params, snapshot_gap=6, empty_block_interval_ms=250)
            self.faults.append("snapshot_gap=6, empty blocks every 250ms (a far-behind node "
                               "installs a snapshot)")
        homes = make_homes(self.root, n, params)
        self._genesis = homes.genesis
        byzantine = opts.byzantine if opts.byzantine is not None else (n >= 4 and rng.random() < 0.25)
        for i, home in enumerate(homes.homes):
            slot = Slot(i, home, byzantine=bool(byzantine) and i == n - 1)
            slot.offset_ms = rng.choice([0, 0, rng.randint(-300, 300)])
            slot.drift = rng.choice([0.0, rng.uniform(-0.01, 0.01)])
            self.slots.append(slot)
        if rng.random() < 0.3:
            skewed = rng.choice(self.slots)
            skewed.offset_ms = rng.choice([-1, 1]) * rng.randint(1_000, 4_000)
        self.faults.append("clocks: " + " ".join(f"{s.index}:{s.offset_ms:+d}ms/{s.drift:+.3%}"
                                                 for s in self.slots))
        if byzantine:
            self.faults.append(f"byzantine: node {n - 1} lures peers and serves forged catch-up blocks")
        self.checker = WholeNodeChecker(self.now_ms, [s.index for s in self.slots if not s.byzantine])
        unstable = LinkProfile(loss=rng.choice([0.0, 0.01, 0.05, 0.15] if not far_behind else [0.0]),
                               duplicate=rng.choice([0.0, 0.05, 0.2]), min_delay_ms=1,
                               max_delay_ms=rng.choice([10, 50, 200]),
                               spike=rng.choice([0.0, 0.02]))
        stable = LinkProfile(loss=0.0, duplicate=unstable.duplicate, min_delay_ms=1, max_delay_ms=10)
        if not opts.link_faults:
            unstable = stable
        self.net = SimNet(self.loop, rng, n, unstable, stable)
        self.faults.append(f"network until GST at {gst_ms}ms: {unstable.describe()}")
        if opts.partitions and n > 1:
            t = rng.randint(0, 1_500)
            while t < gst_ms:
                self.loop.call_later(t / 1000, self._partition)
                t += rng.randint(300, 2_500)
        honest = [s for s in self.slots if not s.byzantine]
        if opts.crashes and far_behind:  # one node misses many blocks: it must catch up
            victim, at = rng.choice(honest), rng.randint(0, 1_000)
            down = gst_ms - at
            self.loop.call_later(at / 1000, self._crash_event, victim, down)
            self.faults.append(f"crash node {victim.index} at {at}ms for {down}ms")
        if opts.crashes:
            for _ in range(rng.choice([0, 1, 2, 3, 4])):
                at = rng.randint(0, gst_ms - 1)
                victim = rng.choice(honest)
                down = rng.choice([rng.randint(1, 50), rng.randint(50, 600), rng.randint(600, 4_000)])
                self.loop.call_later(at / 1000, self._crash_event, victim, down)
                self.faults.append(f"crash node {victim.index} at {at}ms for {down}ms")
        self.workload = Workload(rng, n, self._node_of, self.now_ms, self.checker.fail)
        if opts.workload:
            self.faults.append(self.workload.describe())

    def _storage_faults(self, slot: Slot) -> StorageFaults:
        if not self.options.storage_faults or self.gst or slot.byzantine:
            return StorageFaults()
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return StorageFaults(torn_at=rng.randint(1, 200))
        if roll < 0.5:
            return StorageFaults(fsync_fail_at=rng.randint(1, 200), durable=rng.random() < 0.5)
        return StorageFaults()

    def _send_crash(self, slot: Slot) -> int | None:
        if not self.options.crashes or self.gst or slot.byzantine or self.rng.random() >= 0.4:
            return None
        return self.rng.randint(1, 60)

    def _partition(self) -> None:
        net, rng = self.net, self.rng
        if net is None or self.gst:
            return
        kind = rng.choice(["connected", "connected", "isolate", "isolate", "split", "one_way"])
        ids = list(range(self.n))
        if kind == "connected":
            net.heal()
        elif kind == "isolate":
            net.split({rng.choice(ids): 1})
        elif kind == "split":
            rng.shuffle(ids)
            net.split({node: int(i < self.n // 2) for i, node in enumerate(ids)})
        else:
            victim = rng.choice(ids)
            out = rng.random() < 0.5
            net.block([(victim, o) if out else (o, victim) for o in ids if o != victim])
        self._note(f"partition {kind}")

    def _note(self, what: str) -> None:
        self._trace.update(f"{self.loop.time()!r}:{what};".encode())
        if self.options.verbose:
            print(f"{self.now_ms():>7}ms sim: {what}")

    # --- incarnations -----------------------------------------------------------------------

    def is_live(self, index: int, number: int) -> bool:
        if not 0 <= index < len(self.slots):
            return False
        inc = self.slots[index].inc
        return inc is not None and inc.number == number and not inc.dead

    def _node_of(self, index: int) -> Node | None:
        inc = self.slots[index].inc
        return inc.node if inc is not None and not inc.dead else None

    def _boot(self, slot: Slot) -> None:
        slot.restart = None
        if slot.inc is not None:
            return
        for old in slot.closing:
            old.close()
        slot.closing.clear()
        slot.incarnations += 1
        context = contextvars.Context()
        context.run(_CURRENT.set, (slot.index, slot.incarnations))
        context.run(self._start, slot, context)

    def _start(self, slot: Slot, context: contextvars.Context) -> None:
        number = slot.incarnations
        try:
            node = self.options.node_factory(
                slot.home, clock=SimClock(self.loop, slot.offset_ms, slot.drift), offload=False)
        except Exception as exc:  # a node that cannot reopen its own home is a finding
            self.checker.fail(f"node {slot.index} failed to restart: {type(exc).__name__}: {exc}")
            return
        faults = self._storage_faults(slot)
        if faults.torn_at is not None or faults.fsync_fail_at is not None:
            self.faults.append(f"node {slot.index} incarnation {number}: {faults.describe()}")
        env = FaultyEnv(node.store.env, faults, on_torn=lambda: self._torn(slot),
                        on_fsync_failure=lambda: self._fsync_failed(slot))
        node.store.env = env  # type: ignore[assignment]
        factory = ForgingNetwork if slot.byzantine else self.options.network_factory
        network = factory(node)
        crash_after = self._send_crash(slot)
        if crash_after is not None:
            self.faults.append(f"node {slot.index} incarnation {number}: crash after frame #{crash_after}")
        frames = SimFrames(self.net, slot.index, self._on_send, crash_after,  # type: ignore[arg-type]
                           lambda: self._torn(slot))
        driver = self.options.driver_factory(node, transport=network)
        network.attach(frames, driver)
        node.consensus, node.peers = driver, frames
        inc = Incarnation(number, node, driver, network, frames, env, context)
        slot.inc = inc
        head = node.chain.head
        self.checker.restarted(slot.index, head.height, lambda h: _block_id_at(node, h))
        self.checker.head_seen(slot.index, head.height, head.block_id, head.state_root)
        node.chain.listeners.append(lambda executed, committed: self._committed(slot, executed, committed))
        self.net.receivers[slot.index] = lambda sender, payload: self._deliver(inc, sender, payload)  # type: ignore[union-attr]
        inc.task = self.loop.create_task(driver.run(asyncio.Event()))
        inc.task.add_done_callback(lambda task: self._driver_exit(slot, inc, task))
        if isinstance(network, ForgingNetwork):
            inc.extra.append(network.start_luring())
        self._note(f"boot {slot.index}.{number} at height {head.height}")

    def _deliver(self, inc: Incarnation, sender: int, payload: bytes) -> None:
        if not inc.dead:
            inc.context.run(inc.network.on_frame, sender, payload)

    def _kill(self, slot: Slot) -> None:
        """Drop the running incarnation at once: no clean shutdown, nothing more leaves it."""
        inc = slot.inc
        if inc is None:
            return
        inc.dead = True
        inc.frames.dead = True
        inc.env.dead = True
        slot.inc = None
        if self.net is not None:
            self.net.receivers[slot.index] = None
        for task in [inc.task, *inc.extra, *inc.network._tasks]:
            if task is not None:
                task.cancel()
        slot.closing.append(inc.node)
        self._note(f"kill {slot.index}.{inc.number}")

    def _schedule_restart(self, slot: Slot, delay_ms: int) -> None:
        if slot.restart is not None:
            slot.restart.cancel()
        slot.restart = self.loop.call_later(max(delay_ms, 1) / 1000, self._restart, slot)

    def _restart(self, slot: Slot) -> None:
        if slot.inc is None:
            self.restarts += 1
            self._boot(slot)

    def _crash_event(self, slot: Slot, down_ms: int) -> None:
        if self.gst or slot.inc is None:
            return
        self._kill(slot)
        self._schedule_restart(slot, down_ms)

    def _torn(self, slot: Slot) -> None:
        """A crash in the middle of what the node is doing (called from inside its call stack:
        a write in flight, or right after a frame left)."""
        self._note(f"crash {slot.index} mid-step")
        self._kill(slot)
        rng = self.rng
        self._schedule_restart(slot, rng.choice([rng.randint(1, 100), rng.randint(100, 1_500)]))

    def _fsync_failed(self, slot: Slot) -> None:
        self._note(f"fsync {slot.index}")

    def _driver_exit(self, slot: Slot, inc: Incarnation, task: asyncio.Task[None]) -> None:
        if task.cancelled() or inc.dead:
            return
        exc = task.exception()
        if isinstance(exc, NodeHalted):
            self.halts += 1
            self._kill(slot)
            self._schedule_restart(slot, 1 if self.gst else self.rng.randint(1, 1_000))
        else:
            shown = f"{type(exc).__name__}: {exc}" if exc is not None else "returned"
            self.checker.fail(f"node {slot.index}'s consensus driver stopped: {shown}")
            self._kill(slot)

    def _on_send(self, sender: int, peer: int, payload: bytes) -> None:
        inc = self.slots[sender].inc
        halted = inc is not None and inc.driver.fatal is not None
        validator = inc.driver.me if inc is not None else None
        self.checker.sent(sender, validator, payload, halted)

    def _committed(self, slot: Slot, executed: ExecutedBlock, committed: CommittedBlock) -> None:
        header = executed.header
        self._trace.update(b"c%d:%d:" % (slot.index, header.height) + executed.block_id)
        self.checker.committed(slot.index, header.height, executed.block_id, header.state_root)
        if self._genesis is not None:
            self.checker.certified(slot.index, committed, self._genesis)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        shown = f"{type(exc).__name__}: {exc}" if exc is not None else context.get("message", "?")
        if len(self.errors) < 50:
            self.errors.append(f"loop: {context.get('message', '')} {shown}")

    # --- healing and the end ----------------------------------------------------------------

    def _heal(self) -> None:
        self.gst = True
        if self.net is not None:
            self.net.stable = True
            self.net.heal()
        for slot in self.slots:
            if slot.inc is not None:
                slot.inc.env.faults = StorageFaults()
                slot.inc.frames.disarm()
            elif slot.restart is not None:
                slot.restart.cancel()
                slot.restart = None
                self.restarts += 1
                self._boot(slot)
        self._note("heal")
        self.target = max(self._heights()) + self.options.commits_after_gst
        self.loop.call_later(0.25, self._poll_done)

    def _heights(self) -> list[int]:
        return [s.inc.node.chain.head.height if s.inc is not None else -1
                for s in self.slots if not s.byzantine]

    def _poll_done(self) -> None:
        if self.done.is_set():
            return
        if min(self._heights()) >= self.target and self._final_check(last=False):
            self.done.set()
            return
        self.loop.call_later(0.25, self._poll_done)

    def _every_step(self) -> None:
        for slot in self.slots:
            inc = slot.inc
            if inc is not None and not slot.byzantine:
                head = inc.node.chain.head
                self.checker.head_seen(slot.index, head.height, head.block_id, head.state_root)
        if self.checker.violations and not self.done.is_set():
            self.done.set()

    def _final_check(self, last: bool) -> bool:
        """True when everything is accounted for; on the ``last`` check, record what is not."""
        live = [s for s in self.slots if s.inc is not None and not s.byzantine]
        if last:
            heights = self._heights()
            target = getattr(self, "target", None)
            if target is None or min(heights) < target:
                self.checker.fail(f"LIVENESS: honest heights {heights} did not all reach {target} "
                                  f"within {self.options.liveness_window_ms}ms after GST")
        if not live or self.workload is None:
            return not last
        ref = max(live, key=lambda s: s.inc.node.chain.head.height)  # type: ignore[union-attr]
        node = ref.inc.node  # type: ignore[union-attr]
        nodes = [s.inc.node for s in live]  # type: ignore[union-attr]

        def dropped(tx_hash: bytes) -> str | None:
            return next((r for nd in nodes if (r := nd.chain.mempool.dropped_reason(tx_hash))), None)

        ledger = LedgerView(
            height=node.chain.head.height,
            is_committed=lambda h: node.store.tx_location(h) is not None,
            committed_nonce=lambda sender: committed_nonce(node, sender),
            dropped_reason=dropped,
            in_pool=lambda h: [s.index for s in live if h in s.inc.node.chain.mempool],  # type: ignore[union-attr]
        )
        problems = self.checker.unresolved(self.workload.acked, ledger)
        if last:
            for problem in problems[:10]:
                self.checker.fail(problem)
            if len(problems) > 10:
                self.checker.fail(f"... and {len(problems) - 10} more acknowledged transactions")
        return not problems

    def _shutdown(self) -> None:
        for slot in self.slots:
            self._kill(slot)
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        for slot in self.slots:
            for node in slot.closing:
                node.close()
            slot.closing.clear()
        self.loop.close()

    def _result(self) -> WholeResult:
        net = self.net
        digest = self._trace.copy()
        if net is not None:
            digest.update(net.trace.digest())
        heights = [self.checker.head_of.get(s.index, (0, b""))[0] for s in self.slots]
        honest = [h for h, s in zip(heights, self.slots, strict=True) if not s.byzantine]
        workload = self.workload
        return WholeResult(
            seed=self.seed,
            validators=self.n,
            virtual_ms=self.now_ms(),
            heights=heights,
            commits=min(honest, default=0),
            acked=len(workload.acked) if workload else 0,
            submitted=workload.submitted if workload else 0,
            restarts=self.restarts,
            halts=self.halts,
            faults=list(self.faults),
            violations=list(self.checker.violations),
            errors=list(self.errors),
            digest=digest.hexdigest(),
            steps=self.steps,
            events=dict(sorted(self.events.items())),
        )


def _block_id_at(node: Node, height: int) -> bytes | None:
    try:
        return node.store.block(height).qc.block_id
    except Exception:
        return None


