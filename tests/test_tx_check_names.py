"""Each transaction check has one name that says what it checks (issue 17: two ``check_sender``s,
one for nonce/expiry/account in the executor, one for identity/freeze in the policy)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import msgspec
import pytest

import consortia
from consortia.codec import encode
from consortia.contracts.permissioned import check_sender_identity
from consortia.contracts.permissioned.errors import AccountFrozen, UnknownIdentity
from consortia.contracts.permissioned.harness import consortium, seeded_key
from consortia.errors import FutureNonce, StaleNonce, TxExpired, UnknownSender
from consortia.execution import executor
from consortia.execution.executor import check_inclusion
from consortia.execution.tx_decode import CheckedTx

SRC = Path(consortia.__file__).parent


def _with_nonce(tx: CheckedTx, nonce: int) -> CheckedTx:
    return dataclasses.replace(tx, body=msgspec.structs.replace(tx.body, nonce=nonce))


def test_no_two_modules_define_the_same_check() -> None:
    where: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name == "contracts" and path.parent.parent.parent.name == "apps":
            continue  # contract sources: each is one self-contained module (no shared imports)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check"):
                where.setdefault(node.name, []).append(path.relative_to(SRC).as_posix())
    assert {name: files for name, files in where.items() if len(files) > 1} == {}
    assert not hasattr(executor, "check_sender")
    assert where["check_inclusion"] == ["execution/executor.py"]
    assert where["check_sender_identity"] == ["contracts/permissioned/policy.py"]


def test_check_inclusion_is_expiry_account_and_nonce_only() -> None:
    net = consortium()
    h = net.harness
    alice = net.member("bank-a", "alice")
    assert h.call(net.admins["reg"].address, "regulator", "freeze", encode([alice.address])).ok
    with pytest.raises(AccountFrozen):
        check_sender_identity(h.get, alice.address, h.height)
    # frozen, yet includable as far as inclusion goes: identity is the policy's business
    tx = h.transaction(alice.address, "currency", "transfer", b"")
    assert check_inclusion(h.state, tx, h.height).nonce == 0
    with pytest.raises(TxExpired):
        check_inclusion(h.state, tx, h.height + 1)
    with pytest.raises(StaleNonce):
        check_inclusion(h.state, _with_nonce(tx, -1), h.height)
    with pytest.raises(FutureNonce):
        check_inclusion(h.state, _with_nonce(tx, 1), h.height)
    stranger = seeded_key("stranger")
    with pytest.raises(UnknownSender):
        check_inclusion(h.state, h.transaction(stranger.address, "currency", "transfer", b""), h.height)


def test_check_sender_identity_is_identity_and_freeze_only() -> None:
    net = consortium()
    h = net.harness
    stranger = seeded_key("stranger")
    net.fund(stranger.address, 10)  # an account with a good nonce, but no identity
    assert check_inclusion(h.state, h.transaction(stranger.address, "c", "m", b""), h.height)
    with pytest.raises(UnknownIdentity):
        check_sender_identity(h.get, stranger.address, h.height)
    check_sender_identity(h.get, net.admins["cb"].address, h.height)
