"""Deterministic simulation of a whole validator set running the real consensus core.

One ``random.Random(seed)`` drives everything: the fault plan (partitions, crashes, the
Byzantine mode), message loss, delay, duplication and so reordering. Time is virtual. Before
GST the network misbehaves; at GST it heals, crashed validators restart, and every honest
validator must then commit ``commits_after_gst`` blocks beyond the highest height committed
before GST within ``liveness_window_ms``. Invariants (see :mod:`consortia.sim.invariants`) are
checked on every step; the same seed replays the same run exactly.

For behaviour measurements (``SimOptions.outages``, ``run_for_ms``) a run can also keep chosen
validators down for a planned time and last a fixed virtual time; ``SimResult.blocks_per_s``
then gives the committed blocks per simulated second.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field
from typing import Any

from consortia.consensus.block_meta import BlockMeta, genesis_block, genesis_qc
from consortia.consensus.config import CoreConfig
from consortia.consensus.core import ConsensusCore
from consortia.consensus.effects import (
    Broadcast,
    BuildBlock,
    Commit,
    Effect,
    EvidenceFound,
    FetchBlock,
    PersistSafety,
    ScheduleTimer,
    SendTo,
    ValidateBlock,
)
from consortia.consensus.events import (
    BlockBuilt,
    BlockFetched,
    BlockValidated,
    Event,
    Start,
    TimerFired,
    event_for_message,
)
from consortia.consensus.messages import Message, Proposal
from consortia.sim.byzantine import ForkingLeaderCore
from consortia.sim.invariants import InvariantChecker
from consortia.sim.keys import SimKeys
from consortia.sim.network import LinkProfile, Network
from consortia.sim.node import CoreFactory, SimNode

CHAIN_ID = "consortia-sim"
GENESIS_ID = hashlib.sha256(b"consortia/sim/genesis").digest()
BYZANTINE_MODES = ("none", "twins", "forking")

# Scheduled-item kinds (the order of equal-time items is fixed by a sequence number).
_DELIVER, _TIMER, _BUILT, _VALIDATED, _FETCHED, _NET, _CRASH, _RESTART, _GST, _DOWN, _UP = range(11)


@dataclass(frozen=True, slots=True)
class SimOptions:
    """Knobs of one simulated run; the defaults are what ``run_seed`` and the CLI use."""

    gst_ms: int = 5_000
    liveness_window_ms: int = 30_000
    commits_after_gst: int = 3
    base_timeout_ms: int = 200
    max_timeout_ms: int = 3_200
    stable_max_delay_ms: int = 30
    partitions: bool = True
    partition_kinds: tuple[str, ...] = ("connected", "connected", "isolate", "split", "one_way")
    """Drawn uniformly for each phase before GST (repeat a kind to weight it)."""
    phase_ms: tuple[int, int] = (200, 2_000)
    """Bounds of each partition phase's duration."""
    crashes: bool = True
    byzantine: str | None = None
    """``"none"``, ``"twins"``, ``"forking"``, or None to let the seed choose."""
    check_commit_proofs: bool = True
    core_factory: CoreFactory = ConsensusCore
    max_steps: int = 2_000_000
    outages: tuple[tuple[int, int, int | None], ...] = ()
    """Planned outages ``(validator, down_at_ms, up_at_ms or None)``, kept even after GST: every
    instance of the validator is down from ``down_at_ms`` (never started when 0) and restarts
    from its disk at ``up_at_ms`` (None: never). Instances down at a check are left out of the
    liveness check and of ``SimResult.commits``."""
    run_for_ms: int | None = None
    """Run exactly this much virtual time instead of stopping once the liveness target is met
    (the target is still checked at the end): for throughput measurements."""


@dataclass(slots=True)
class SimResult:
    seed: int
    validators: int
    steps: int
    virtual_ms: int
    commits: int
    """Lowest committed height among honest validators at the end."""
    max_height: int
    violations: list[str]
    byzantine: str
    faults: list[str] = field(default_factory=list)
    digest: str = ""
    commit_times_ms: list[int] = field(default_factory=list)
    """``commit_times_ms[h - 1]``: when an honest instance first committed height ``h``."""

    @property
    def ok(self) -> bool:
        return not self.violations

    def blocks_per_s(self, from_ms: int = 0, to_ms: int | None = None) -> float:
        """Heights first committed in ``[from_ms, to_ms)`` per second of simulated time."""
        end = self.virtual_ms if to_ms is None else to_ms
        if end <= from_ms:
            return 0.0
        count = sum(1 for t in self.commit_times_ms if from_ms <= t < end)
        return count * 1000 / (end - from_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "validators": self.validators,
            "steps": self.steps,
            "virtual_ms": self.virtual_ms,
            "commits": self.commits,
            "max_height": self.max_height,
            "violations": list(self.violations),
            "byzantine": self.byzantine,
            "faults": list(self.faults),
            "digest": self.digest,
        }


