"""One test suite, two implementations: the native currency and the same rules as a contract.

The native currency is a hot-path implementation; issue 5 allows it only with the semantics of
the contract version, shown by running the same cases (and a randomised differential test)
against both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.codec import encode
from consortia.contracts.native_currency import NativeCurrency
from consortia.contracts.python.examples import example_source
from consortia.contracts.python.testing import DictState, LocalChain
from consortia.errors import ConsortiaError
from consortia.execution.accounts import Account, account_key, decode_account, encode_account
from consortia.execution.context import BlockContext, CallContext, TxState

MAX = 2**64 - 1
PEOPLE = [LocalChain.account(name) for name in ("ann", "ben", "cat", "dan")]


class Currency(Protocol):
    def transfer(self, sender: bytes, to: bytes, amount: int) -> str: ...  # "ok" / reason

    def balance(self, who: bytes) -> int: ...


# Refusal reasons, named the same for both: the native error code and the contract's message.
REASONS = {
    "invalid_call": "invalid",
    "insufficient_balance": "insufficient",
    "balance_overflow": "overflow",
}


def contract_reason(message: str) -> str:
    if "insufficient" in message:
        return "insufficient"
    if "exceed" in message:
        return "overflow"
    return "invalid"


class Native:
    def __init__(self, balances: dict[bytes, int]) -> None:
        self.state = {account_key(a): encode_account(Account(0, b)) for a, b in balances.items()}

    def transfer(self, sender: bytes, to: bytes, amount: int) -> str:
        ctx = CallContext(sender, b"\0" * 32, BlockContext("c", 1, 1, 0), TxState(DictState(self.state)))
        try:
            NativeCurrency().call(ctx, "transfer", encode([to, amount]))
        except ConsortiaError as exc:
            return REASONS[exc.code]
        for key, value in ctx.state.writes.items():
            assert value is not None
            self.state[key] = value
        return "ok"

    def balance(self, who: bytes) -> int:
        raw = self.state.get(account_key(who))
        return decode_account(raw).balance if raw else 0


class Contracted:
    def __init__(self, balances: dict[bytes, int]) -> None:
        self.chain = LocalChain()
        holders = list(balances)
        self.token = self.chain.deploy(
            "coin", example_source("currency"), holders, [balances[h] for h in holders],
            sender=PEOPLE[0],
        )

    def transfer(self, sender: bytes, to: bytes, amount: int) -> str:
        try:
            self.token.call("transfer", to, amount, sender=sender)
        except ConsortiaError as exc:
            return contract_reason(exc.message)
        return "ok"

    def balance(self, who: bytes) -> int:
        return int(self.token.view("balance_of", who))


@pytest.fixture(params=[Native, Contracted], ids=["native", "contract"])
def make(request: pytest.FixtureRequest) -> Iterator[type]:
    yield request.param


def test_transfer_moves_value(make: type) -> None:
    cur = make({PEOPLE[0]: 100})
    assert cur.transfer(PEOPLE[0], PEOPLE[1], 30) == "ok"
    assert (cur.balance(PEOPLE[0]), cur.balance(PEOPLE[1])) == (70, 30)


def test_self_transfer_changes_nothing(make: type) -> None:
    cur = make({PEOPLE[0]: 100})
    assert cur.transfer(PEOPLE[0], PEOPLE[0], 40) == "ok"
    assert cur.balance(PEOPLE[0]) == 100


@pytest.mark.parametrize(
    ("to", "amount", "reason"),
    [
        (PEOPLE[1], 101, "insufficient"),
        (PEOPLE[1], 0, "invalid"),
        (PEOPLE[1], -5, "invalid"),
        (b"\x01" * 19, 1, "invalid"),
    ],
)
def test_refusals_change_nothing(make: type, to: bytes, amount: int, reason: str) -> None:
    cur = make({PEOPLE[0]: 100})
    assert cur.transfer(PEOPLE[0], to, amount) == reason
    assert cur.balance(PEOPLE[0]) == 100
    assert cur.balance(PEOPLE[1]) == 0


def test_recipient_overflow_is_refused(make: type) -> None:
    cur = make({PEOPLE[0]: 10, PEOPLE[1]: MAX})
    assert cur.transfer(PEOPLE[0], PEOPLE[1], 1) == "overflow"
    assert (cur.balance(PEOPLE[0]), cur.balance(PEOPLE[1])) == (10, MAX)


def test_unknown_sender_has_nothing_to_send(make: type) -> None:
    cur = make({PEOPLE[0]: 10})
    assert cur.transfer(PEOPLE[3], PEOPLE[0], 1) == "insufficient"


transfers = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(-2, 120)), max_size=25
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=4, max_size=4), transfers)
def test_native_and_contract_agree(start: list[int], ops: list[tuple[int, int, int]]) -> None:
    balances = dict(zip(PEOPLE, start, strict=True))
    native, contract = Native(balances), Contracted(balances)
    for sender, to, amount in ops:
        outcome = native.transfer(PEOPLE[sender], PEOPLE[to], amount)
        assert contract.transfer(PEOPLE[sender], PEOPLE[to], amount) == outcome
    assert [native.balance(p) for p in PEOPLE] == [contract.balance(p) for p in PEOPLE]
