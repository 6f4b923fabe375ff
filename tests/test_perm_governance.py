"""Governance: the committee of organisations, thresholds, deadlines and every proposal kind."""

from __future__ import annotations

from consortia.codec import encode
from consortia.contracts.permissioned import (
    identity_record,
    is_approved_code,
    org,
    pending_changes,
    proposal,
    proposal_status,
    proposals,
    read_gov,
    read_params,
    validator_set_at,
)
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args
from consortia.contracts.permissioned.harness import Consortium, Outcome, consortium, seeded_key
from consortia.contracts.permissioned.records import ContractCode, OrgSpec, ParamChange
from consortia.execution.accounts import account_key
from consortia.types.genesis import ChainParams, ValidatorInfo


def propose(net: Consortium, org_name: str, kind: str, payload: bytes, deadline: int = 100) -> Outcome:
    sender = net.admins[org_name].address
    return net.harness.call(sender, "governance", "propose", encode_propose_args(kind, payload, deadline))


def vote(net: Consortium, sender: bytes, proposal_id: int, approve: bool = True) -> Outcome:
    return net.harness.call(sender, "governance", "vote", encode_vote_args(proposal_id, approve))


def test_add_org_happy_path() -> None:
    net = consortium()  # 4 organisations: 3 votes needed
    h = net.harness
    newcomer = seeded_key("admin:hosp")
    spec = OrgSpec("hosp", "hospital", [newcomer.address])
    out = propose(net, "cb", "add-org", encode(spec))
    assert out.ok, out.message
    assert out.event_names() == ["Proposed"]
    p = proposal(h.get, 1)
    assert p is not None and (p.electorate, p.required, p.status) == (4, 3, "open")
    assert [v.org for v in p.votes] == ["cb"]  # proposing approves

    h.next_block()
    assert vote(net, net.admins["bank-a"].address, 1).ok
    assert org(h.get, "hosp") is None
    out = vote(net, net.admins["reg"].address, 1)
    assert out.ok and out.event_names() == ["Voted", "Closed"]
    p = proposal(h.get, 1)
    assert p is not None and p.status == "executed" and p.closed_height == h.height
    assert org(h.get, "hosp").role == "hospital"  # type: ignore[union-attr]
    assert identity_record(h.get, newcomer.address).role == "admin"  # type: ignore[union-attr]
    # the new org's admin can act (has an account for its nonce) and sits on the committee now
    assert net.harness.call(newcomer.address, "governance", "vote", encode_vote_args(1, True)).code == (
        "proposal_closed"
    )
    assert [x.id for x in proposals(h.get)] == [1]


def test_member_cannot_vote_or_propose() -> None:
    net = consortium()
    alice = net.member("bank-a", "alice")
    assert propose(net, "cb", "remove-org", encode("bank-b")).ok
    out = vote(net, alice.address, 1)
    # a failed call keeps only its nonce bump (the executor's rule; the old harness wrote nothing)
    assert out.code == "not_committee_member" and list(out.writes) == [account_key(alice.address)]
    out = net.harness.call(
        alice.address, "governance", "propose", encode_propose_args("remove-org", encode("bank-b"), 50)
    )
    assert out.code == "not_committee_member"


def test_duplicate_vote_one_vote_per_org() -> None:
    net = consortium()
    h = net.harness
    second_admin = net.member("bank-a", "second-admin", role="admin")
    assert propose(net, "bank-a", "remove-org", encode("bank-b")).ok
    # the proposing org already voted, through another of its admins
    assert vote(net, second_admin.address, 1).code == "duplicate_vote"
    assert vote(net, net.admins["cb"].address, 1).ok
    assert vote(net, net.admins["cb"].address, 1).code == "duplicate_vote"
    assert len(proposal(h.get, 1).votes) == 2  # type: ignore[union-attr]


