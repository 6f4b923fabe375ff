"""The monetary base (issue 9): reserves, issue / redeem / fund, supply records, genesis tiers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from consortia.apps.cbdc import sdk
from consortia.apps.genesis import app_records
from consortia.codec import decode, encode
from consortia.contracts.native_currency import balance_of
from consortia.contracts.permissioned import genesis_records, identity_record, keys, limits
from consortia.contracts.permissioned.currency import GuardedCurrency
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args
from consortia.contracts.permissioned.harness import (
    DEFAULT_ORGS,
    Consortium,
    Outcome,
    consortium,
    seeded_key,
)
from consortia.contracts.permissioned.identity import (
    encode_close_wallet_args,
    encode_open_wallet_args,
)
from consortia.contracts.permissioned.limits import DAY_MS
from consortia.contracts.permissioned.monetary import (
    GENESIS,
    encode_fund_args,
    encode_issue_args,
    encode_redeem_args,
    is_reserve,
    reserve_address,
    reserve_owner,
    supply,
)
from consortia.contracts.permissioned.policy import daily_total
from consortia.contracts.permissioned.records import OrgSpec, SupplyTotals, TierLimits
from consortia.contracts.python.api import address_of
from consortia.errors import ConfigError, InvalidCall
from consortia.execution.accounts import MAX_AMOUNT, Account, account_key, decode_account
from consortia.node.genesis import load_genesis
from consortia.node.genesis_state import genesis_writes
from consortia.node.network_setup import init_network
from consortia.types.genesis import Allocation, Genesis, ValidatorInfo
from consortia.types.org_specs import ECNY_TIER_LIMITS, IdentitySpec, TierLimitSpec

ORGS = (*DEFAULT_ORGS, ("ent", "enterprise"))



@pytest.fixture
def net() -> Consortium:
    n = consortium(ORGS)
    n.harness.timestamp_ms = 1000 * DAY_MS
    return n


def admin(net: Consortium, org_name: str) -> bytes:
    return net.admins[org_name].address


def issue(net: Consortium, bank: str, amount: int, sender: bytes | None = None) -> Outcome:
    who = admin(net, "cb") if sender is None else sender
    return net.harness.call(who, "currency", "issue", encode_issue_args(bank, amount))


def redeem(net: Consortium, org_name: str, amount: int, sender: bytes | None = None) -> Outcome:
    who = admin(net, org_name) if sender is None else sender
    return net.harness.call(who, "currency", "redeem", encode_redeem_args(amount))


def fund(net: Consortium, org_name: str, to: bytes, amount: int, sender: bytes | None = None) -> Outcome:
    who = admin(net, org_name) if sender is None else sender
    return net.harness.call(who, "currency", "fund", encode_fund_args(to, amount))


def reg(net: Consortium, method: str, *args: object) -> Outcome:
    return net.harness.call(admin(net, "reg"), "regulator", method, encode(list(args)))


def refused(net: Consortium, sender: bytes, code: str, action: Callable[[], Outcome]) -> Outcome:
    """Run ``action``; it must fail with ``code`` and change nothing but the sender's nonce."""
    before = dict(net.harness.state.data)
    out = action()
    assert out.code == code, (out.code, out.message)
    after = dict(net.harness.state.data)
    old = decode_account(before.pop(account_key(sender)))
    new = decode_account(after.pop(account_key(sender)))
    assert new == Account(old.nonce + 1, old.balance)
    assert after == before
    assert out.events == []
    return out


def all_balances(net: Consortium) -> int:
    """Sum of every account's balance in the harness state (reserves and wallets included)."""
    return sum(decode_account(v).balance for k, v in net.harness.state.data.items() if k.startswith(b"a")
               and len(k) == len(account_key(b"\0" * 20)))


def check_invariant(net: Consortium) -> None:
    s = supply(net.harness.get)
    assert s.issued - s.redeemed == s.in_circulation == all_balances(net)
    assert sum(t.issued for t in s.by_org.values()) == s.issued
    assert sum(t.redeemed for t in s.by_org.values()) == s.redeemed


