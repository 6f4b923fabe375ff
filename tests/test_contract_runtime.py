"""Semantics of the Python contract runtime: determinism, steps, views, cross-contract calls,
upgrades, governance hook, and the path through the real executor."""

from __future__ import annotations

import msgspec
import pytest

from consortia.codec import encode
from consortia.contracts.native_currency import NativeCurrency
from consortia.contracts.python import (
    CallTooDeep,
    ContractExists,
    ContractFailed,
    ContractRegistry,
    DeployDenied,
    NotContractOwner,
    OutOfSteps,
    PythonContractHost,
    ReadOnlyViolation,
    contract_info,
)
from consortia.contracts.python.api import address_of
from consortia.contracts.python.errors import NotAView
from consortia.contracts.python.examples import example_source
from consortia.contracts.python.testing import DictState, LocalChain
from consortia.execution.accounts import Account, account_key, encode_account
from consortia.execution.context import BlockContext
from consortia.execution.executor import Executor
from consortia.execution.tx_decode import CheckedTx
from consortia.types.transaction import Call, TxBody

ALICE, BOB = LocalChain.account("alice"), LocalChain.account("bob")
HEADER = "from consortia_contract import Contract, Map, Value, public, view, require, fail\n"

VAULT = HEADER + '''
class Vault(Contract):
    stored = Map(bytes, int)
    log = Value(list)

    @public
    def put(self, amount: int) -> None:
        self.stored[self.caller] += amount
        self.log = self.log + [amount]
        self.emit("Put", amount=amount)

    @public
    def put_then_fail(self, amount: int) -> None:
        self.put(amount)
        fail("vault refuses")

    @public
    def spin(self) -> None:
        while True:
            pass

    @view
    def held(self, owner: bytes) -> int:
        return self.stored[owner]

    @view
    def sneaky(self) -> None:
        self.stored[self.caller] = 99

    @view
    def history(self) -> list:
        return self.log
'''

CALLER = HEADER + '''
class Caller(Contract):
    outcome = Value(str)

    @public
    def direct(self, amount: int) -> None:
        self.call("vault", "put", amount)
        self.outcome = "called"

    @public
    def guarded(self, amount: int) -> None:
        ok, result = self.try_call("vault", "put_then_fail", amount)
        self.outcome = f"{ok}: {result}"

    @public
    def guarded_spin(self) -> None:
        self.try_call("vault", "spin")

    @public
    def recurse(self) -> None:
        self.call("caller", "recurse")

    @view
    def peek(self) -> int:
        return self.call("vault", "held", self.address)

    @view
    def sneak(self) -> None:
        self.call("vault", "put", 1)
'''


@pytest.fixture
def chain() -> LocalChain:
    c = LocalChain()
    c.deploy("vault", VAULT, sender=ALICE)
    c.deploy("caller", CALLER, sender=ALICE)
    return c


def test_same_calls_give_byte_identical_writes() -> None:
    def run() -> tuple[dict[bytes, bytes], list[int]]:
        c = LocalChain()
        token = c.deploy("token", example_source("token"), "TOK", 10_000, sender=ALICE)
        steps = [token.call("transfer", LocalChain.account(f"u{i}"), i + 1, sender=ALICE).steps
                 for i in range(20)]
        return c.state, steps

    first, second = run(), run()
    assert first == second
    # a second host, with nothing cached, on the first run's state agrees too
    assert first[1] == second[1]


def test_steps_are_reported_and_grow_with_work(chain: LocalChain) -> None:
    small = chain.call("vault", "put", 1, sender=ALICE).steps
    chain.call("vault", "put", 1, sender=ALICE)
    assert small > 0
    loop = HEADER + '''
class Loop(Contract):
    @public
    def go(self, n: int) -> None:
        total = 0
        for i in range(n):
            total += i
'''
    chain.deploy("loop", loop, sender=ALICE)
    many = chain.call("loop", "go", 1000, sender=ALICE).steps
    assert many > chain.call("loop", "go", 10, sender=ALICE).steps + 900


def test_out_of_steps_reports_the_budget() -> None:
    c = LocalChain(budget=10_000)
    c.deploy("vault", VAULT, sender=ALICE)
    with pytest.raises(OutOfSteps) as info:
        c.call("vault", "spin", sender=ALICE)
    assert info.value.details["steps"] == 10_000


def test_views_cannot_write(chain: LocalChain) -> None:
    with pytest.raises(ReadOnlyViolation):
        chain.view("vault", "sneaky")
    with pytest.raises(ReadOnlyViolation):
        chain.call("vault", "sneaky", sender=ALICE)  # a view stays read-only inside a transaction
    with pytest.raises(ReadOnlyViolation):
        chain.view("caller", "sneak")  # and so does everything it calls


def test_a_query_of_a_public_method_says_it_is_not_a_view(chain: LocalChain) -> None:
    before = chain.snapshot()
    with pytest.raises(NotAView, match=r"vault\.put is a public method, not a view") as info:
        chain.view("vault", "put", 5)
    assert info.value.code == "not_a_view" and "consortia call vault put" in info.value.message
    assert chain.snapshot() == before


def test_cross_contract_call_and_caller_identity(chain: LocalChain) -> None:
    chain.call("caller", "direct", 7, sender=BOB)
    assert chain.view("vault", "held", address_of("caller")) == 7
    assert chain.view("vault", "held", BOB) == 0
    assert chain.view("caller", "peek") == 7


