"""Leader reputation: who leads round ``r``, decided from committed history only (as DiemBFT/Aptos).

With plain round-robin a dead validator still leads every n-th round; each of those rounds times
out, and the votes of the round before it (sent to the dead leader) are lost too. Here the leader
of round ``r`` is drawn from the validators seen doing their job recently:

* Look only at committed blocks whose round is ``<= r - LAG_ROUNDS``, and of those only the last
  :func:`window_blocks` ones. Every honest node in round ``r`` has, in the normal case, committed
  the same such blocks (a block is committed about two rounds after its own), so all of them
  compute the same leader.
* A validator is *active* if it proposed one of those blocks or signed the QC one of them carries
  (``justify``: the votes for its parent). A QC counts only when the block it certifies is in the
  history too, so certificates from before the history (the previous validator set's QC on the
  last block of an epoch) are never read with the wrong indices.
* Fewer than a full window of such blocks (a young chain or epoch), or every validator active:
  round-robin ``r mod n``, exactly as before. (A part-filled window would brand validators that
  simply had no turn yet as inactive.)
* Otherwise a deterministic weighted draw seeded by ``sha256(tag || r)``: active validators weigh
  :data:`ACTIVE_WEIGHT`, inactive ones :data:`INACTIVE_WEIGHT`, so an excluded validator still
  leads now and then and can earn its way back (it also comes back by voting: any QC it signs
  makes it active again).

Pure: no clock, no randomness, no I/O. Same committed history and round, same leader, on every
node. Safety never depends on who leads (an honest validator signs at most one proposal and one
vote per round whoever it thinks the leader is); only liveness does.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Sequence

from consortia.consensus.block_meta import BlockMeta
from consortia.invariant import invariant

LAG_ROUNDS = 10
"""Only blocks of rounds ``<= r - LAG_ROUNDS`` decide the leader of ``r``."""

MIN_WINDOW_BLOCKS = 10
WINDOW_BLOCKS_PER_VALIDATOR = 3
ACTIVE_WEIGHT = 100
INACTIVE_WEIGHT = 1

_SEED_TAG = b"consortia/leader/v1"
_CACHE_LIMIT = 256


def window_blocks(validators: int) -> int:
    """How many committed blocks the reputation of one round looks at: ``max(10, 3n)``."""
    return max(MIN_WINDOW_BLOCKS, WINDOW_BLOCKS_PER_VALIDATOR * validators)


def history_needed(validators: int) -> int:
    """How many of the latest committed blocks a (re)started core needs to elect like its peers.

    A node in round ``r`` has committed only blocks of rounds ``<= r - 2``, so at most
    ``LAG_ROUNDS - 2`` of them are too recent to count; the window's oldest block also needs its
    parent (whose QC it carries). ``window_blocks + LAG_ROUNDS`` covers both.
    """
    return window_blocks(validators) + LAG_ROUNDS


def round_robin(round_: int, validators: int) -> int:
    return round_ % validators


def weighted_draw(round_: int, weights: Sequence[int]) -> int:
    """The validator index drawn for ``round_``: deterministic, proportional to ``weights``.

    The seed is ``sha256(tag || (round mod 2**128) as 16 bytes big-endian)``: it depends on
    nothing but the round, so every node draws the same (and any integer is accepted).
    """
    total = sum(weights)
    invariant(total > 0, "some validator must have weight")
    digest = hashlib.sha256(_SEED_TAG + (round_ % (1 << 128)).to_bytes(16, "big")).digest()
    ticket = int.from_bytes(digest, "big") % total
    for validator, weight in enumerate(weights):
        if ticket < weight:
            return validator
        ticket -= weight
    raise AssertionError("unreachable: the ticket is below the total weight")


def contiguous_suffix(blocks: Sequence[BlockMeta]) -> list[BlockMeta]:
    """The longest tail of ``blocks`` (oldest first) linked by parent ids, genesis excluded."""
    tail: list[BlockMeta] = []
    for block in reversed(blocks):
        if block.height <= 0:
            break
        if tail and (tail[-1].parent_id != block.id or tail[-1].height != block.height + 1):
            break
        tail.append(block)
    tail.reverse()
    return tail


class LeaderElection:
    """The leader of every round, from the latest committed blocks.

    Args:
        validators: n, the size of the validator set (indices ``0 .. n-1``).
        history: the latest committed blocks, oldest first, ending at the node's last commit
            (genesis and anything that does not chain by parent links are left out; blocks of an
            earlier validator set must not be passed). Only the last :func:`history_needed`
            matter.

    Feed every block the node commits, in height order, with :meth:`record`.
    """

    def __init__(self, validators: int, history: Iterable[BlockMeta] = ()) -> None:
        invariant(validators >= 1, "at least one validator")
        self.validators = validators
        self.window = window_blocks(validators)
        self._blocks: deque[BlockMeta] = deque(maxlen=history_needed(validators))
        self._blocks.extend(contiguous_suffix(list(history)))
        self._cache: dict[int, int] = {}

    @property
    def history(self) -> tuple[BlockMeta, ...]:
        """The committed blocks kept, oldest first."""
        return tuple(self._blocks)

    def record(self, block: BlockMeta) -> None:
        """A block was committed (the next height). A block that does not extend the last one
        restarts the history (never happens with a well-behaved caller)."""
        if block.height <= 0:
            return
        last = self._blocks[-1] if self._blocks else None
        if last is not None and (block.parent_id != last.id or block.height != last.height + 1):
            self._blocks.clear()
        self._blocks.append(block)
        self._cache.clear()

    def active(self, round_: int) -> list[bool] | None:
        """``active[v]`` for the window that decides ``round_``; None until that window is full."""
        cutoff = round_ - LAG_ROUNDS
        window: list[tuple[BlockMeta, BlockMeta | None]] = []
        blocks = self._blocks
        for i in range(len(blocks) - 1, -1, -1):
            block = blocks[i]
            if block.round > cutoff:
                continue
            window.append((block, blocks[i - 1] if i > 0 else None))
            if len(window) == self.window:
                break
        if len(window) < self.window:
            return None
        n = self.validators
        active = [False] * n
        for block, parent in window:
            if 0 <= block.proposer < n:
                active[block.proposer] = True
            if parent is not None and parent.id == block.parent_id:
                for signer in block.justify.signers:
                    if 0 <= signer < n:
                        active[signer] = True
        return active

    def leader(self, round_: int) -> int:
        n = self.validators
        if n == 1:
            return 0
        cached = self._cache.get(round_)
        if cached is not None:
            return cached
        active = self.active(round_)
        if active is None or all(active):
            chosen = round_robin(round_, n)
        else:
            weights = [ACTIVE_WEIGHT if a else INACTIVE_WEIGHT for a in active]
            chosen = weighted_draw(round_, weights)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[round_] = chosen
        return chosen