# --- reserves ---------------------------------------------------------------------------------------


def test_reserve_address_is_the_documented_derivation() -> None:
    assert reserve_address("bank-a") == hashlib.sha256(b"consortia/reserve\x00bank-a").digest()[:20]
    assert reserve_address("bank-a") != reserve_address("bank-b")
    assert len(reserve_address("x")) == 20


def test_every_org_has_a_reserve_at_genesis(net: Consortium) -> None:
    h = net.harness
    for name, _ in ORGS:
        address = reserve_address(name)
        assert reserve_owner(h.get, address) == name and is_reserve(h.get, address)
        assert h.get(account_key(address)) is not None and balance_of(h.get, address) == 0
        assert identity_record(h.get, address) is None  # a reserve is no one's identity
    assert reserve_owner(h.get, admin(net, "cb")) is None and not is_reserve(h.get, admin(net, "cb"))
    assert supply(h.get).issued == 0 and supply(h.get).by_org == {}


def test_add_org_proposal_opens_a_reserve(net: Consortium) -> None:
    h = net.harness
    newcomer = seeded_key("admin:bank-c")
    payload = encode(OrgSpec("bank-c", "bank", [newcomer.address]))
    assert h.call(admin(net, "cb"), "governance", "propose", encode_propose_args("add-org", payload, 100)).ok
    for voter in ("bank-a", "bank-b", "reg"):
        assert h.call(admin(net, voter), "governance", "vote", encode_vote_args(1, True)).ok
    reserve = reserve_address("bank-c")
    assert reserve_owner(h.get, reserve) == "bank-c"
    assert h.get(account_key(reserve)) == encode(Account(0, 0))
    h.next_block()
    assert issue(net, "bank-c", 70).ok and balance_of(h.get, reserve) == 70


# --- issue ------------------------------------------------------------------------------------------


def test_issue_credits_the_bank_reserve_and_the_supply(net: Consortium) -> None:
    h = net.harness
    out = issue(net, "bank-a", 1_000)
    assert out.ok, out.message
    assert [(e.contract, e.name) for e in out.events] == [("currency", "Issued")]
    assert decode(out.events[0].data, list) == ["bank-a", 1_000, admin(net, "cb")]  # type: ignore[type-arg]
    assert balance_of(h.get, reserve_address("bank-a")) == 1_000
    assert issue(net, "bank-b", 300).ok
    assert issue(net, "bank-a", 5).ok
    s = supply(h.get)
    assert (s.issued, s.redeemed, s.in_circulation) == (1_305, 0, 1_305)
    assert s.by_org == {"bank-a": SupplyTotals(1_005, 0), "bank-b": SupplyTotals(300, 0)}
    check_invariant(net)


def test_issue_refusals_are_typed_and_change_nothing(net: Consortium) -> None:
    h = net.harness
    clerk = net.member("cb", "cb-clerk")
    assert issue(net, "bank-a", 10).ok
    cases: list[tuple[bytes, str, str, int, tuple[str, ...]]] = [
        (admin(net, "bank-a"), "not_issuer", "bank-a", 10, ("'bank-a'", "central-bank")),
        (admin(net, "reg"), "not_issuer", "bank-a", 10, ("'reg'",)),
        (clerk.address, "not_org_admin", "bank-a", 10, ("member",)),
        (admin(net, "cb"), "unknown_bank", "bank-x", 10, ("'bank-x'", "no such organisation")),
        (admin(net, "cb"), "unknown_bank", "ent", 10, ("'ent'", "enterprise")),
        (admin(net, "cb"), "unknown_bank", "cb", 10, ("central-bank",)),
        (admin(net, "cb"), "invalid_call", "bank-a", 0, ("between 1 and",)),
        (admin(net, "cb"), "invalid_call", "", 10, ("1-64",)),
    ]
    for sender, code, bank, amount, words in cases:
        out = refused(net, sender, code, lambda s=sender, b=bank, a=amount: issue(net, b, a, s))
        assert all(w in out.message for w in words), out.message
    assert reg(net, "freeze", reserve_address("bank-b")).ok
    out = refused(net, admin(net, "cb"), "account_frozen", lambda: issue(net, "bank-b", 10))
    assert "'bank-b'" in out.message
    assert supply(h.get).issued == 10
    check_invariant(net)


