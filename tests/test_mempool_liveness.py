"""A leader never proposes an invalid block, whatever clients sent (issue 8, in process).

Each finding reproduced on real networks is first reproduced here on two chains sharing one
genesis (a leader and a validator), where every step is visible: what the pool holds, what the
leader left out and why, and that the validator accepts the block.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from msgspec.structs import replace
from tests.conftest import CHAIN_ID, ChainFixture, make_chain

from consortia.client.tx_builder import sign_tx
from consortia.codec import encode
from consortia.contracts.native_currency import NAME as CURRENCY
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError
from consortia.execution.executor import InvalidBlock
from consortia.ledger.chain_store import ChainStore
from consortia.limits import MAX_BLOCK_BYTES_CEILING
from consortia.node.chain import Chain, block_bytes
from consortia.node.genesis import genesis_from_json, genesis_to_json
from consortia.node.home_setup import make_genesis
from consortia.node.solo import produce_block, self_certify
from consortia.types.genesis import ChainParams
from consortia.types.transaction import Call


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def twin(fixture: ChainFixture, path: Path) -> Chain:
    """A second validator's chain: same genesis, its own store and pool."""
    return Chain(ChainStore(path), fixture.genesis)  # type: ignore[arg-type]


def build(chain: Chain, parent_id: bytes, round_: int):
    parent = chain.pending(parent_id)
    header = parent.header if parent is not None else chain.head_header
    justify = chain.store.block(chain.head.height).qc
    return chain.build_block(parent_id, round_, 0, max(now_ms(), header.timestamp_ms + 1), justify)


def test_same_nonce_at_two_validators_never_poisons_a_block(test_chain: ChainFixture, tmp_path: Path) -> None:
    a = test_chain.chain
    b = twin(test_chain, tmp_path / "b")
    to1, to2 = test_chain.accounts[1].address, test_chain.accounts[2].address
    tx1 = test_chain.transfer(0, to1, 5, nonce=0)
    tx2 = test_chain.transfer(0, to2, 7, nonce=0)  # same sender, same nonce, other content
    assert a.mempool.admit(a.mempool.prepare([tx1]), 1)[0].error is None
    assert b.mempool.admit(b.mempool.prepare([tx2]), 1)[0].error is None

    first = build(a, a.head.block_id, 1)  # leader A includes tx1
    assert len(first.txs) == 1
    assert b.validate_block(first.block).block_id == first.block_id
    # leader B builds on A's pending block: its own tx2 can no longer be valid there
    second = build(b, first.block_id, 2)
    assert second.txs == []
    a.validate_block(second.block)  # and A accepts B's block
    assert len(b.mempool) == 1  # kept: A's block might still be abandoned
    # once A's block commits, B drops tx2 for good, from memory and from disk
    qc = self_certify(a, test_chain.validator, first)
    b.commit(first.block_id, qc)
    assert len(b.mempool) == 0
    assert b.mempool.dropped_reason(b.mempool.prepare([tx2])[0].hash) == "stale_nonce"  # type: ignore[union-attr]
    assert list(b.store.pool_items()) == []
    b.store.close()


def test_transactions_expiring_before_inclusion_are_left_out_and_dropped(
    test_chain: ChainFixture, tmp_path: Path
) -> None:
    chain = test_chain.chain
    to = test_chain.accounts[1].address
    near = test_chain.transfer(0, to, 1, nonce=0, expiry=1)  # admissible for block 1 only
    later = test_chain.transfer(0, to, 1, nonce=1, expiry=100)  # follows it: can never go alone
    other = test_chain.transfer(1, to, 1, nonce=0, expiry=100)
    assert all(r.error is None for r in test_chain.submit([near, later, other]))
    # pipelining: block 1 (another leader's, without them) is pending when block 2 is built
    first = chain.build_block(
        chain.head.block_id, 1, 0, now_ms(), chain.store.block(0).qc, empty=True
    )
    second = build(chain, first.block_id, 2)
    assert [t.raw for t in second.txs] == [other]
    validator = twin(test_chain, tmp_path / "b")
    validator.validate_block(first.block)
    validator.validate_block(second.block)  # the block is valid: nothing poisoned it
    validator.store.close()
    hashes = [t.hash for t in chain.mempool.prepare([near, later])]  # type: ignore[union-attr]
    assert chain.mempool.dropped_reason(hashes[0]) == "expired"
    assert chain.mempool.dropped_reason(hashes[1]) == "follows_dropped"
    assert len(chain.mempool) == 1  # only `other`, in flight