def test_failed_callee_rolls_back_only_its_own_writes(chain: LocalChain) -> None:
    result = chain.call("caller", "guarded", 5, sender=BOB)
    assert chain.view("vault", "held", address_of("caller")) == 0
    assert chain.view("vault", "history") == []
    assert [e.name for e in result.events] == []
    assert chain.host.run_view(DictState(chain.state), chain.block(), "caller", "peek", []) == 0
    state = {k: v for k, v in chain.state.items() if k.startswith(b"c/s/caller/")}
    assert msgspec.msgpack.decode(next(iter(state.values()))) == "False: vault refuses"


def test_failing_callee_fails_the_whole_call(chain: LocalChain) -> None:
    before = chain.snapshot()
    with pytest.raises(ContractFailed, match="vault refuses"):
        chain.call("vault", "put_then_fail", 3, sender=BOB)
    assert chain.snapshot() == before


def test_try_call_never_swallows_out_of_steps() -> None:
    c = LocalChain(budget=20_000)
    c.deploy("vault", VAULT, sender=ALICE)
    c.deploy("caller", CALLER, sender=ALICE)
    before = c.snapshot()
    with pytest.raises(OutOfSteps):
        c.call("caller", "guarded_spin", sender=ALICE)
    assert c.snapshot() == before


def test_unbounded_reentrancy_is_stopped(chain: LocalChain) -> None:
    with pytest.raises(CallTooDeep):
        chain.call("caller", "recurse", sender=ALICE)


def test_upgrade_keeps_state_and_versions() -> None:
    c = LocalChain()
    c.deploy("vault", VAULT, sender=ALICE)
    c.call("vault", "put", 11, sender=ALICE)
    v2 = VAULT.replace("@view\n    def held", "@view\n    def doubled(self, owner: bytes) -> int:\n"
                       "        return 2 * self.stored[owner]\n\n    @view\n    def held")
    with pytest.raises(NotContractOwner):
        c.upgrade("vault", v2, sender=BOB)
    c.upgrade("vault", v2, sender=ALICE)
    assert c.view("vault", "doubled", ALICE) == 22
    info = c.info("vault")
    assert info is not None and info.version == 2 and len(info.versions) == 2
    assert info.versions[1] == info.code_hash != info.versions[0]
    assert info.owner == ALICE
    assert contract_info(DictState(c.state), "nope") is None


def test_deploy_rules() -> None:
    c = LocalChain()
    c.deploy("vault", VAULT, sender=ALICE)
    with pytest.raises(ContractExists):
        c.deploy("vault", VAULT, sender=BOB)
    with pytest.raises(DeployDenied):
        c.deploy("currency", VAULT, sender=BOB)
    c.registry.may_deploy = lambda ctx, name, code_hash: ctx.sender == ALICE
    with pytest.raises(DeployDenied):
        c.deploy("other", VAULT, sender=BOB)
    c.deploy("other", VAULT, sender=ALICE)


def test_block_context_and_no_wall_clock() -> None:
    source = HEADER + '''
class Clock(Contract):
    seen = Value(list)

    @public
    def tick(self) -> None:
        self.seen = [self.block.height, self.block.timestamp_ms, self.origin == self.caller]
'''
    c = LocalChain()
    c.deploy("clock", source, sender=ALICE)
    c.advance(3, ms_per_block=500)
    c.call("clock", "tick", sender=ALICE)
    value = next(v for k, v in c.state.items() if k.startswith(b"c/s/clock/"))
    assert msgspec.msgpack.decode(value) == [4, 1_700_000_001_500, True]


def make_tx(sender: bytes, nonce: int, call: Call) -> CheckedTx:
    body = TxBody("exec-chain", bytes(32), nonce, 10**6, call)
    return CheckedTx(raw=b"", hash=encode([sender, nonce]), body=body, sender=sender,
                     signed_message=b"", signature=b"")


def test_through_the_real_executor() -> None:
    host = PythonContractHost(budget=50_000)
    registry = ContractRegistry(host)
    state: dict[bytes, bytes] = {account_key(ALICE): encode_account(Account(0, 10**6))}
    executor = Executor({"currency": NativeCurrency(), "contracts": registry, "vault": host.bound("vault")})
    block = BlockContext("exec-chain", 1, 1_000, 0)
    txs = [
        make_tx(ALICE, 0, Call("contracts", "deploy", encode(["vault", VAULT]))),
        make_tx(ALICE, 1, Call("vault", "put", encode([5]))),
        make_tx(ALICE, 2, Call("vault", "spin", encode([]))),
    ]
    out = executor.execute(DictState(state), block, txs)
    statuses = [r.status for r in out.receipts]
    assert statuses == ["ok", "ok", "out_of_steps"]
    assert out.receipts[2].steps == 50_000 and out.receipts[1].steps > 0
    state.update({k: v for k, v in out.writes.items() if v is not None})
    assert host.run_view(DictState(state), block, "vault", "held", encode([ALICE])) == 5
    # the failed transaction left nothing but its nonce bump
    spin = make_tx(ALICE, 3, Call("vault", "spin", encode([])))
    failed_only = executor.execute(DictState(state), block, [spin])
    assert list(failed_only.writes) == [account_key(ALICE)]
