"""The example token contract on the local test chain: the author's-eye view."""

from __future__ import annotations

import pytest

from consortia.contracts.python import BadArguments, ContractFailed, NoSuchMethod
from consortia.contracts.python.examples import example_source
from consortia.contracts.python.testing import LocalChain, LocalContract

ALICE, BOB, CAROL = (LocalChain.account(n) for n in ("alice", "bob", "carol"))


@pytest.fixture
def chain() -> LocalChain:
    return LocalChain()


@pytest.fixture
def token(chain: LocalChain) -> LocalContract:
    return chain.deploy("token", example_source("token"), "TOK", 1_000, sender=ALICE)


def test_deployer_gets_the_supply(token: LocalContract) -> None:
    assert token.view("balance_of", ALICE) == 1_000
    assert token.view("balance_of", BOB) == 0


def test_transfer_moves_balance_and_emits(token: LocalContract) -> None:
    result = token.call("transfer", BOB, 250, sender=ALICE)
    assert token.view("balance_of", ALICE) == 750
    assert token.view("balance_of", BOB) == 250
    assert result.events[-1].name == "Transfer"
    assert result.event_fields() == {"amount": 250, "sender": ALICE, "to": BOB}
    assert result.steps > 0


def test_overdraft_fails_with_the_contracts_message(chain: LocalChain, token: LocalContract) -> None:
    before = chain.snapshot()
    with pytest.raises(ContractFailed, match="insufficient balance"):
        token.call("transfer", ALICE, 1, sender=BOB)
    assert chain.snapshot() == before


def test_allowances(token: LocalContract) -> None:
    token.call("approve", BOB, 100, sender=ALICE)
    assert token.view("allowance", ALICE, BOB) == 100
    token.call("transfer_from", ALICE, CAROL, 60, sender=BOB)
    assert token.view("allowance", ALICE, BOB) == 40
    assert token.view("balance_of", CAROL) == 60
    with pytest.raises(ContractFailed, match="allowance exceeded"):
        token.call("transfer_from", ALICE, CAROL, 41, sender=BOB)


def test_arguments_are_type_checked(token: LocalContract) -> None:
    with pytest.raises(BadArguments, match="'to' must be bytes"):
        token.call("transfer", "bob", 1, sender=ALICE)
    with pytest.raises(BadArguments, match="takes 2 argument"):
        token.call("transfer", BOB, sender=ALICE)


def test_helpers_and_init_are_not_callable(token: LocalContract) -> None:
    with pytest.raises(NoSuchMethod):
        token.call("move", ALICE, BOB, 1, sender=ALICE)
    with pytest.raises(NoSuchMethod):
        token.call("init", "X", 5, sender=ALICE)
