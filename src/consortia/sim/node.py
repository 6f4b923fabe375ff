"""One simulated validator instance: a real core plus the node's side of the contract.

The simulator plays the node: it builds blocks (id = SHA-256 of the fields and a per-instance
build counter, standing in for transactions), validates every block as good, keeps the block
store, the persisted safety data and the committed chain, and rebuilds the core from those on
restart, exactly as a real node would after a crash (the latest committed blocks go in as
``history``, from which the core elects leaders).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consortia.codec import encode
from consortia.consensus.block_meta import BlockMeta
from consortia.consensus.core import ConsensusCore
from consortia.consensus.effects import BuildBlock
from consortia.consensus.leader_election import history_needed
from consortia.consensus.safety_rules import SafetyData
from consortia.types.consensus import QuorumCert

CoreFactory = Callable[..., ConsensusCore]
"""Called with the keyword arguments of :class:`ConsensusCore`; tests pass buggy variants."""


@dataclass(slots=True)
class SimNode:
    node_id: int
    validator: int
    byzantine: bool
    factory: CoreFactory
    root: BlockMeta
    root_qc: QuorumCert
    core: ConsensusCore | None = None
    incarnation: int = 0
    persisted: SafetyData = field(default_factory=SafetyData)
    committed: list[BlockMeta] = field(default_factory=list)
    state_roots: list[bytes] = field(default_factory=list)
    store: dict[bytes, BlockMeta] = field(default_factory=dict)
    builds: int = 0
    crash_pending: bool = False
    restarts: int = 0

    @property
    def alive(self) -> bool:
        return self.core is not None

    @property
    def height(self) -> int:
        return self.committed[-1].height if self.committed else self.root.height

    def boot(self, **core_args: Any) -> ConsensusCore:
        """Build the core from what is on "disk": safety data, committed root and the latest
        committed blocks before it, kept blocks."""
        kept = [b for b in self.store.values() if b.height > self.root.height]
        needed = history_needed(core_args["config"].validators)
        self.core = self.factory(
            safety=SafetyData.decode(self.persisted.encode()),
            root=self.root,
            root_qc=self.root_qc,
            blocks=kept,
            history=self.committed[-needed:],
            **core_args,
        )
        self.incarnation += 1
        return self.core

    def crash(self) -> None:
        self.core = None
        self.crash_pending = False
        self.restarts += 1

    def root_at(self, height: int) -> bytes:
        """The modelled state root after executing the committed block at ``height``."""
        index = height - 1 - (self.committed[0].height - 1 if self.committed else 0)
        return self.state_roots[index]

    def build(self, req: BuildBlock) -> BlockMeta:
        self.builds += 1
        payload = encode([req.round, req.height, req.parent_id, req.justify, req.timeout_cert,
                          self.validator, self.node_id, self.builds])
        block = BlockMeta(
            id=hashlib.sha256(payload).digest(),
            round=req.round,
            height=req.height,
            parent_id=req.parent_id,
            justify=req.justify,
            proposer=self.validator,
            timeout_cert=req.timeout_cert,
        )
        self.keep(block)
        return block

    def keep(self, block: BlockMeta) -> None:
        if block.height > self.root.height:
            self.store[block.id] = block

    def commit(self, blocks: tuple[BlockMeta, ...], child: BlockMeta) -> None:
        """Apply a commit: extend the chain and the state-root hash chain, move the root."""
        for block in blocks:
            previous = self.state_roots[-1] if self.state_roots else b""
            self.committed.append(block)
            self.state_roots.append(hashlib.sha256(previous + block.id).digest())
        self.root = blocks[-1]
        self.root_qc = child.justify
        self.store = {k: b for k, b in self.store.items() if b.height > self.root.height}