def test_issue_to_a_removed_bank_is_refused() -> None:
    net = consortium((("cb", "central-bank"), ("bank-a", "bank"), ("reg", "regulator")))
    h = net.harness
    payload = encode("bank-a")
    args = encode_propose_args("remove-org", payload, 100)
    assert h.call(admin(net, "cb"), "governance", "propose", args).ok
    assert h.call(admin(net, "reg"), "governance", "vote", encode_vote_args(1, True)).ok
    out = refused(net, admin(net, "cb"), "unknown_bank", lambda: issue(net, "bank-a", 5))
    assert "removed" in out.message


def test_supply_overflow_is_refused(net: Consortium) -> None:
    assert issue(net, "bank-a", MAX_AMOUNT).ok
    assert redeem(net, "bank-a", MAX_AMOUNT).ok
    out = refused(net, admin(net, "cb"), "supply_overflow", lambda: issue(net, "bank-b", 1))
    assert str(MAX_AMOUNT + 1) in out.message
    check_invariant(net)


# --- redeem -----------------------------------------------------------------------------------------


def test_redeem_burns_from_the_callers_reserve(net: Consortium) -> None:
    h = net.harness
    assert issue(net, "bank-a", 1_000).ok
    out = redeem(net, "bank-a", 400)
    assert out.ok, out.message
    assert out.event_names() == ["Redeemed"]
    assert decode(out.events[0].data, list) == ["bank-a", 400, admin(net, "bank-a")]  # type: ignore[type-arg]
    assert balance_of(h.get, reserve_address("bank-a")) == 600
    s = supply(h.get)
    assert (s.issued, s.redeemed, s.in_circulation) == (1_000, 400, 600)
    assert s.by_org["bank-a"] == SupplyTotals(1_000, 400)
    check_invariant(net)


def test_redeem_refusals(net: Consortium) -> None:
    assert issue(net, "bank-a", 100).ok
    clerk = net.member("bank-a", "a-clerk")
    out = refused(net, admin(net, "bank-a"), "insufficient_balance", lambda: redeem(net, "bank-a", 101))
    assert "holds 100" in out.message and "101" in out.message and "'bank-a'" in out.message
    out = refused(net, admin(net, "cb"), "not_operator_bank", lambda: redeem(net, "cb", 1))
    assert "'cb'" in out.message and "central-bank" in out.message
    refused(net, admin(net, "ent"), "not_operator_bank", lambda: redeem(net, "ent", 1))
    refused(net, clerk.address, "not_org_admin", lambda: redeem(net, "bank-a", 1, clerk.address))
    refused(net, admin(net, "bank-a"), "invalid_call", lambda: redeem(net, "bank-a", 0))
    refused(net, admin(net, "bank-b"), "insufficient_balance", lambda: redeem(net, "bank-b", 1))
    assert reg(net, "freeze", reserve_address("bank-a")).ok
    refused(net, admin(net, "bank-a"), "account_frozen", lambda: redeem(net, "bank-a", 1))
    check_invariant(net)


# --- fund -------------------------------------------------------------------------------------------