def test_waiting_transactions_leave_the_pool_when_their_expiry_passes(test_chain: ChainFixture) -> None:
    pool = test_chain.chain.mempool
    to = test_chain.accounts[1].address
    test_chain.submit([test_chain.transfer(0, to, 1, nonce=0, expiry=2)])
    test_chain.submit([test_chain.transfer(1, to, 1, nonce=0, expiry=50)])
    pool.committed([], 1)
    assert len(pool) == 2
    pool.committed([], 2)  # the next block is 3: expiry 2 can never be met
    assert len(pool) == 1 and pool.pending_count(test_chain.accounts[0].address) == 0
    assert len(pool.drain_evicted()) == 1


def test_block_bytes_stay_within_the_limit(tmp_path: Path) -> None:
    params = ChainParams(max_block_bytes=64 * 1024, max_tx_bytes=16 * 1024)
    fixture = make_chain(tmp_path / "data", accounts=3, params=params)
    chain = fixture.chain
    big = [
        sign_tx(fixture.accounts[i % 3], CHAIN_ID, i // 3, 100, Call("blob", "put", b"\x00" * 15_000))
        for i in range(12)
    ]
    assert all(r.error is None for r in fixture.submit(big))
    sizes = []
    while len(chain.mempool):
        executed = produce_block(chain, fixture.validator, now_ms())
        sizes.append(block_bytes(executed.block))
        assert 0 < block_bytes(executed.block) <= params.max_block_bytes
    assert len(sizes) >= 3  # 12 x 15 KB cannot fit fewer blocks of 64 KiB


def test_a_block_over_the_byte_limit_is_invalid(tmp_path: Path) -> None:
    big_params = ChainParams(max_block_bytes=1024 * 1024)
    leader = make_chain(tmp_path / "a", accounts=2, params=big_params)
    txs = [
        sign_tx(leader.accounts[0], CHAIN_ID, i, 100, Call("blob", "put", b"\x00" * 15_000))
        for i in range(8)
    ]
    leader.submit(txs)
    executed = build(leader.chain, leader.chain.head.block_id, 1)
    assert block_bytes(executed.block) > 64 * 1024
    validator = twin(leader, tmp_path / "b")
    validator.params = replace(big_params, max_block_bytes=64 * 1024)  # as governance set it
    with pytest.raises(InvalidBlock, match="limit is 65536"):
        validator.validate_block(executed.block)
    validator.store.close()


def test_limits_that_cannot_fit_a_frame_are_refused_at_genesis() -> None:
    assert ChainParams().problems() == []
    too_big = ChainParams(max_block_bytes=MAX_BLOCK_BYTES_CEILING + 1)
    assert "max_block_bytes" in too_big.problems()[0]
    assert ChainParams(max_tx_bytes=2**20, max_block_bytes=2**19).problems()

    genesis = make_genesis("c", "ed25519", [("v", KeyPair.generate("ed25519"))], [], too_big)
    with pytest.raises(ConfigError, match="max_block_bytes"):
        genesis_from_json(genesis_to_json(genesis))


@pytest.mark.parametrize("amount", [0, -1, -(2**63)])
def test_bad_amounts_are_refused_at_admission(test_chain: ChainFixture, amount: int) -> None:
    key = test_chain.accounts[0]
    args = encode([test_chain.accounts[1].address, amount])
    result = test_chain.submit([sign_tx(key, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", args))])[0]
    assert result.error is not None and result.error.code == "invalid_call"
    assert len(test_chain.chain.mempool) == 0


def test_float_amount_is_refused_at_admission(test_chain: ChainFixture) -> None:
    key = test_chain.accounts[0]
    args = encode([test_chain.accounts[1].address, 1.5])
    result = test_chain.submit([sign_tx(key, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", args))])[0]
    assert result.error is not None and result.error.code == "invalid_call"


def test_expiry_beyond_the_window_is_refused(tmp_path: Path) -> None:
    fixture = make_chain(tmp_path / "data", params=ChainParams(max_expiry_window=10))
    to = fixture.accounts[1].address
    far = fixture.submit([fixture.transfer(0, to, 1, nonce=0, expiry=2**62)])[0]
    assert far.error is not None and far.error.code == "expiry_too_far"
    assert far.error.details["max_expiry"] == 11
    assert fixture.submit([fixture.transfer(0, to, 1, nonce=0, expiry=11)])[0].error is None
    fixture.chain.store.close()


def test_one_sender_cannot_fill_the_pool(tmp_path: Path) -> None:
    fixture = make_chain(tmp_path / "data", params=ChainParams(mempool_max_per_sender=3))
    to = fixture.accounts[1].address
    results = fixture.submit([fixture.transfer(0, to, 1, nonce=n) for n in range(5)])
    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok", "ok", "ok", "sender_pool_full", "sender_pool_full"
    ]
    assert fixture.submit([fixture.transfer(1, to, 1, nonce=0)])[0].error is None
    produce_block(fixture.chain, fixture.validator, now_ms())
    assert fixture.submit([fixture.transfer(0, to, 1, nonce=3)])[0].error is None
    fixture.chain.store.close()


def test_evicted_transactions_do_not_come_back_after_a_restart(test_chain: ChainFixture) -> None:
    chain = test_chain.chain
    to = test_chain.accounts[1].address
    raw = test_chain.transfer(0, to, 1, nonce=0, expiry=1)
    test_chain.submit([raw])
    chain.store.pool_add([(chain.mempool.prepare([raw])[0].hash, raw)])  # type: ignore[union-attr]
    chain.mempool.take(10, 10**9)
    produce_block(chain, test_chain.validator, now_ms())  # height 1 without it (it was in flight)
    chain.abandon_all()
    chain.mempool.release(list(chain.mempool._in_flight.values()))
    assert len(chain.mempool) == 0
    produce_block(chain, test_chain.validator, now_ms())
    assert list(chain.store.pool_items()) == []
    test_chain.reopen()
    assert len(test_chain.chain.mempool) == 0


def test_the_leader_counts_block_bytes_as_validators_do(tmp_path: Path) -> None:
    """Transactions whose raw bytes just fit but whose framing does not: the leader must count
    exactly what validators count (found on a real network: every block refused by 1.9 KB)."""
    limit = 64 * 1024
    fixture = make_chain(tmp_path / "a", accounts=4, params=ChainParams(max_block_bytes=limit))

    def blob(i: int, size: int) -> bytes:
        return sign_tx(fixture.accounts[i], CHAIN_ID, 0, 100, Call("blob", "put", b"\x01" * size))

    overhead = len(blob(0, 1000)) - 1000
    size = limit // 4 - overhead - 4  # four raw transactions fit; four with framing do not
    txs = [blob(i, size) for i in range(4)]
    assert sum(len(t) for t in txs) <= limit < sum(len(t) + 16 for t in txs)
    fixture.submit(txs)
    executed = build(fixture.chain, fixture.chain.head.block_id, 1)
    assert len(executed.txs) == 3 and block_bytes(executed.block) <= limit
    validator = twin(fixture, tmp_path / "b")
    validator.validate_block(executed.block)
    validator.store.close()


def permissioned_chain(path: Path, params: ChainParams | None = None):
    """A chain of four organisations with two enrolled members of bank-a and one of bank-b."""
    from consortia.contracts.permissioned.harness import seeded_key
    from consortia.types.genesis import Allocation, Genesis, ValidatorInfo
    from consortia.types.org_specs import IdentitySpec, OrgSpec

    admins = {name: seeded_key(f"admin:{name}") for name in ("cb", "bank-a", "bank-b", "reg")}
    roles = {"cb": "central-bank", "bank-a": "bank", "bank-b": "bank", "reg": "regulator"}
    members = {label: seeded_key(label) for label in ("ann", "amy", "bob")}
    orgs_of = {"ann": "bank-a", "amy": "bank-a", "bob": "bank-b"}
    validator = seeded_key("validator:0")
    genesis = Genesis(
        chain_id=CHAIN_ID, suite="ed25519", timestamp_ms=now_ms(),
        validators=[ValidatorInfo("v0", validator.public_key)],
        allocations=[Allocation(k.address, 10_000) for k in members.values()],
        params=params or ChainParams(),
        orgs=[OrgSpec(n, roles[n], [k.address]) for n, k in admins.items()],
        identities=[IdentitySpec(k.address, orgs_of[label], "member", 2) for label, k in members.items()],
    )
    return Chain(ChainStore(path), genesis), validator, admins, members


def test_a_sender_frozen_after_admission_leaves_the_pool(tmp_path: Path) -> None:
    from consortia.contracts.permissioned.regulator import encode_address_args

    chain, validator, admins, members = permissioned_chain(tmp_path / "data")
    pool = chain.mempool
    ann, bob = members["ann"], members["bob"]
    txs = [sign_tx(ann, CHAIN_ID, n, 100, Call(CURRENCY, "transfer", encode([bob.address, 5])))
           for n in range(3)]
    assert all(r.error is None for r in pool.admit(pool.prepare(txs), 1))
    freeze_call = Call("regulator", "freeze", encode_address_args(ann.address))
    freeze = sign_tx(admins["reg"], CHAIN_ID, 0, 100, freeze_call)
    # the freeze commits in a block of its own (built while ann's payments were in flight elsewhere)
    taken = pool.take(10, 10**9)
    assert pool.admit(pool.prepare([freeze]), 1)[0].error is None
    block = produce_block(chain, validator, now_ms())
    assert [t.raw for t in block.txs] == [freeze] and block.receipts[0].status == "ok"
    chain.abandon_all()
    pool.release(taken)
    nxt = produce_block(chain, validator, now_ms())
    assert nxt.txs == []  # never a failed receipt for a sender frozen before the block
    assert len(pool) == 0
    assert pool.dropped_reason(taken[0].hash) == "account_frozen"
    assert {pool.dropped_reason(t.hash) for t in taken[1:]} == {"follows_dropped"}
    chain.store.close()


def test_one_organisation_cannot_fill_the_pool(tmp_path: Path) -> None:
    params = ChainParams(mempool_max_txs=100, mempool_org_share_percent=5)
    chain, _, _, members = permissioned_chain(tmp_path / "data", params)
    pool = chain.mempool
    ann, amy, bob = members["ann"], members["amy"], members["bob"]

    def pay(key, nonce: int) -> bytes:
        return sign_tx(key, CHAIN_ID, nonce, 100, Call(CURRENCY, "transfer", encode([bob.address, 1])))

    results = pool.admit(pool.prepare([pay(ann, n) for n in range(3)] + [pay(amy, n) for n in range(3)]), 1)
    codes = [r.error.code if r.error else "ok" for r in results]
    assert codes == ["ok"] * 5 + ["org_pool_full"]  # bank-a's share of 100 is 5
    assert pool.admit(pool.prepare([pay(bob, 0)]), 1)[0].error is None  # bank-b is not affected
    chain.store.close()


def test_a_parameter_change_takes_effect_at_the_same_height_on_every_node(tmp_path: Path) -> None:
    """Governance lowers max_block_txs in block h: block h+1 obeys it on the leader that built h
    and on a validator that has not committed h yet (parameters come from the parent's state)."""
    from consortia.client.permissioned import set_param_payload
    from consortia.codec import decode_any
    from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args

    leader, validator_key, admins, members = permissioned_chain(tmp_path / "a")
    follower = Chain(ChainStore(tmp_path / "b"), leader.genesis)
    nonces: dict[bytes, int] = {}

    def tx(key: KeyPair, call: Call) -> bytes:
        nonce = nonces.get(key.address, 0)
        nonces[key.address] = nonce + 1
        return sign_tx(key, CHAIN_ID, nonce, 100, call)

    def commit_on_both(raws: list[bytes]):
        pool = leader.mempool
        assert all(r.error is None for r in pool.admit(pool.prepare(raws), leader.head.height + 1))
        executed = produce_block(leader, validator_key, now_ms())
        follower.validate_block(executed.block)
        follower.commit(executed.block_id, leader.store.block(executed.header.height).qc)
        return executed

    propose = Call("governance", "propose",
                   encode_propose_args("set-param", set_param_payload("max_block_txs", 2), 1000))
    proposed = commit_on_both([tx(admins["cb"], propose)])
    proposal_id = decode_any(proposed.receipts[0].events[0].data, list)[0]
    commit_on_both([tx(admins["bank-a"], Call("governance", "vote", encode_vote_args(proposal_id, True)))])
    # the deciding vote, in a block that stays pending on both nodes
    last_vote = tx(admins["bank-b"], Call("governance", "vote", encode_vote_args(proposal_id, True)))
    leader.mempool.admit(leader.mempool.prepare([last_vote]), leader.head.height + 1)
    h = build(leader, leader.head.block_id, 10)
    assert h.receipts[0].status == "ok"
    follower.validate_block(h.block)
    bob = members["bob"]
    pays = [tx(members["ann"], Call(CURRENCY, "transfer", encode([bob.address, 1]))) for _ in range(5)]
    leader.mempool.admit(leader.mempool.prepare(pays), leader.head.height + 1)
    assert leader.params.max_block_txs == 5000  # the committed head still has the old value
    child = build(leader, h.block_id, 11)
    assert len(child.txs) == 2
    follower.validate_block(child.block)  # judged by the parent's parameters too
    follower.store.close()
    leader.store.close()


def test_a_freeze_committed_elsewhere_empties_the_pool_of_that_sender(tmp_path: Path) -> None:
    """A validator that never leads still drops a frozen sender's pooled transactions when the
    block with the freeze commits (INTEGRATION.md §3)."""
    from consortia.contracts.permissioned.regulator import encode_address_args

    leader, validator_key, admins, members = permissioned_chain(tmp_path / "a")
    follower = Chain(ChainStore(tmp_path / "b"), leader.genesis)
    ann, bob = members["ann"], members["bob"]
    pays = [sign_tx(ann, CHAIN_ID, n, 100, Call(CURRENCY, "transfer", encode([bob.address, 5])))
            for n in range(2)]
    own = sign_tx(bob, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", encode([ann.address, 1])))
    assert all(r.error is None for r in follower.mempool.admit(follower.mempool.prepare([*pays, own]), 1))
    freeze = sign_tx(admins["reg"], CHAIN_ID, 0, 100,
                     Call("regulator", "freeze", encode_address_args(ann.address)))
    leader.mempool.admit(leader.mempool.prepare([freeze]), 1)
    block = produce_block(leader, validator_key, now_ms())
    follower.validate_block(block.block)
    follower.commit(block.block_id, leader.store.block(1).qc)
    assert follower.mempool.pending_count(ann.address) == 0
    assert follower.mempool.pending_count(bob.address) == 1  # others untouched
    hashes = [t.hash for t in follower.mempool.prepare(pays)]  # type: ignore[union-attr]
    assert [follower.mempool.dropped_reason(h) for h in hashes] == ["account_frozen", "follows_dropped"]
    follower.store.close()
    leader.store.close()


def test_the_expiry_window_binds_the_executor_too(tmp_path: Path) -> None:
    """A block holding a transaction whose expiry lies beyond the window is invalid (a leader
    with other parameters cannot slip one in); a leader leaves such a transaction out."""
    fixture = make_chain(tmp_path / "a")
    raw = fixture.transfer(0, fixture.accounts[1].address, 1, nonce=0, expiry=500)
    fixture.submit([raw])
    executed = build(fixture.chain, fixture.chain.head.block_id, 1)
    assert len(executed.txs) == 1
    validator = twin(fixture, tmp_path / "b")
    pool = validator.mempool
    assert pool.admit(pool.prepare([raw]), 1)[0].error is None  # admitted under the old window
    validator.params = replace(validator.params, max_expiry_window=10)  # governance lowers it
    with pytest.raises(InvalidBlock, match="window of 10"):
        validator.validate_block(executed.block)
    built = build(validator, validator.head.block_id, 1)  # as a leader: left out, dropped
    assert built.txs == []
    assert pool.dropped_reason(executed.txs[0].hash) == "expiry_too_far"
    validator.store.close()


@pytest.mark.parametrize("name", list(ChainParams.__struct_fields__))
def test_every_parameter_is_read_from_governance_state(tmp_path: Path, name: str) -> None:
    """Each chain parameter set by governance is what the chain, its pool and the next block's
    checks use — from the block that decided it on, before it is even committed."""
    from consortia.client.permissioned import set_param_payload
    from consortia.codec import decode_any
    from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args

    chain, validator_key, admins, _ = permissioned_chain(tmp_path / "a")
    old = getattr(chain.params, name)
    new = 60 if name == "mempool_org_share_percent" else old + 1
    nonces: dict[bytes, int] = {}

    def gov(admin: str, call: Call) -> None:
        key = admins[admin]
        nonce = nonces.get(key.address, 0)
        nonces[key.address] = nonce + 1
        pool = chain.mempool
        result = pool.admit(pool.prepare([sign_tx(key, CHAIN_ID, nonce, 100, call)]), chain.head.height + 1)
        assert result[0].error is None, result[0].error

    gov("cb", Call("governance", "propose",
                   encode_propose_args("set-param", set_param_payload(name, new), 1000)))
    proposed = produce_block(chain, validator_key, now_ms())
    proposal_id = decode_any(proposed.receipts[0].events[0].data, list)[0]
    gov("bank-a", Call("governance", "vote", encode_vote_args(proposal_id, True)))
    produce_block(chain, validator_key, now_ms())
    gov("bank-b", Call("governance", "vote", encode_vote_args(proposal_id, True)))
    decided = build(chain, chain.head.block_id, 10)  # pending: not committed yet
    with chain.store.snapshot() as snapshot:
        assert getattr(chain._params_on(chain._reader(snapshot, decided)), name) == new
    assert getattr(chain.params, name) == old
    chain.commit(decided.block_id, self_certify(chain, validator_key, decided))
    assert getattr(chain.params, name) == new
    assert getattr(chain.mempool.params, name) == new
    chain.store.close()


def test_the_expiry_index_stays_within_a_multiple_of_the_pool(test_chain: ChainFixture) -> None:
    """Committed transactions leave the expiry index too: a long-running node's memory does not
    grow with every transaction it ever admitted."""
    chain = test_chain.chain
    to = test_chain.accounts[2].address
    for n in range(1200):
        test_chain.submit([test_chain.transfer(n % 2, to, 1, nonce=n // 2, expiry=10_000)])
        if n % 100 == 99:
            produce_block(chain, test_chain.validator, now_ms())
    assert len(chain.mempool._expiries) <= 2 * len(chain.mempool) + 1024
    produce_block(chain, test_chain.validator, now_ms())
    assert len(chain.mempool) == 0


def test_tier_limits_refuse_a_payment_at_admission(tmp_path: Path) -> None:
    """Issue 9: tier limits hold at admission as in the executor, with the figures named; an
    attached value to a contract meets the same rules; nothing is pooled."""
    from consortia.contracts.permissioned.regulator import encode_limits_args

    chain, validator, admins, members = permissioned_chain(tmp_path / "data")
    pool = chain.mempool
    ann, bob = members["ann"], members["bob"]
    limits = sign_tx(admins["reg"], CHAIN_ID, 0, 100, Call("regulator", "set_limits",
                                                           encode_limits_args(2, 500, 800, 10_400)))
    assert pool.admit(pool.prepare([limits]), 1)[0].error is None
    assert produce_block(chain, validator, now_ms()).receipts[0].status == "ok"
    over = sign_tx(ann, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", encode([bob.address, 501])))
    cap = sign_tx(ann, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", encode([bob.address, 401])))
    day = sign_tx(ann, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", encode([bob.address, 900])))
    to_contract = sign_tx(ann, CHAIN_ID, 0, 100, Call("escrow", "create", encode([]), 600))
    results = pool.admit(pool.prepare([over, cap, day, to_contract]), 2)
    errors = [r.error for r in results]
    assert [e.code if e else None for e in errors] == ["limit_exceeded"] * 4
    assert "501" in errors[0].message and "500" in errors[0].message  # type: ignore[union-attr]
    assert "10401" in errors[1].message and "10400" in errors[1].message  # type: ignore[union-attr]
    assert len(pool) == 0
    ok = sign_tx(ann, CHAIN_ID, 0, 100, Call(CURRENCY, "transfer", encode([bob.address, 400])))
    assert pool.admit(pool.prepare([ok]), 2)[0].error is None
    chain.store.close()


def test_a_block_with_scheduled_calls_commits_and_reopens(tmp_path: Path) -> None:
    """Issue 9 regression: a block that runs scheduled contract calls has more receipts than
    transactions; committing it must not halt the node (it did: 'block parts disagree'), the
    scheduled receipts are stored after the transactions' and survive a restart."""
    from consortia.apps.cbdc import sdk
    from consortia.contracts.native_currency import balance_of
    from consortia.contracts.python.api import address_of
    from consortia.ledger.chain_store import ChainStore as Store

    chain, validator, _, members = permissioned_chain(tmp_path / "data")
    pool = chain.mempool
    ann, bob = members["ann"], members["bob"]
    create = sdk.escrow_create(bob.address, bob.address, 3, 700)
    tx = sign_tx(ann, CHAIN_ID, 0, 100, Call(create.contract, create.method, sdk.encode_args(create),
                                               create.value))
    assert pool.admit(pool.prepare([tx]), 1)[0].error is None
    first = produce_block(chain, validator, now_ms())
    assert first.receipts[0].status == "ok", first.receipts[0].error
    heights = []
    for _ in range(4):  # the automatic refund is scheduled at deadline + 1 = 4
        block = produce_block(chain, validator, now_ms())
        heights.append((block.block.header.height, len(block.txs), len(block.receipts)))
    scheduled = [h for h, txs, receipts in heights if receipts > txs]
    assert scheduled == [4], heights
    stored = chain.store.receipts(4)
    assert len(stored) == 1 and stored[0].status == "ok"
    assert [e.name for e in stored[0].events][-1] == "EscrowRefunded"
    assert balance_of(chain.store.state_get, address_of("escrow")) == 0
    assert balance_of(chain.store.state_get, ann.address) == 10_000
    root = chain.store.head().state_root  # type: ignore[union-attr]
    genesis = chain.genesis
    chain.store.close()
    reopened = Chain(Store(tmp_path / "data"), genesis)
    assert reopened.store.head().state_root == root  # type: ignore[union-attr]
    assert len(reopened.store.receipts(4)) == 1
    reopened.store.close()
