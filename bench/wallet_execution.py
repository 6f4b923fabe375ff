"""Execution cost of a wallet payment (every check on) against a plain transfer, in process.

What the wallet sweep of ``bench/network.py --wallets`` is limited by: each round waits for the
leader to execute its block and then for the validators to execute it (execute-before-vote), so
the executor's cost per payment is on the consensus critical path twice. This prints, per
transaction, the validators' ``Executor.execute``, the leader's ``Executor.propose`` and
admission's policy checks for 400 tier-2 wallet payments with the regulator's tier limits and all
three alert rules on, beside the plain open-chain transfer (best of 25 runs each).

    python bench/wallet_execution.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from consortia.contracts.native_currency import NativeCurrency, encode_transfer_args
from consortia.contracts.permissioned.harness import consortium
from consortia.contracts.permissioned.regulator import encode_limits_args, encode_rule_args
from consortia.execution.executor import Executor
from consortia.execution.state_view import MemoReader
from consortia.execution.tx_policy import TxPolicy

PAYMENTS = 400
RULES = [("large_amount", [1_000_000]), ("structuring", [1_000_000, 1_000, 3, 100]),
         ("velocity", [10_000, 10**9, 100])]


def best_us_per_tx(run: Callable[[], object], reps: int = 25) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / PAYMENTS * 1e6


def main() -> None:
    net = consortium()
    h = net.harness
    wallets = [net.member("bank-a", f"w{i}", tier=2) for i in range(PAYMENTS)]
    for w in wallets:
        net.fund(w.address, 10**7)
    regulator = net.admins["reg"].address
    for rule, params in RULES:
        assert h.call(regulator, "regulator", "set_rule", encode_rule_args(rule, params)).ok
    assert h.call(regulator, "regulator", "set_limits",
                  encode_limits_args(2, 5_000_000, 10_000_000, 50_000_000)).ok
    txs = [h.transaction(w.address, "currency", "transfer",
                         encode_transfer_args(wallets[(i + 1) % PAYMENTS].address, 1))
           for i, w in enumerate(wallets)]
    block = h.block()
    plain = Executor({"currency": NativeCurrency()})
    policy = TxPolicy()

    def admit() -> None:
        memo = MemoReader(h.state)
        for tx in txs:
            policy.admit(memo, tx.sender, tx.body.call, block.height)

    ex = h.executor
    figures = {
        "wallet payment, validators' execute": best_us_per_tx(lambda: ex.execute(h.state, block, txs)),
        "wallet payment, leader's propose": best_us_per_tx(lambda: ex.propose(h.state, block, txs)),
        "plain transfer, execute (open chain)": best_us_per_tx(lambda: plain.execute(h.state, block, txs)),
        "wallet payment, admission checks": best_us_per_tx(admit),
    }
    for label, value in figures.items():
        print(f"{label:40s} {value:6.1f} us per transaction")


if __name__ == "__main__":
    main()