def test_fund_moves_from_the_reserve_to_a_member(net: Consortium) -> None:
    h = net.harness
    alice = net.member("bank-a", "alice")
    assert issue(net, "bank-a", 1_000).ok
    out = fund(net, "bank-a", alice.address, 250)
    assert out.ok, out.message
    assert out.event_names() == ["Transfer", "Funded"]
    reserve = reserve_address("bank-a")
    assert decode(out.events[0].data, list) == [reserve, alice.address, 250]  # type: ignore[type-arg]
    assert decode(out.events[1].data, list) == ["bank-a", alice.address, 250]  # type: ignore[type-arg]
    assert balance_of(h.get, reserve) == 750 and net.balance(alice.address) == 250
    # no daily total for the reserve nor for the admin who signed
    assert daily_total(h.get, reserve, h.timestamp_ms) == 0
    assert daily_total(h.get, admin(net, "bank-a"), h.timestamp_ms) == 0
    # another bank's reserve may be funded (interbank), and the central bank funds too
    assert fund(net, "bank-a", reserve_address("bank-b"), 50).ok
    assert balance_of(h.get, reserve_address("bank-b")) == 50
    assert h.transfer(alice.address, reserve_address("bank-b"), 1).code == "ok"
    check_invariant(net)


def test_central_bank_funds_from_its_own_reserve(net: Consortium) -> None:
    h = net.harness
    bob = net.member("bank-b", "bob")
    assert issue(net, "bank-a", 100).ok and fund(net, "bank-a", reserve_address("cb"), 100).ok
    assert fund(net, "cb", bob.address, 60).ok
    assert balance_of(h.get, reserve_address("cb")) == 40 and net.balance(bob.address) == 60
    check_invariant(net)


def test_fund_alert_rules_see_the_reserve_as_payer(net: Consortium) -> None:
    alice = net.member("bank-a", "alice")
    assert reg(net, "set_rule", "large_amount", [500]).ok
    assert issue(net, "bank-a", 1_000).ok
    out = fund(net, "bank-a", alice.address, 600)
    assert out.event_names() == ["Transfer", "Alert", "Funded"]


def test_fund_refusals_are_typed_and_change_nothing(net: Consortium) -> None:
    h = net.harness
    alice = net.member("bank-a", "alice")
    poor = net.member("bank-a", "poor", tier=4)
    gone = net.member("bank-a", "gone")
    clerk = net.member("bank-a", "a-clerk")
    assert h.call(admin(net, "bank-a"), "identity", "revoke", encode([gone.address])).ok
    assert reg(net, "set_limits", 4, None, None, 300).ok
    assert issue(net, "bank-a", 1_000).ok
    a = admin(net, "bank-a")
    stranger = seeded_key("stranger").address
    cases: list[tuple[bytes, str, Callable[[], Outcome], tuple[str, ...]]] = [
        (a, "insufficient_balance", lambda: fund(net, "bank-a", alice.address, 1_001), ("1000", "1001")),
        (a, "unknown_identity", lambda: fund(net, "bank-a", stranger, 1), (stranger.hex(),)),
        (a, "identity_revoked", lambda: fund(net, "bank-a", gone.address, 1), (gone.address.hex(),)),
        (a, "limit_exceeded", lambda: fund(net, "bank-a", poor.address, 301), ("301", "tier 4", "300")),
        (a, "invalid_call", lambda: fund(net, "bank-a", b"\x01" * 19, 1), ("20 bytes",)),
        (a, "invalid_call", lambda: fund(net, "bank-a", alice.address, 0), ("between 1 and",)),
        (admin(net, "ent"), "not_operator_bank", lambda: fund(net, "ent", alice.address, 1), ("'ent'",)),
        (clerk.address, "not_org_admin", lambda: fund(net, "bank-a", alice.address, 1, clerk.address), ()),
        (admin(net, "bank-b"), "insufficient_balance", lambda: fund(net, "bank-b", alice.address, 1), ("0",)),
    ]
    for sender, code, action, words in cases:
        out = refused(net, sender, code, action)
        assert all(w in out.message for w in words), (code, out.message)
    assert fund(net, "bank-a", poor.address, 300).ok  # exactly the cap
    assert reg(net, "freeze", alice.address).ok
    refused(net, a, "account_frozen", lambda: fund(net, "bank-a", alice.address, 1))
    assert reg(net, "unfreeze", alice.address).ok
    assert reg(net, "freeze_asset", "native").ok
    refused(net, a, "asset_frozen", lambda: fund(net, "bank-a", alice.address, 1))
    assert reg(net, "unfreeze_asset", "native").ok
    assert reg(net, "freeze", reserve_address("bank-a")).ok
    out = refused(net, a, "account_frozen", lambda: fund(net, "bank-a", alice.address, 1))
    assert "reserve of 'bank-a'" in out.message
    check_invariant(net)


