"""The permission layer's harness runs the node's real executor (issue 17).

It used to re-implement ``Executor._run`` without the nonce bump, so no permission test ever ran
the executor: a nonce that never moved, and refusals decided by a copy of the policy order.
"""

from __future__ import annotations

from consortia.contracts.native_currency import encode_transfer_args
from consortia.contracts.permissioned import permissioned_contracts
from consortia.contracts.permissioned.currency import GuardedCurrency
from consortia.contracts.permissioned.harness import consortium, seeded_key
from consortia.contracts.permissioned.identity import encode_revoke_args
from consortia.execution.accounts import account_key, decode_account
from consortia.execution.executor import Executor
from consortia.execution.tx_policy import TxPolicy


def test_the_harness_is_the_real_executor_with_the_permissioned_contracts() -> None:
    h = consortium().harness
    assert type(h.executor) is Executor
    assert isinstance(h.executor.policy, TxPolicy)
    assert set(h.contracts) == set(permissioned_contracts()) == {
        "identity", "governance", "regulator", "currency"
    }
    assert isinstance(h.contracts["currency"], GuardedCurrency)


def test_every_included_call_bumps_the_nonce_ok_or_failed() -> None:
    net = consortium()
    h = net.harness
    alice = net.member("bank-a", "alice")
    bob = net.member("bank-b", "bob")
    net.fund(alice.address, 100)
    assert h.nonce(alice.address) == 0
    assert h.transfer(alice.address, bob.address, 10).ok
    assert h.nonce(alice.address) == 1
    # fails inside the contract: its writes are dropped, the nonce bump stays
    failed = h.transfer(alice.address, bob.address, 1_000)
    assert failed.code == "insufficient_balance"
    assert list(failed.writes) == [account_key(alice.address)]
    assert h.nonce(alice.address) == 2
    assert net.balance(alice.address) == 90 and net.balance(bob.address) == 10
    # the admin's enrolments moved the admin's nonce too
    assert h.nonce(net.admins["bank-a"].address) == 1
    assert h.nonce(net.admins["bank-b"].address) == 1


def test_a_sender_that_cannot_be_in_a_block_changes_nothing() -> None:
    net = consortium()
    h = net.harness
    alice = net.member("bank-a", "alice")
    net.fund(alice.address, 100)
    assert h.call(net.admins["bank-a"].address, "identity", "revoke", encode_revoke_args(alice.address)).ok
    before = dict(h.state.data)
    out = h.transfer(alice.address, net.admins["cb"].address, 1)
    # the leader leaves it out (the policy refuses the sender): no receipt, no nonce bump
    assert out.code == "identity_revoked" and out.writes == {}
    assert h.state.data == before
    # no account at all: the executor's inclusion rule refuses it
    stranger = seeded_key("stranger")
    out = h.call(stranger.address, "currency", "transfer", encode_transfer_args(alice.address, 1))
    assert out.code == "unknown_sender" and out.writes == {}
    assert h.state.data == before


def test_a_tx_alone_in_its_block_matches_a_direct_executor_run() -> None:
    """Same state, same transaction: the harness's outcome is exactly ``Executor.execute``'s."""
    net = consortium()
    h = net.harness
    alice = net.member("bank-a", "alice")
    bob = net.member("bank-b", "bob")
    net.fund(alice.address, 50)
    state_before = dict(h.state.data)
    tx = h.transaction(alice.address, "currency", "transfer", encode_transfer_args(bob.address, 7))
    h.tx_count -= 1  # the harness's call below makes the same transaction again
    direct = Executor(permissioned_contracts(), policy=TxPolicy()).execute(
        type(h.state)(state_before), h.block(), [tx]
    )
    out = h.transfer(alice.address, bob.address, 7)
    assert out.ok and out.writes == direct.writes
    assert out.events == direct.receipts[0].events
    raw = h.get(account_key(alice.address))
    assert raw is not None and decode_account(raw).nonce == 1
