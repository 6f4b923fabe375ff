"""The blocks a core knows above its last committed block (the root), and their certificates.

Every block in the tree descends from the root; a block whose parent is not known yet waits among
the orphans until the parent arrives. Committing moves the root up and drops every block that
does not descend from the new root.
"""

from __future__ import annotations

from consortia.consensus.block_meta import BlockMeta
from consortia.invariant import invariant
from consortia.types.consensus import QuorumCert


class BlockTree:
    def __init__(self, root: BlockMeta, root_qc: QuorumCert, max_orphans: int) -> None:
        invariant(root_qc.block_id == root.id, "root_qc must certify root")
        invariant(root_qc.height == root.height and root_qc.round == root.round,
                  "root_qc must match root's round and height")
        self.root = root
        self.root_qc = root_qc
        self._max_orphans = max_orphans
        self._blocks: dict[bytes, BlockMeta] = {root.id: root}
        self._orphans: dict[bytes, dict[bytes, BlockMeta]] = {}
        self._orphan_count = 0
        self.certs: dict[bytes, QuorumCert] = {root.id: root_qc}

    def has(self, block_id: bytes) -> bool:
        return block_id in self._blocks

    def get(self, block_id: bytes) -> BlockMeta | None:
        return self._blocks.get(block_id)

    def is_orphan(self, block: BlockMeta) -> bool:
        return block.id in self._orphans.get(block.parent_id, {})

    def add(self, block: BlockMeta) -> list[BlockMeta]:
        """Insert ``block``; return the blocks that became connected to the root, parents first."""
        if block.id in self._blocks or block.height <= self.root.height:
            return []
        parent = self._blocks.get(block.parent_id)
        if parent is None:
            self._add_orphan(block)
            return []
        if not _extends(parent, block):
            return []
        connected: list[BlockMeta] = []
        pending = [block]
        while pending:
            b = pending.pop(0)
            self._blocks[b.id] = b
            connected.append(b)
            children = self._orphans.pop(b.id, {})
            self._orphan_count -= len(children)
            pending.extend(c for c in children.values() if _extends(b, c))
        return connected

    def _add_orphan(self, block: BlockMeta) -> None:
        siblings = self._orphans.setdefault(block.parent_id, {})
        if block.id in siblings or self._orphan_count >= self._max_orphans:
            return
        siblings[block.id] = block
        self._orphan_count += 1

    def record_cert(self, qc: QuorumCert) -> bool:
        """Remember ``qc``; True if it is new and above the root."""
        if qc.height <= self.root.height or qc.block_id in self.certs:
            return False
        self.certs[qc.block_id] = qc
        return True

    def path_from_root(self, block: BlockMeta) -> list[BlockMeta]:
        """The blocks from just above the root up to ``block``, in height order."""
        path: list[BlockMeta] = []
        cur: BlockMeta | None = block
        while cur is not None and cur.id != self.root.id:
            path.append(cur)
            cur = self._blocks.get(cur.parent_id)
        invariant(cur is not None, "block in the tree must descend from the root")
        path.reverse()
        return path

    def set_root(self, block: BlockMeta, qc: QuorumCert) -> None:
        """Make the committed ``block`` the root; forget everything that does not descend from it."""
        invariant(qc.block_id == block.id, "root qc must certify the new root")
        self.root = block
        self.root_qc = qc
        kept: dict[bytes, BlockMeta] = {block.id: block}
        for b in self._blocks.values():
            if b.parent_id in kept and b.height > block.height:
                kept[b.id] = b
        self._blocks = kept
        self.certs = {k: q for k, q in self.certs.items() if q.height > block.height}
        self.certs[block.id] = qc
        orphans: dict[bytes, dict[bytes, BlockMeta]] = {}
        count = 0
        for parent_id, children in self._orphans.items():
            alive = {k: c for k, c in children.items() if c.height > block.height}
            if alive:
                orphans[parent_id] = alive
                count += len(alive)
        self._orphans = orphans
        self._orphan_count = count


def _extends(parent: BlockMeta, child: BlockMeta) -> bool:
    return child.height == parent.height + 1 and child.round > parent.round
