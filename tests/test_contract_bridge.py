"""The contract bridge (decisions/0011): contracts hold, take and pay native money, read
identities, verify signatures and schedule calls — under the same rules as native transfers."""

from __future__ import annotations

import pytest

from consortia.codec import encode
from consortia.contracts.permissioned.harness import Consortium, consortium
from consortia.contracts.permissioned.regulator import (
    encode_address_args,
    encode_asset_args,
    encode_limits_args,
)
from consortia.contracts.python.api import address_of
from consortia.contracts.python.errors import BadArguments, ContractFailed, ReadOnlyViolation
from consortia.contracts.python.scheduler import CURSOR_KEY
from consortia.contracts.python.testing import LocalChain
from consortia.crypto.keys import KeyPair
from consortia.errors import InsufficientBalance

VAULT = '''
from consortia_contract import Contract, Map, Value, public, view, require

class Vault(Contract):
    deposits = Map(bytes, int)
    ran = Value(int)

    @public
    def deposit(self) -> int:
        require(self.value > 0, "attach value to deposit")
        self.deposits[self.caller] += self.value
        return self.value

    @public
    def withdraw(self, amount: int) -> None:
        require(self.deposits[self.caller] >= amount, "not that much deposited")
        self.deposits[self.caller] -= amount
        self.pay(self.caller, amount)

    @view
    def held(self) -> int:
        return self.balance

    @view
    def balance_at(self, who: bytes) -> int:
        return self.native_balance(who)

    @view
    def who(self, address: bytes):
        return self.identity_of(address)

    @view
    def checks(self, public_key: bytes, message: bytes, signature: bytes):
        return [self.verify_signature(public_key, message, signature), self.address_of_key(public_key)]

    @public
    def later(self, height: int, amount: int) -> int:
        return self.schedule(height, "refund", self.caller, amount)

    @public
    def refund(self, to: bytes, amount: int) -> None:
        require(self.caller == self.address, "only the scheduler runs refunds")
        self.ran += 1
        self.pay(to, amount)

    @view
    def pay_in_view(self, to: bytes) -> None:
        self.pay(to, 1)
'''


def test_attached_value_lands_in_the_contract_and_pays_out() -> None:
    chain = LocalChain()
    alice = chain.account("alice")
    chain.fund(alice, 1_000)
    vault = chain.deploy("vault", VAULT, sender=alice)
    vault.call("deposit", sender=alice, value=300)
    assert chain.balance(alice) == 700
    assert chain.balance(vault.address) == 300 == vault.view("held")
    vault.call("withdraw", 100, sender=alice)
    assert chain.balance(alice) == 800 and vault.view("held") == 200
    assert vault.view("balance_at", alice) == 800


def test_a_failed_call_returns_the_attached_value_and_overdrafts_are_refused() -> None:
    chain = LocalChain()
    alice = chain.account("alice")
    chain.fund(alice, 50)
    vault = chain.deploy("vault", VAULT, sender=alice)
    before = chain.snapshot()
    with pytest.raises(InsufficientBalance):
        vault.call("deposit", sender=alice, value=51)
    with pytest.raises(ContractFailed, match="attach value"):
        vault.call("deposit", sender=alice)
    with pytest.raises(ContractFailed, match="not that much"):
        vault.call("withdraw", 1, sender=alice)
    with pytest.raises(ReadOnlyViolation):
        vault.view("pay_in_view", alice)
    with pytest.raises(BadArguments, match="view"):
        vault.call("held", sender=alice, value=5)
    assert chain.snapshot() == before