def test_precheck_validates_shapes_and_spends_nothing_of_the_sender() -> None:
    pre = GuardedCurrency.precheck
    to = b"\x02" * 20
    assert pre("issue", encode_issue_args("bank-a", 5)) == 0
    assert pre("redeem", encode_redeem_args(5)) == 0
    assert pre("fund", encode_fund_args(to, 5)) == 0
    assert pre("transfer", encode([to, 7])) == 7
    bad = [
        ("issue", encode_issue_args("bank-a", 0)),
        ("issue", encode_issue_args("", 1)),
        ("issue", encode_issue_args("x" * 65, 1)),
        ("issue", encode([b"bank-a", 1])),
        ("issue", encode(["bank-a", -1])),
        ("redeem", encode_redeem_args(0)),
        ("redeem", encode([1, 2])),
        ("fund", encode_fund_args(b"\x02" * 21, 1)),
        ("fund", encode_fund_args(to, 0)),
        ("fund", encode([to])),
        ("mint", encode([1])),
    ]
    for method, args in bad:
        with pytest.raises(InvalidCall):
            pre(method, args)


# --- supply over a sequence -------------------------------------------------------------------------


def test_supply_invariant_after_a_sequence(net: Consortium) -> None:
    h = net.harness
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    assert issue(net, "bank-a", 10_000).ok and issue(net, "bank-b", 4_000).ok
    assert fund(net, "bank-a", alice.address, 3_000).ok
    assert fund(net, "bank-b", bob.address, 1_000).ok
    h.next_block()
    assert h.transfer(alice.address, bob.address, 1_200).ok
    assert redeem(net, "bank-a", 6_500).ok
    assert redeem(net, "bank-b", 3_000).ok
    s = supply(h.get)
    assert (s.issued, s.redeemed, s.in_circulation) == (14_000, 9_500, 4_500)
    assert s.by_org == {"bank-a": SupplyTotals(10_000, 6_500), "bank-b": SupplyTotals(4_000, 3_000)}
    assert net.balance(alice.address) + net.balance(bob.address) == 4_000
    check_invariant(net)


# --- genesis ----------------------------------------------------------------------------------------


def _genesis(**overrides: object) -> Genesis:
    cb, bank, reg_admin = (seeded_key(f"g:{n}").address for n in ("cb", "bank", "reg"))
    member = seeded_key("g:member").address
    base = Genesis(
        chain_id="g",
        suite="ed25519",
        timestamp_ms=0,
        validators=[ValidatorInfo("v0", seeded_key("g:v0").public_key)],
        allocations=[
            Allocation(member, 500),
            Allocation(bank, 20),
            Allocation(reserve_address("bank-a"), 1_000),
            Allocation(b"\x09" * 20, 7),
            Allocation(b"\x08" * 20, 0),
        ],
        orgs=[
            OrgSpec("cb", "central-bank", [cb]),
            OrgSpec("bank-a", "bank", [bank]),
            OrgSpec("reg", "regulator", [reg_admin]),
        ],
        identities=[IdentitySpec(member, "bank-a", "member", 1)],
    )
    return Genesis(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **overrides})  # type: ignore[arg-type]


def test_genesis_allocations_count_as_issuance() -> None:
    writes = genesis_writes(_genesis())
    state = {k: v for k, v in writes.items() if v is not None}
    s = supply(state.get)
    assert (s.issued, s.redeemed, s.in_circulation) == (1_527, 0, 1_527)
    assert s.by_org == {"bank-a": SupplyTotals(1_520, 0), GENESIS: SupplyTotals(7, 0)}
    total = sum(decode_account(v).balance for k, v in state.items() if k.startswith(b"a") and len(k) == 21)
    assert total == s.in_circulation
    for name in ("cb", "bank-a", "reg"):  # every reserve has an account record and its reverse record
        assert state.get(account_key(reserve_address(name))) is not None
        assert reserve_owner(state.get, reserve_address(name)) == name
    assert balance_of(state.get, reserve_address("bank-a")) == 1_000
    # no tier limits unless genesis names them
    assert limits(state.get, 4) == TierLimits()