def test_below_threshold_does_not_execute_and_rejection_closes() -> None:
    net = consortium()
    h = net.harness
    assert propose(net, "cb", "remove-org", encode("bank-b")).ok
    assert vote(net, net.admins["bank-a"].address, 1).ok
    p = proposal(h.get, 1)
    assert p is not None and p.status == "open"
    assert org(h.get, "bank-b").status == "active"  # type: ignore[union-attr]
    # 2 rejections out of 4 when 3 are needed: it can no longer pass
    assert vote(net, net.admins["bank-b"].address, 1, False).ok
    out = vote(net, net.admins["reg"].address, 1, False)
    assert out.ok and proposal(h.get, 1).status == "rejected"  # type: ignore[union-attr]
    assert org(h.get, "bank-b").status == "active"  # type: ignore[union-attr]


def test_expired_proposal_cannot_be_voted() -> None:
    net = consortium()
    h = net.harness
    assert propose(net, "cb", "remove-org", encode("bank-b"), deadline=h.height + 3).ok
    h.next_block(3)
    assert vote(net, net.admins["bank-a"].address, 1).ok  # at the deadline: still open
    h.next_block()
    out = vote(net, net.admins["reg"].address, 1)
    assert out.code == "proposal_expired" and list(out.writes) == [account_key(net.admins["reg"].address)]
    p = proposal(h.get, 1)
    assert p is not None and p.status == "open" and proposal_status(p, h.height) == "expired"


def test_proposal_refusals() -> None:
    net = consortium()
    h = net.harness
    assert propose(net, "cb", "coup", b"").code == "invalid_proposal"
    assert propose(net, "cb", "remove-org", encode("nobody")).code == "invalid_proposal"
    assert propose(net, "cb", "remove-org", b"\xff").code == "invalid_proposal"
    assert propose(net, "cb", "remove-org", encode("reg")).code == "invalid_proposal"  # last regulator
    assert propose(net, "cb", "remove-org", encode("bank-b"), deadline=0).code == "invalid_proposal"
    assert propose(net, "cb", "set-param", encode(ParamChange("gov.threshold_num", 1))).code == (
        "invalid_proposal"
    )
    assert vote(net, net.admins["cb"].address, 99).code == "unknown_proposal"
    assert proposals(h.get) == []


def test_remove_org_refuses_its_identities() -> None:
    net = consortium()
    h = net.harness
    alice = net.member("bank-b", "alice")
    assert propose(net, "cb", "remove-org", encode("bank-b")).ok
    assert vote(net, net.admins["bank-a"].address, 1).ok
    assert vote(net, net.admins["reg"].address, 1).ok
    assert org(h.get, "bank-b").status == "removed"  # type: ignore[union-attr]
    assert h.transfer(alice.address, net.admins["cb"].address, 1).code == "org_removed"
    # the electorate shrank to 3: 2 votes now pass a proposal
    assert propose(net, "cb", "set-param", encode(ParamChange("max_block_txs", 777))).ok
    assert proposal(h.get, 2).required == 2  # type: ignore[union-attr]


def test_set_param_overrides_chain_and_gov_params() -> None:
    net = consortium()
    h = net.harness
    for i, change in enumerate((ParamChange("max_block_txs", 1234), ParamChange("gov.validator_delay", 5))):
        assert propose(net, "cb", "set-param", encode(change)).ok
        assert vote(net, net.admins["bank-a"].address, i + 1).ok
        assert vote(net, net.admins["bank-b"].address, i + 1).ok
    params = read_params(h.get, ChainParams())
    assert params.max_block_txs == 1234 and params.max_tx_bytes == ChainParams().max_tx_bytes
    assert read_gov(h.get).validator_delay == 5


def _pass(net: Consortium, kind: str, payload: bytes) -> Outcome:
    out = propose(net, "cb", kind, payload)
    assert out.ok, out.message
    pid = proposals(net.harness.get)[-1].id
    vote(net, net.admins["bank-a"].address, pid)
    return vote(net, net.admins["bank-b"].address, pid)