def test_scheduled_calls_run_at_their_height_as_the_contract() -> None:
    chain = LocalChain()
    alice = chain.account("alice")
    chain.fund(alice, 100)
    vault = chain.deploy("vault", VAULT, sender=alice)
    vault.call("deposit", sender=alice, value=100)
    vault.call("later", chain.height + 3, 40, sender=alice)
    with pytest.raises(BadArguments, match="after the current block"):
        vault.call("later", chain.height, 1, sender=alice)
    with pytest.raises(ContractFailed, match="only the scheduler"):
        vault.call("refund", alice, 1, sender=alice)
    chain.advance(3)
    assert chain.balance(alice) == 0 and not chain.scheduled_receipts
    chain.advance(1)
    assert [r.status for r in chain.scheduled_receipts] == ["ok"]
    assert chain.balance(alice) == 40
    chain.advance(5)
    assert len(chain.scheduled_receipts) == 1  # ran once


def test_signatures_and_key_addresses() -> None:
    chain = LocalChain()
    alice = chain.account("alice")
    vault = chain.deploy("vault", VAULT, sender=alice)
    key = KeyPair.generate("ed25519")
    signature = key.sign(b"hello")
    assert vault.view("checks", key.public_key, b"hello", signature) == [True, key.address]
    assert vault.view("checks", key.public_key, b"hellO", signature)[0] is False
    assert vault.view("who", vault.address)["contract"] == "vault"
    assert vault.view("who", alice) is None


# --- on a permissioned chain: the regulator's rules apply to every movement -------------------


def _net() -> tuple[Consortium, KeyPair, KeyPair]:
    net = consortium()
    net.harness.enable_contracts()
    payer = net.member("bank-a", "payer", tier=2)
    payee = net.member("bank-b", "payee", tier=3)
    net.fund(payer.address, 10_000)
    out = net.harness.deploy(payer.address, "vault", VAULT)
    assert out.ok, out.message
    return net, payer, payee


def test_permissioned_attached_value_and_payouts_meet_the_regulator() -> None:
    net, payer, _ = _net()
    h = net.harness
    reg = net.admins["reg"].address
    assert h.call(payer.address, "vault", "deposit", encode([]), value=1_000).ok
    assert net.balance(address_of("vault")) == 1_000
    # tier limits on the sender of attached value
    assert h.call(reg, "regulator", "set_limits", encode_limits_args(2, 500, None, None)).ok
    out = h.call(payer.address, "vault", "deposit", encode([]), value=600)
    assert out.code == "limit_exceeded" and "600" in out.message
    # the recipient of a payout: a frozen payer account gets nothing
    assert h.call(reg, "regulator", "freeze", encode_address_args(payer.address)).ok
    assert h.call(reg, "regulator", "unfreeze", encode_address_args(payer.address)).ok
    assert h.call(reg, "regulator", "freeze", encode_address_args(address_of("vault"))).ok
    out = h.call(payer.address, "vault", "withdraw", encode([100]))
    assert out.code == "account_frozen"
    assert h.call(reg, "regulator", "unfreeze", encode_address_args(address_of("vault"))).ok
    assert h.call(payer.address, "vault", "withdraw", encode([100])).ok
    assert net.balance(payer.address) == 9_100


def test_an_asset_freeze_of_a_contract_stops_its_state_changes_but_not_its_views() -> None:
    net, payer, _ = _net()
    h = net.harness
    reg = net.admins["reg"].address
    assert h.call(payer.address, "vault", "deposit", encode([]), value=10).ok
    assert h.call(reg, "regulator", "freeze_asset", encode_asset_args("vault")).ok
    before = dict(h.state.data)
    out = h.call(payer.address, "vault", "withdraw", encode([5]))
    assert out.code == "asset_frozen"
    assert {k: v for k, v in h.state.data.items() if not k.startswith(b"a")} == {
        k: v for k, v in before.items() if not k.startswith(b"a")
    }


def test_contracts_see_identities_but_no_personal_data() -> None:
    net, payer, _ = _net()
    host = net.harness.executor.fallback
    assert host is not None
    seen = host.run_view(net.harness.state, net.harness.block(), "vault", "who", [payer.address])  # type: ignore[attr-defined]
    assert seen == {"org": "bank-a", "org_role": "bank", "role": "member", "kyc_tier": 2,
                    "status": "active", "frozen": False}


