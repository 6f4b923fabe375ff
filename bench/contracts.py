"""Contract calls per second: the example token's ``transfer`` (a deployed Python contract)
against the native currency transfer, in the same run, through the real ``Executor`` over a
dict-backed state, with many senders. Prints both rates and their ratio.

    python bench/contracts.py [--txs 20000] [--senders 1000] [--block 2000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import time
from collections.abc import Callable

from consortia.codec import encode
from consortia.contracts.native_currency import NativeCurrency, encode_transfer_args
from consortia.contracts.python import ContractRegistry, PythonContractHost
from consortia.contracts.python.examples import example_source
from consortia.execution.accounts import Account, account_key, encode_account
from consortia.execution.context import BlockContext
from consortia.execution.executor import Executor
from consortia.execution.tx_decode import CheckedTx
from consortia.types.transaction import Call, TxBody

CHAIN_ID = "bench-contracts"


class DictState:
    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def apply(self, writes: dict[bytes, bytes | None]) -> None:
        for key, value in writes.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value


def address(i: int) -> bytes:
    return hashlib.sha256(b"bench-sender:%d" % i).digest()[:20]


def checked(sender: bytes, nonce: int, call: Call) -> CheckedTx:
    """A transaction past the stateless checks (signatures are not what is measured here)."""
    body = TxBody(CHAIN_ID, bytes(32), nonce, 10**9, call)
    tx_hash = hashlib.sha256(encode([sender, nonce])).digest()
    return CheckedTx(raw=b"", hash=tx_hash, body=body, sender=sender, signed_message=b"", signature=b"")


def make_txs(
    senders: list[bytes], count: int, first_nonce: int, call_for: Callable[[bytes], Call]
) -> list[CheckedTx]:
    nonces = [first_nonce] * len(senders)
    txs = []
    for i in range(count):
        s = i % len(senders)
        to = senders[(s + 1) % len(senders)]
        txs.append(checked(senders[s], nonces[s], call_for(to)))
        nonces[s] += 1
    return txs


def run_blocks(
    executor: Executor, state: DictState, txs: list[CheckedTx], block_size: int, height: int
) -> tuple[float, int]:
    start = time.perf_counter()
    failed = 0
    for i in range(0, len(txs), block_size):
        block = BlockContext(CHAIN_ID, height, 1_000 * height, 0)
        out = executor.execute(state, block, txs[i:i + block_size])
        failed += sum(1 for r in out.receipts if r.status != "ok")
        state.apply(out.writes)
        height += 1
    return time.perf_counter() - start, failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=1_000)
    parser.add_argument("--block", type=int, default=2_000)
    parser.add_argument("--profile", action="store_true", help="profile the contract path")
    opts = parser.parse_args()

    senders = [address(i) for i in range(opts.senders)]
    state = DictState()
    for s in senders:
        state.data[account_key(s)] = encode_account(Account(0, 10**12))
    host = PythonContractHost()
    registry = ContractRegistry(host)
    executor = Executor({"currency": NativeCurrency(), "contracts": registry, "token": host.bound("token")})

    # set up: deploy the token, then hand every sender a balance (not timed)
    deployer = senders[0]
    setup = [checked(deployer, 0, Call("contracts", "deploy",
                                       encode(["token", example_source("token"), ["TOK", 10**15]])))]
    setup += [checked(deployer, 1 + i, Call("token", "transfer", encode([s, 10**9])))
              for i, s in enumerate(senders[1:])]
    _, failed = run_blocks(executor, state, setup, opts.block, 1)
    assert failed == 0, "setup failed"
    nonce_base = [len(setup)] + [0] * (len(senders) - 1)

    def per_sender_nonce(txs: list[CheckedTx]) -> list[CheckedTx]:
        fixed, next_nonce = [], list(nonce_base)
        index = {s: i for i, s in enumerate(senders)}
        for tx in txs:
            k = index[tx.sender]
            fixed.append(checked(tx.sender, next_nonce[k], tx.body.call))
            next_nonce[k] += 1
        nonce_base[:] = next_nonce
        return fixed

    native_txs = per_sender_nonce(make_txs(senders, opts.txs, 0, lambda to: Call(
        "currency", "transfer", encode_transfer_args(to, 1))))
    contract_txs = per_sender_nonce(make_txs(senders, opts.txs, 0, lambda to: Call(
        "token", "transfer", encode([to, 1]))))

    native_s, native_failed = run_blocks(executor, state, native_txs, opts.block, 100)
    profiler = cProfile.Profile() if opts.profile else None
    if profiler:
        profiler.enable()
    contract_s, contract_failed = run_blocks(executor, state, contract_txs, opts.block, 10_000)
    if profiler:
        profiler.disable()
    native_rate = opts.txs / native_s
    contract_rate = opts.txs / contract_s
    print(json.dumps({
        "txs": opts.txs,
        "senders": opts.senders,
        "block": opts.block,
        "native_transfers_per_s": round(native_rate),
        "contract_transfers_per_s": round(contract_rate),
        "ratio": round(contract_rate / native_rate, 3),
        "native_us_per_tx": round(1e6 / native_rate, 2),
        "contract_us_per_tx": round(1e6 / contract_rate, 2),
        "failed": native_failed + contract_failed,
    }, indent=2))
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