def test_genesis_tier_limits() -> None:
    writes = genesis_writes(_genesis(tier_limits=list(ECNY_TIER_LIMITS)))
    state = {k: v for k, v in writes.items() if v is not None}
    assert state.get(keys.limits(1)) is None  # tier 1: unlimited, so no record
    assert limits(state.get, 1) == TierLimits()
    assert limits(state.get, 2) == TierLimits(5_000_000, 10_000_000, 50_000_000)
    assert limits(state.get, 3) == TierLimits(500_000, 1_000_000, 2_000_000)
    assert limits(state.get, 4) == TierLimits(200_000, 500_000, 1_000_000)
    for bad in (
        [TierLimitSpec(2, 1), TierLimitSpec(2, 2)],
        [TierLimitSpec(256, 1)],
        [TierLimitSpec(2, -1)],
    ):
        with pytest.raises(ConfigError):
            genesis_writes(_genesis(tier_limits=bad))
    with pytest.raises(ConfigError, match="organisations"):
        genesis_writes(_genesis(orgs=[], identities=[], tier_limits=[TierLimitSpec(2, 1)]))


def test_genesis_records_without_allocations_has_an_empty_supply() -> None:
    spec = OrgSpec("bank-a", "bank", [seeded_key("x").address])
    records = genesis_records([spec], suite="ed25519", validators=[ValidatorInfo("v", b"\x01" * 32)])
    assert supply(records.get).issued == 0 and records[keys.SUPPLY] == encode(SupplyTotals())


def test_network_init_writes_the_ecny_tier_table(tmp_path: Path) -> None:
    init_network(tmp_path / "net", 1, base_port=20000, orgs="cb:central-bank,bank-a:bank,reg:regulator")
    genesis = load_genesis(tmp_path / "net" / "genesis.json")
    assert genesis.tier_limits == list(ECNY_TIER_LIMITS)
    assert {i.kyc_tier for i in genesis.identities} == {1}  # the dev members stay unlimited
    state = {k: v for k, v in genesis_writes(genesis).items() if v is not None}
    assert limits(state.get, 1) == TierLimits()
    s = supply(state.get)
    assert s.issued == sum(a.balance for a in genesis.allocations) == s.by_org["bank-a"].issued


# --- random sequences -------------------------------------------------------------------------------

BANKS = ("bank-a", "bank-b")


