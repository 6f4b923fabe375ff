"""What one node spends per transaction, stage by stage: plain transfers against wallet payments.

The network sweep (``bench/network.py --wallets``) gives the figure that counts, but on a
shared machine it is noisy and it does not say where the time goes. This drives the real
:class:`~consortia.node.chain.Chain` of a leader and of a validator (their own LMDB stores, the
genesis of a 4-validator network) in one process, block after block, and prints per
transaction: signature checks and decoding (``prepare``), admission (``admit``), the leader's
``build_block`` (proposal execution and state root), the validator's ``validate_block``
(decoding, re-execution and state root) and ``commit`` (LMDB, fsync included) — for plain
transfers on an open chain and for tier-2 wallet payments with the e-CNY tier limits and every
alert rule on (the wallet sweep's set-up). Times are this process's CPU time (so other work on
the machine does not count), best of ``--runs`` per stage; the last column is the node's work
without the signature checks, which both kinds share.

    python bench/node_cost.py [--blocks 20] [--block-txs 250] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from consortia.client.tx_builder import sign_tx
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.contracts.permissioned.regulator import encode_rule_args
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair
from consortia.ledger.chain_store import ChainStore
from consortia.node.chain import Chain
from consortia.node.config import VALIDATOR_KEY_FILE
from consortia.node.genesis import load_genesis
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network
from consortia.node.solo import self_certify
from consortia.types.genesis import ChainParams
from consortia.types.org_specs import IdentitySpec
from consortia.types.transaction import Call
from network import WALLET_FUNDS, WALLET_ORGS, WALLET_TIER
from transfers import make_keys, sign_all

STAGES = ("prepare", "admit", "build_block", "validate_block", "commit")
RULES = [("large_amount", [1_000_000]), ("structuring", [1_000_000, 1_000, 3, 100]),
         ("velocity", [10_000, 10**9, 100])]


class Pair:
    """A leader's chain and a validator's chain on the same genesis, fed the same transactions."""

    def __init__(self, root: Path, home: Path) -> None:
        genesis = load_genesis(home / "genesis.json")
        self.key: KeyPair = load_key_file(home / VALIDATOR_KEY_FILE, None)
        self.leader = Chain(ChainStore(root / "leader"), genesis)
        self.validator = Chain(ChainStore(root / "validator"), genesis)
        self.now_ms = int(time.time() * 1000)

    def close(self) -> None:
        self.leader.store.close()
        self.validator.store.close()

    def block(self, raws: list[bytes], spent: dict[str, float]) -> int:
        """One block of ``raws`` through both nodes; adds each stage's seconds to ``spent``.
        Returns how many transactions the block holds."""
        for chain, label in ((self.leader, "leader"), (self.validator, "validator")):
            t0 = time.process_time()
            prepared = chain.mempool.prepare(raws, parallel=False)
            t1 = time.process_time()
            results = chain.mempool.admit(prepared, chain.head.height + 1)
            t2 = time.process_time()
            refused = [r.error for r in results if r.error is not None]
            if refused:
                raise SystemExit(f"{label} refused {len(refused)}: {refused[0]}")
            if chain is self.leader:  # a validator's pool work counts the same (shown once)
                spent["prepare"] += t1 - t0
                spent["admit"] += t2 - t1
        self.now_ms += 1000
        head = self.leader.head_header
        justify = self.leader.store.block(head.height).qc
        t0 = time.process_time()
        executed = self.leader.build_block(self.leader.head.block_id, head.round + 1, 0, self.now_ms, justify)
        t1 = time.process_time()
        validated = self.validator.validate_block(executed.block)
        t2 = time.process_time()
        qc = self_certify(self.leader, self.key, executed)
        self.validator.commit(validated.block_id, qc)
        t3 = time.process_time()
        self.leader.commit(executed.block_id, qc)
        spent["build_block"] += t1 - t0
        spent["validate_block"] += t2 - t1
        spent["commit"] += t3 - t2
        return len(executed.txs)


def network_homes(root: Path, accounts: int, wallets: bool) -> tuple[Path, list[KeyPair]]:
    keys = make_keys(accounts)
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100)
    if not wallets:
        homes = init_network(root / "net", 4, extra_allocations=[(k.address, 10**12) for k in keys],
                             params=params)
        return homes[0].home, keys
    identities = [IdentitySpec(k.address, ("bank-a", "bank-b")[i % 2], "wallet", WALLET_TIER,
                               pii_commitment(b"bench-salt-%08d" % i, b"phone:%d" % i))
                  for i, k in enumerate(keys)]
    homes = init_network(root / "net", 4, extra_allocations=[(k.address, WALLET_FUNDS) for k in keys],
                         params=params, orgs=WALLET_ORGS, extra_identities=identities)
    return homes[0].home, keys


def regulator_rules(root: Path) -> list[bytes]:
    regulator = load_key_file(root / "net" / "orgs" / "reg" / "admin.key", None)
    calls = [Call("regulator", "set_rule", encode_rule_args(rule, params)) for rule, params in RULES]
    return [sign_tx(regulator, NETWORK_CHAIN_ID, nonce, 100, call) for nonce, call in enumerate(calls)]


def run(wallets: bool, blocks: int, block_txs: int) -> dict[str, float]:
    """Seconds per transaction of each stage over ``blocks`` blocks of ``block_txs`` payments."""
    root = Path(tempfile.mkdtemp(prefix="consortia-node-cost-"))
    try:
        accounts = block_txs * 2
        home, keys = network_homes(root, accounts, wallets)
        pair = Pair(root, home)
        try:
            if wallets:
                pair.block(regulator_rules(root), dict.fromkeys(STAGES, 0.0))
            txs = sign_all(keys, blocks * block_txs, NETWORK_CHAIN_ID)
            spent = dict.fromkeys(STAGES, 0.0)
            done = 0
            for i in range(blocks):
                done += pair.block(txs[i * block_txs:(i + 1) * block_txs], spent)
            return {stage: seconds / done for stage, seconds in spent.items()}
        finally:
            pair.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def best_of(runs: int, measure: Callable[[], dict[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(runs):
        for stage, value in measure().items():
            best[stage] = min(best.get(stage, value), value)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--block-txs", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = {
        "plain transfer": best_of(args.runs, lambda: run(False, args.blocks, args.block_txs)),
        "wallet payment": best_of(args.runs, lambda: run(True, args.blocks, args.block_txs)),
    }
    print(f"{'us per transaction':18s}" + "".join(f"{s:>15s}" for s in STAGES) + f"{'node w/o sigs':>15s}")
    totals = {}
    for label, row in rows.items():
        # a node admits each transaction and either builds or validates its block, and commits it
        totals[label] = row["admit"] + (row["build_block"] + row["validate_block"]) / 2 + row["commit"]
        print(f"{label:18s}" + "".join(f"{row[s] * 1e6:15.1f}" for s in STAGES)
              + f"{totals[label] * 1e6:15.1f}")
    plain, wallet = totals["plain transfer"], totals["wallet payment"]
    print(f"a node's work per wallet payment is {wallet / plain:.2f}x a plain transfer's "
          f"(signature checks aside); plain/wallet = {plain / wallet:.0%}")


if __name__ == "__main__":
    main()