class Simulation:
    def __init__(self, seed: int, validators: int, options: SimOptions | None = None) -> None:
        self.seed = seed
        self.n = validators
        self.options = opts = options or SimOptions()
        self.rng = random.Random(seed)
        self.config = CoreConfig(
            chain_id=CHAIN_ID,
            validators=validators,
            genesis_id=GENESIS_ID,
            base_timeout_ms=opts.base_timeout_ms,
            max_timeout_ms=opts.max_timeout_ms,
            sync_cooldown_ms=max(1, opts.base_timeout_ms // 4),
        )
        self.keys = SimKeys(validators)
        self.checker = InvariantChecker(self.config, self.keys, opts.check_commit_proofs)
        self.byzantine = self._choose_byzantine_mode()
        self.byz_validator = validators - 1 if self.byzantine != "none" else -1
        self.nodes: list[SimNode] = []
        self.instances: list[list[int]] = [[] for _ in range(validators)]
        self._make_nodes()
        self.blocks: dict[bytes, BlockMeta] = {}
        self.queue: list[tuple[int, int, int, int, Any]] = []
        self._seq = 0
        self.now = 0
        self.steps = 0
        self.faults: list[str] = [f"byzantine={self.byzantine}"]
        self.network = self._plan_network()
        self.out: dict[int, None] = {}
        self._plan_outages()
        self.gst_reached = False
        self.target_height = 0
        self.commit_times: list[int] = []

    # ----------------------------------------------------------------------------------------
    # Set-up.

    def _choose_byzantine_mode(self) -> str:
        mode = self.options.byzantine
        if mode is None:
            mode = self.rng.choice(BYZANTINE_MODES) if self.n >= 4 else "none"
        if mode not in BYZANTINE_MODES:
            raise ValueError(f"unknown byzantine mode {mode!r}; use one of {BYZANTINE_MODES}")
        return mode

    def _make_nodes(self) -> None:
        genesis = genesis_block(GENESIS_ID)
        qc = genesis_qc(GENESIS_ID)
        for v in range(self.n):
            byz = v == self.byz_validator
            factory = ForkingLeaderCore if byz and self.byzantine == "forking" else None
            self._add_node(v, byz, factory or self.options.core_factory, genesis, qc)
        if self.byzantine == "twins":
            self._add_node(self.byz_validator, True, self.options.core_factory, genesis, qc)

    def _add_node(self, validator: int, byz: bool, factory: CoreFactory, root: BlockMeta,
                  root_qc: Any) -> None:
        node = SimNode(node_id=len(self.nodes), validator=validator, byzantine=byz,
                       factory=factory, root=root, root_qc=root_qc)
        self.nodes.append(node)
        self.instances[validator].append(node.node_id)

    @property
    def honest(self) -> list[SimNode]:
        return [nd for nd in self.nodes if not nd.byzantine]

    def _plan_network(self) -> Network:
        rng, opts = self.rng, self.options
        unstable = LinkProfile(
            loss=rng.choice([0.0, 0.02, 0.1, 0.3]),
            duplicate=rng.choice([0.0, 0.05, 0.2]),
            min_delay_ms=1,
            max_delay_ms=rng.choice([20, 80, 300]),
        )
        stable = LinkProfile(loss=0.0, duplicate=unstable.duplicate, min_delay_ms=1,
                             max_delay_ms=opts.stable_max_delay_ms)
        self.faults.append(f"unstable network: loss={unstable.loss} dup={unstable.duplicate} "
                           f"delay<={unstable.max_delay_ms}ms until GST at {opts.gst_ms}ms")
        if self.n > 1 and opts.partitions:
            t = 0
            while t < opts.gst_ms:
                self._push(t, _NET, -1, self._random_partition())
                t += rng.randint(*opts.phase_ms)
        if opts.crashes:
            for _ in range(rng.randint(0, 3)):
                at = rng.randint(0, opts.gst_ms - 1)
                victim = rng.choice(self.honest).node_id
                down = rng.randint(30, 800)
                mid_step = rng.random() < 0.5
                self._push(at, _CRASH, victim, mid_step)
                self._push(min(at + down, opts.gst_ms), _RESTART, victim, None)
                self.faults.append(f"crash node {victim} at {at}ms for {down}ms"
                                   f"{' (mid-step)' if mid_step else ''}")
        self._push(opts.gst_ms, _GST, -1, None)
        return Network(self.rng, unstable, stable)

    def _plan_outages(self) -> None:
        for validator, down_at, up_at in self.options.outages:
            for node_id in self.instances[validator]:
                if down_at <= 0:
                    self.out[node_id] = None
                else:
                    self._push(down_at, _DOWN, node_id, None)
                if up_at is not None:
                    self._push(up_at, _UP, node_id, None)
            back = "for good" if up_at is None else f"until {up_at}ms"
            self.faults.append(f"validator {validator} down from {down_at}ms {back}")

    def _random_partition(self) -> tuple[str, Any]:
        rng = self.rng
        ids = [nd.node_id for nd in self.nodes]
        kind = rng.choice(self.options.partition_kinds)
        if kind == "isolate":
            return kind, {rng.choice(ids): 1}
        if kind == "split":
            rng.shuffle(ids)
            half = len(ids) // 2
            group = {nid: (0 if i < half else 1) for i, nid in enumerate(ids)}
            twins = self.instances[self.byz_validator] if self.byz_validator >= 0 else []
            if len(twins) == 2 and group[twins[0]] == group[twins[1]]:
                group[twins[1]] = 1 - group[twins[1]]
            return kind, group
        if kind == "one_way":
            victim = rng.choice(ids)
            outgoing = rng.random() < 0.5
            links = [(victim, o) if outgoing else (o, victim) for o in ids if o != victim]
            return kind, links
        return kind, None

    # ----------------------------------------------------------------------------------------
    # The event loop.

    def _push(self, at: int, kind: int, node_id: int, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (at, self._seq, kind, node_id, payload))

    def run(self) -> SimResult:
        for node in self.nodes:
            if node.node_id not in self.out:
                self._boot(node)
        fixed = self.options.run_for_ms
        deadline = self.options.gst_ms + self.options.liveness_window_ms if fixed is None else fixed
        while self.queue and self.steps < self.options.max_steps:
            at, _seq, kind, node_id, payload = heapq.heappop(self.queue)
            if at > deadline:
                break
            self.now = at
            self._dispatch(kind, node_id, payload)
            if self.checker.violations or (fixed is None and self._done()):
                break
        if fixed is not None and not self.checker.violations:
            self.now = max(self.now, fixed)
        if not self.checker.violations and not self._done():
            lows = {nd.node_id: nd.height for nd in self._up_honest()}
            self.checker.violations.append(
                f"LIVENESS: honest heights {lows} did not all reach {self.target_height} within "
                f"{self.options.liveness_window_ms}ms after GST"
            )
        return self._result()

    def _up_honest(self) -> list[SimNode]:
        """Honest instances not in a planned outage."""
        return [nd for nd in self.honest if nd.node_id not in self.out]

    def _done(self) -> bool:
        return self.gst_reached and all(nd.height >= self.target_height for nd in self._up_honest())

    def _dispatch(self, kind: int, node_id: int, payload: Any) -> None:
        if kind == _NET:
            self._apply_partition(payload)
        elif kind == _GST:
            self._gst()
        elif kind == _CRASH:
            self._crash(self.nodes[node_id], payload)
        elif kind == _RESTART:
            self._restart(self.nodes[node_id])
        elif kind == _DOWN:
            self.out[node_id] = None
            if self.nodes[node_id].alive:
                self.nodes[node_id].crash()
        elif kind == _UP:
            self.out.pop(node_id, None)
            self._restart(self.nodes[node_id])
        elif kind == _DELIVER:
            sender, msg = payload
            self._step(self.nodes[node_id], event_for_message(msg, sender, self.now))
        else:
            node = self.nodes[node_id]
            incarnation, item = payload
            if incarnation != node.incarnation:
                return
            self._step(node, self._reply_event(kind, item))

    def _reply_event(self, kind: int, item: Any) -> Event:
        if kind == _TIMER:
            return TimerFired(round=item, now_ms=self.now)
        if kind == _BUILT:
            return BlockBuilt(block=item, now_ms=self.now)
        if kind == _VALIDATED:
            return BlockValidated(block_id=item, ok=True, now_ms=self.now)
        return BlockFetched(block=item, now_ms=self.now)

    def _step(self, node: SimNode, event: Event) -> None:
        core = node.core
        if core is None:
            return
        self.steps += 1
        try:
            effects = core.step(event)
        except Exception as exc:  # a core exception is a finding, reported with its seed
            self.checker.violations.append(
                f"t={self.now}ms: node {node.node_id} raised {type(exc).__name__}: {exc}")
            return
        self._perform(node, effects)

    # ----------------------------------------------------------------------------------------
    # Faults.

    def _apply_partition(self, spec: tuple[str, Any]) -> None:
        kind, data = spec
        if self.network.stable:
            return
        if kind == "connected":
            self.network.heal()
        elif kind == "one_way":
            self.network.block_links(data, f"one-way {data[0]}")
        else:
            self.network.set_groups(data, kind)

    def _crash(self, node: SimNode, mid_step: bool) -> None:
        if not node.alive or self.network.stable:
            return
        if mid_step:
            node.crash_pending = True
        else:
            node.crash()

    def _restart(self, node: SimNode) -> None:
        if node.node_id in self.out:
            return
        if node.alive and node.crash_pending:
            node.crash()
        if not node.alive:
            self._boot(node)

    def _gst(self) -> None:
        self.gst_reached = True
        self.network.stable = True
        self.network.heal()
        for node in self.nodes:
            if node.crash_pending:
                node.crash()
            if not node.alive and node.node_id not in self.out:
                self._boot(node)
        self.target_height = max(nd.height for nd in self.honest) + self.options.commits_after_gst

    def _boot(self, node: SimNode) -> None:
        node.boot(config=self.config, me=node.validator, sign=self.keys.signer(node.validator),
                  verify=self.keys.verify)
        self._step(node, Start(now_ms=self.now))

    # ----------------------------------------------------------------------------------------
    # Playing the node: performing effects.

    def _perform(self, node: SimNode, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, PersistSafety):
                node.persisted = effect.data
                if not node.byzantine:
                    self.checker.on_persist(self.now, node.validator, effect.data)
                if node.crash_pending:
                    node.crash()  # crashed right after the fsync: nothing later went out
                    return
            elif isinstance(effect, Broadcast):
                self._send(node, effect.msg, None)
            elif isinstance(effect, SendTo):
                self._send(node, effect.msg, effect.validator)
            elif isinstance(effect, ScheduleTimer):
                at = max(effect.at_ms, self.now)
                self._push(at, _TIMER, node.node_id, (node.incarnation, effect.round))
            elif isinstance(effect, BuildBlock):
                self._build(node, effect)
            elif isinstance(effect, ValidateBlock):
                node.keep(effect.block)
                delay = self.rng.randint(1, 5)
                self._push(self.now + delay, _VALIDATED, node.node_id,
                           (node.incarnation, effect.block.id))
            elif isinstance(effect, Commit):
                self._commit(node, effect)
            elif isinstance(effect, EvidenceFound):
                honest = effect.evidence.offender != self.byz_validator
                self.checker.on_evidence(self.now, effect.evidence, honest)
            elif isinstance(effect, FetchBlock):
                self._fetch(node, effect.block_id)
        if node.crash_pending:
            node.crash()

    def _send(self, node: SimNode, msg: Message, to: int | None) -> None:
        if isinstance(msg, Proposal):
            node.keep(msg.block)
            if not node.byzantine:
                self.checker.on_send(self.now, node.validator, msg)
        targets = range(self.n) if to is None else (to,)
        for v in targets:
            if v == node.validator:
                continue
            for dst in self.instances[v]:
                for delay in self.network.delays(node.node_id, dst):
                    self._push(self.now + delay, _DELIVER, dst, (node.validator, msg))

    def _build(self, node: SimNode, req: BuildBlock) -> None:
        block = node.build(req)
        self.blocks[block.id] = block
        delay = self.rng.randint(5, 20)
        self._push(self.now + delay, _BUILT, node.node_id, (node.incarnation, block))

    def _fetch(self, node: SimNode, block_id: bytes) -> None:
        block = self.blocks.get(block_id)
        if block is None:
            return
        for delay in self.network.delays(node.node_id, node.node_id)[:1]:
            self._push(self.now + 2 * delay, _FETCHED, node.node_id, (node.incarnation, block))

    def _commit(self, node: SimNode, commit: Commit) -> None:
        if not node.byzantine:
            self.checker.on_commit(self.now, node.node_id, node.committed, commit)
        node.commit(commit.blocks, commit.child)
        if node.byzantine:
            return
        for block in commit.blocks:
            self.checker.on_committed_block(self.now, node.node_id, block,
                                            node.root_at(block.height))
            if block.height == len(self.commit_times) + 1:
                self.commit_times.append(self.now)

    def _result(self) -> SimResult:
        up = self._up_honest() or self.honest
        digest = hashlib.sha256()
        for nd in self.nodes:
            for block in nd.committed:
                digest.update(block.id)
            digest.update(b"|")
        digest.update(self.steps.to_bytes(8, "big"))
        return SimResult(
            seed=self.seed,
            validators=self.n,
            steps=self.steps,
            virtual_ms=self.now,
            commits=min(nd.height for nd in up),
            max_height=max(nd.height for nd in self.honest),
            violations=list(self.checker.violations),
            byzantine=self.byzantine,
            faults=list(self.faults),
            digest=digest.hexdigest(),
            commit_times_ms=list(self.commit_times),
        )