class MonetaryMachine(RuleBasedStateMachine):
    """Random issue / fund / pay / escrow / redeem / open / close sequences; after every step the
    supply records equal the sum of every balance the test knows (reserves, wallets and the
    escrow contract's account included) — escrows refunded by the chain's scheduled calls too."""

    @initialize()
    def setup(self) -> None:
        self.net = consortium()
        self.net.harness.state.data.update(app_records("ed25519"))  # the applications, as genesis
        self.net.harness.enable_contracts()
        self.escrows = 0
        for tier, per_payment, balance in ((3, 1_500, 6_000), (4, 800, 3_000)):
            assert reg(self.net, "set_limits", tier, per_payment, None, balance).ok
        self.wallets: dict[bytes, str] = {}  # every wallet ever opened -> its bank
        self.open: list[bytes] = []
        self.count = 0

    def _known(self) -> list[bytes]:
        admins = [k.address for k in self.net.admins.values()]
        apps = [address_of(name) for name in ("escrow", "earmark", "payments", "resolve")]
        return [*self.wallets, *(reserve_address(n) for n, _ in DEFAULT_ORGS), *admins, *apps]

    @rule(bank=st.sampled_from(BANKS), amount=st.integers(1, 5_000))
    def issue(self, bank: str, amount: int) -> None:
        assert issue(self.net, bank, amount).ok

    @rule(bank=st.sampled_from(BANKS), amount=st.integers(1, 5_000))
    def redeem(self, bank: str, amount: int) -> None:
        held = balance_of(self.net.harness.get, reserve_address(bank))
        out = redeem(self.net, bank, amount)
        assert out.code == ("ok" if amount <= held else "insufficient_balance"), out.message

    @rule(bank=st.sampled_from(BANKS), tier=st.integers(1, 4))
    def open_wallet(self, bank: str, tier: int) -> None:
        self.count += 1
        address = seeded_key(f"wallet:{self.count}").address
        args = encode_open_wallet_args(address, tier, hashlib.sha256(address).digest())
        assert self.net.harness.call(admin(self.net, bank), "identity", "open_wallet", args).ok
        self.wallets[address] = bank
        self.open.append(address)

    @rule(data=st.data(), amount=st.integers(1, 3_000))
    def fund(self, data: st.DataObject, amount: int) -> None:
        if not self.open:
            return
        to = data.draw(st.sampled_from(self.open))
        bank = data.draw(st.sampled_from(BANKS))
        held = balance_of(self.net.harness.get, reserve_address(bank))
        out = fund(self.net, bank, to, amount)
        assert out.code in ("ok", "insufficient_balance", "limit_exceeded"), out.message
        if out.code == "insufficient_balance":
            assert held < amount
        if out.ok:
            assert held >= amount

    @rule(data=st.data(), amount=st.integers(1, 2_000))
    def pay(self, data: st.DataObject, amount: int) -> None:
        if len(self.open) < 2:
            return
        frm, to = data.draw(st.lists(st.sampled_from(self.open), min_size=2, max_size=2, unique=True))
        out = self.net.harness.transfer(frm, to, amount)
        assert out.code in ("ok", "insufficient_balance", "limit_exceeded"), out.message

    @rule(data=st.data(), amount=st.integers(1, 2_000), blocks=st.integers(1, 3))
    def escrow(self, data: st.DataObject, amount: int, blocks: int) -> None:
        """A wallet puts money in escrow for another; released now or left to the deadline."""
        if len(self.open) < 2:
            return
        frm, to = data.draw(st.lists(st.sampled_from(self.open), min_size=2, max_size=2, unique=True))
        h = self.net.harness
        call = sdk.escrow_create(to, frm, h.height + blocks, amount)
        out = h.call(frm, call.contract, call.method, sdk.encode_args(call), value=call.value)
        assert out.code in ("ok", "insufficient_balance", "limit_exceeded"), out.message
        if out.ok and data.draw(st.booleans()):
            escrow_id = sdk.created_id(out.events, "escrow")
            release = sdk.escrow_release(escrow_id)
            done = h.call(frm, release.contract, release.method, sdk.encode_args(release))
            assert done.code in ("ok", "limit_exceeded"), done.message  # the payee's cap

    @rule(data=st.data())
    def close_wallet(self, data: st.DataObject) -> None:
        if not self.open:
            return
        address = data.draw(st.sampled_from(self.open))
        bank = self.wallets[address]
        held = balance_of(self.net.harness.get, address)
        before = balance_of(self.net.harness.get, reserve_address(bank))
        out = self.net.harness.call(admin(self.net, bank), "identity", "close_wallet",
                                    encode_close_wallet_args(address))
        assert out.ok, out.message
        assert balance_of(self.net.harness.get, reserve_address(bank)) == before + held
        self.open.remove(address)

    @rule()
    def next_block(self) -> None:
        self.net.harness.next_block()

    @invariant()
    def supply_equals_balances(self) -> None:
        get = self.net.harness.get
        known = sum(balance_of(get, a) for a in self._known())
        s = supply(get)
        assert s.issued - s.redeemed == s.in_circulation == known == all_balances(self.net)


TestMonetaryMachine = MonetaryMachine.TestCase
TestMonetaryMachine.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