def test_system_contracts_refuse_attached_value() -> None:
    net, payer, payee = _net()
    out = net.harness.call(payer.address, "currency", "transfer", encode([payee.address, 1]), value=5)
    assert out.code == "invalid_call" and "no attached value" in out.message
    assert net.balance(payer.address) == 10_000


def test_scheduled_calls_on_a_permissioned_chain_run_in_empty_blocks() -> None:
    net, payer, _ = _net()
    h = net.harness
    assert h.call(payer.address, "vault", "deposit", encode([]), value=100).ok
    assert h.call(payer.address, "vault", "later", encode([h.height + 2, 30])).ok
    assert h.state.get(CURSOR_KEY) is not None
    h.next_block(3)
    assert [r.status for r in h.scheduled] == ["ok"]
    assert net.balance(payer.address) == 10_000 - 100 + 30


CODED = '''
from consortia_contract import Contract, public, require, fail

class Coded(Contract):
    @public
    def check(self, n: int) -> None:
        require(n > 0, f"n must be positive, got {n}", "not_positive")
        if n > 10:
            fail(f"n is {n}, above 10", "too_big")

    @public
    def bad_code(self) -> None:
        fail("x", "Not A Code")
'''


def test_contracts_refuse_with_their_own_error_codes() -> None:
    chain = LocalChain()
    alice = chain.account("alice")
    coded = chain.deploy("coded", CODED, sender=alice)
    with pytest.raises(ContractFailed, match="got -1") as info:
        coded.call("check", -1, sender=alice)
    assert info.value.code == "not_positive"
    with pytest.raises(ContractFailed) as info:
        coded.call("check", 11, sender=alice)
    assert info.value.code == "too_big"
    with pytest.raises(ContractFailed, match="an error code is") as info:
        coded.call("bad_code", sender=alice)
    assert info.value.code == "contract_error"


def test_the_regulator_cannot_move_money_by_attaching_it_leader_and_validators_agree() -> None:
    """A regulator identity attaching value to a contract call is refused the same way by the
    leader (which checked the sender when proposing) and by the validators."""
    net, _, _ = _net()
    h = net.harness
    reg = net.admins["reg"].address
    net.fund(reg, 1_000)
    out = h.call(reg, "vault", "deposit", encode([]), value=10)  # propose and execute must agree
    assert out.code == "regulator_cannot_transfer"
    assert net.balance(reg) == 1_000


FUNDER = '''
from consortia_contract import Contract, public

class Funder(Contract):
    @public
    def fund_vault(self, amount: int) -> int:
        return self.call("vault", "deposit", value=amount)

    @public
    def try_fund(self, amount: int):
        return self.try_call("vault", "deposit", value=amount)

    @public
    def into_view(self, amount: int):
        return self.call("vault", "held", value=amount)
'''


def test_a_contract_attaches_its_own_money_to_a_call() -> None:
    """Applications use each other's programmable payments: value on a nested call comes out of
    the calling contract's own account; a failed try_call returns it."""
    chain = LocalChain()
    alice = chain.account("alice")
    vault = chain.deploy("vault", VAULT, sender=alice)
    funder = chain.deploy("funder", FUNDER, sender=alice)
    chain.fund(funder.address, 500)
    funder.call("fund_vault", 200, sender=alice)
    assert chain.balance(funder.address) == 300 and vault.view("held") == 200
    assert vault.view("balance_at", funder.address) == 300
    funder.call("try_fund", 301, sender=alice)  # the callee's failure is caught: nothing moved
    assert chain.balance(funder.address) == 300 and vault.view("held") == 200
    with pytest.raises(BadArguments, match="view"):
        funder.call("into_view", 5, sender=alice)
    with pytest.raises(InsufficientBalance):
        funder.call("fund_vault", 301, sender=alice)
    assert chain.balance(funder.address) == 300 and vault.view("held") == 200