def test_validator_set_change_takes_effect_two_blocks_later() -> None:
    net = consortium()
    h = net.harness
    genesis_set = net.validators
    h.next_block(9)  # height 10
    fifth = ValidatorInfo("v4", seeded_key("validator:4").public_key)
    out = _pass(net, "add-validator", encode(fifth))
    assert out.ok and proposal(h.get, 1).status == "executed"  # type: ignore[union-attr]
    assert [e.effective_height for e in pending_changes(h.get, 10)] == [12]
    assert validator_set_at(h.get, 11, genesis_set) == genesis_set
    assert validator_set_at(h.get, 12, genesis_set) == [*genesis_set, fifth]
    assert validator_set_at(h.get, 10_000, genesis_set) == [*genesis_set, fifth]
    assert pending_changes(h.get, 12) == []
    # adding it twice is refused; removing it restores the genesis set later
    assert propose(net, "cb", "add-validator", encode(fifth)).code == "invalid_proposal"
    h.next_block(5)  # height 15
    assert _pass(net, "remove-validator", encode(fifth.public_key)).ok
    assert validator_set_at(h.get, 16, genesis_set) == [*genesis_set, fifth]
    assert validator_set_at(h.get, 17, genesis_set) == genesis_set
    bad = ValidatorInfo("v9", b"\x01" * 31)
    assert propose(net, "cb", "add-validator", encode(bad)).code == "invalid_proposal"


def test_deploy_and_upgrade_contract_code() -> None:
    net = consortium()
    h = net.harness
    v1, v2 = b"\x11" * 32, b"\x22" * 32
    assert (
        propose(net, "cb", "upgrade-contract", encode(ContractCode("bills", v1))).code == "invalid_proposal"
    )
    assert _pass(net, "deploy-contract", encode(ContractCode("bills", v1))).ok
    assert is_approved_code(h.get, "bills", v1) and not is_approved_code(h.get, "bills", v2)
    assert propose(net, "cb", "deploy-contract", encode(ContractCode("bills", v2))).code == "invalid_proposal"
    assert _pass(net, "upgrade-contract", encode(ContractCode("bills", v2))).ok
    assert is_approved_code(h.get, "bills", v2) and not is_approved_code(h.get, "bills", v1)
    assert not is_approved_code(h.get, "other", v1)


def test_proposal_failing_at_execution_is_closed_as_failed() -> None:
    net = consortium()
    h = net.harness
    # two proposals to deploy the same name: the second can no longer apply when it passes
    code = encode(ContractCode("notary", b"\x33" * 32))
    assert propose(net, "cb", "deploy-contract", code).ok
    assert propose(net, "bank-a", "deploy-contract", code).ok
    for pid in (1, 2):
        for name in ("bank-b", "reg"):
            assert vote(net, net.admins[name].address, pid).ok
    assert proposal(h.get, 1).status == "executed"  # type: ignore[union-attr]
    p2 = proposal(h.get, 2)
    assert p2 is not None and p2.status == "failed" and "already deployed" in p2.outcome


def test_single_org_dev_chain_executes_at_once() -> None:
    net = consortium((("dev", "bank"),), validators=1)
    out = propose(net, "dev", "set-param", encode(ParamChange("max_block_txs", 10)))
    assert out.ok and proposal(net.harness.get, 1).status == "executed"  # type: ignore[union-attr]


def test_param_floors_and_longer_validator_delay() -> None:
    net = consortium()
    h = net.harness
    for name, value in (("max_tx_bytes", 100), ("gov.validator_delay", 1), ("no_such", 5)):
        out = propose(net, "cb", "set-param", encode(ParamChange(name, value)))
        assert out.code == "invalid_proposal", name
    assert _pass(net, "set-param", encode(ParamChange("gov.validator_delay", 5))).ok
    h.next_block(9)
    fifth = ValidatorInfo("v4", seeded_key("validator:4").public_key)
    assert _pass(net, "add-validator", encode(fifth)).ok
    (change,) = pending_changes(h.get, h.height)
    assert change.effective_height == h.height + 5 and change.decided_height == h.height
    assert len(validator_set_at(h.get, h.height + 4, net.validators)) == 4
