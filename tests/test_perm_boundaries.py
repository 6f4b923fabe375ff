"""Permission boundaries one by one, the whole story in one run, and determinism."""

from __future__ import annotations

from consortia.codec import encode
from consortia.contracts.permissioned import alerts, proposal, validator_set_at
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args
from consortia.contracts.permissioned.harness import Consortium, consortium, seeded_key
from consortia.contracts.permissioned.identity import encode_revoke_args
from consortia.types.genesis import ValidatorInfo


def _gov(net: Consortium, who: str | bytes, method: str, args: bytes) -> str:
    sender = net.admins[who].address if isinstance(who, str) else who
    return net.harness.call(sender, "governance", method, args).code


def test_member_cannot_vote() -> None:
    net = consortium()
    alice = net.member("bank-a", "alice")
    assert _gov(net, "cb", "propose", encode_propose_args("remove-org", encode("bank-b"), 50)) == "ok"
    assert _gov(net, alice.address, "vote", encode_vote_args(1, True)) == "not_committee_member"


def test_org_admin_cannot_freeze() -> None:
    net = consortium()
    alice = net.member("bank-a", "alice")
    out = net.harness.call(net.admins["bank-b"].address, "regulator", "freeze", encode([alice.address]))
    assert out.code == "not_regulator"


def test_regulator_cannot_move_money() -> None:
    net = consortium()
    bob = net.member("bank-b", "bob")
    net.fund(net.admins["reg"].address, 10)
    assert net.harness.transfer(net.admins["reg"].address, bob.address, 1).code == "regulator_cannot_transfer"


def test_revoked_cannot_transact() -> None:
    net = consortium()
    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 10)
    revoke = encode_revoke_args(alice.address)
    assert net.harness.call(net.admins["bank-a"].address, "identity", "revoke", revoke).ok
    assert net.harness.transfer(alice.address, bob.address, 1).code == "identity_revoked"
    net.fund(bob.address, 10)
    assert net.harness.transfer(bob.address, alice.address, 1).code == "identity_revoked"  # nor receive


def test_below_threshold_does_not_execute() -> None:
    net = consortium()
    assert _gov(net, "cb", "propose", encode_propose_args("remove-org", encode("bank-b"), 50)) == "ok"
    assert _gov(net, "bank-a", "vote", encode_vote_args(1, True)) == "ok"
    assert proposal(net.harness.get, 1).status == "open"  # type: ignore[union-attr]


def test_expired_cannot_be_voted() -> None:
    net = consortium()
    h = net.harness
    assert _gov(net, "cb", "propose", encode_propose_args("remove-org", encode("bank-b"), h.height)) == "ok"
    h.next_block()
    assert _gov(net, "bank-a", "vote", encode_vote_args(1, True)) == "proposal_expired"


def _story() -> tuple[dict[bytes, bytes], list[list[str]]]:
    """Enrol, transact, breach a limit, structuring alert, freeze/unfreeze, add and remove a
    validator, revoke — returning the final state and every transaction's events."""
    net = consortium()
    h = net.harness
    log: list[list[str]] = []

    def record(code: str, names: list[str]) -> None:
        log.append([code, *names])

    alice, bob = net.member("bank-a", "alice"), net.member("bank-b", "bob")
    net.fund(alice.address, 100_000)
    reg = net.admins["reg"].address
    for method, args in (
        ("set_limits", [1, 10_000, 50_000, None]),
        ("set_rule", ["structuring", [10_000, 1000, 3, 10]]),
    ):
        out = h.call(reg, "regulator", method, encode(args))
        record(out.code, out.event_names())
    for amount in (100, 10_001, 9_500, 9_600, 9_700):
        out = h.transfer(alice.address, bob.address, amount)
        record(out.code, out.event_names())
        h.next_block()
    assert [a.rule for a in alerts(h.get)] == ["structuring"]
    for method in ("freeze", "unfreeze"):
        out = h.call(reg, "regulator", method, encode([alice.address]))
        record(out.code, out.event_names())
        out = h.transfer(alice.address, bob.address, 1)
        record(out.code, out.event_names())
    fifth = ValidatorInfo("v4", seeded_key("validator:4").public_key)
    for pid, (kind, payload) in enumerate(
        (("add-validator", encode(fifth)), ("remove-validator", encode(fifth.public_key))), 1
    ):
        record(_gov(net, "cb", "propose", encode_propose_args(kind, payload, h.height + 10)), [])
        for org in ("bank-a", "bank-b"):
            record(_gov(net, org, "vote", encode_vote_args(pid, True)), [])
        assert proposal(h.get, pid).status == "executed"  # type: ignore[union-attr]
        h.next_block(3)
    assert len(validator_set_at(h.get, h.height - 4, net.validators)) == 5
    assert len(validator_set_at(h.get, h.height, net.validators)) == 4
    out = h.call(net.admins["bank-a"].address, "identity", "revoke", encode_revoke_args(alice.address))
    record(out.code, out.event_names())
    record(h.transfer(alice.address, bob.address, 1).code, [])
    return dict(h.state.data), log


def test_whole_story_and_determinism() -> None:
    state_1, log_1 = _story()
    state_2, log_2 = _story()
    assert state_1 == state_2 and log_1 == log_2
    codes = [entry[0] for entry in log_1]
    assert codes[2:7] == ["ok", "limit_exceeded", "ok", "ok", "ok"]
    assert log_1[6] == ["ok", "Transfer", "Alert"]
    assert codes[7:11] == ["ok", "account_frozen", "ok", "ok"]
    assert codes[-2:] == ["ok", "identity_revoked"]


def test_permissioned_flag() -> None:
    from consortia.contracts.permissioned import permissioned

    assert permissioned(consortium().harness.get)
    empty: dict[bytes, bytes] = {}
    assert not permissioned(empty.get)
