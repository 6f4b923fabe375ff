"""Templates for ``consortia contract new NAME``: a small working contract, its tests and a
conftest that loads the fixtures Consortia ships (kept as strings so they install with the code).
"""

from __future__ import annotations

import re
from pathlib import Path

from consortia.errors import ConfigError

NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
FILES = ("contract.py", "test_contract.py", "conftest.py")

CONTRACT = '''\
"""{title}: a counter anyone can bump, with a cap its owner sets.

Contract source for Consortia (deployed as text). Only ``consortia_contract`` may be imported.
"""

from consortia_contract import Contract, Map, Value, public, require, view


class {class_name}(Contract):
    owner = Value(bytes)
    cap = Value(int)
    total = Value(int)
    by_caller = Map(bytes, int)

    def init(self, cap: int) -> None:
        require(cap > 0, "cap must be positive")
        self.owner = self.caller
        self.cap = cap

    @public
    def bump(self, amount: int) -> None:
        require(amount > 0, "amount must be positive")
        require(self.total + amount <= self.cap, "the cap would be exceeded")
        self.total += amount
        self.by_caller[self.caller] += amount
        self.emit("Bumped", by=self.caller, amount=amount, total=self.total)

    @public
    def set_cap(self, cap: int) -> None:
        require(self.caller == self.owner, "only the owner may change the cap")
        require(cap >= self.total, "the cap cannot go below the total")
        self.cap = cap

    @view
    def total_of(self, who: bytes) -> int:
        return self.by_caller[who]

    @view
    def status(self) -> dict:
        return {{"total": self.total, "cap": self.cap, "height": self.block.height}}
'''

TEST = '''\
"""Tests of {title}, on an in-process chain (no node): `consortia contract test {name}`.

The fixtures (``local_chain``, ``accounts``, ``deploy_contract``) come from
``consortia.contracts.python.pytest_plugin`` (loaded by ``conftest.py``).
"""

import pytest

from consortia.contracts.python import ContractFailed


@pytest.fixture
def counter(deploy_contract, accounts):
    return deploy_contract("contract.py", 100, sender=accounts.alice)


def test_bump_adds_up(counter, accounts) -> None:
    result = counter.call("bump", 5, sender=accounts.alice)
    counter.call("bump", 7, sender=accounts.bob)
    assert counter.view("status")["total"] == 12
    assert counter.view("total_of", accounts.bob) == 7
    assert result.events[-1].name == "Bumped"
    assert result.event_fields() == {{"amount": 5, "by": accounts.alice, "total": 5}}


def test_the_cap_holds_and_a_failed_call_changes_nothing(counter, accounts, local_chain) -> None:
    counter.call("bump", 60, sender=accounts.alice)
    before = local_chain.snapshot()
    with pytest.raises(ContractFailed, match="the cap would be exceeded"):
        counter.call("bump", 50, sender=accounts.bob)
    assert local_chain.snapshot() == before


def test_only_the_owner_sets_the_cap(counter, accounts) -> None:
    with pytest.raises(ContractFailed, match="only the owner"):
        counter.call("set_cap", 1000, sender=accounts.bob)
    counter.call("set_cap", 1000, sender=accounts.alice)
    assert counter.view("status")["cap"] == 1000
'''

CONFTEST = '''\
"""The contract-testing fixtures that ship with Consortia (``local_chain``, ``accounts``,
``deploy_contract``); see ``consortia.contracts.python.pytest_plugin``."""

from consortia.contracts.python.pytest_plugin import (  # noqa: F401
    accounts,
    deploy_contract,
    local_chain,
)
'''


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part) or "Contract"


def render(name: str) -> dict[str, str]:
    """The scaffold's files for contract ``name``, by file name."""
    values = {"name": name, "title": name.replace("_", " ").capitalize(), "class_name": class_name(name)}
    return {
        "contract.py": CONTRACT.format(**values),
        "test_contract.py": TEST.format(**values),
        "conftest.py": CONFTEST,
    }


def scaffold(name: str, parent: Path) -> Path:
    """Write ``parent/name/`` with the scaffold; refuses to overwrite anything."""
    if NAME.fullmatch(name) is None:
        raise ConfigError(
            f"contract names are lowercase letters, digits and _, starting with a letter; got {name!r}"
        )
    folder = parent / name
    existing = [f for f in FILES if (folder / f).exists()]
    if existing:
        raise ConfigError(f"{folder} already has {', '.join(existing)}; choose another name or --dir")
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in render(name).items():
        (folder / file).write_text(text)
    return folder


def contract_name_for(path: Path) -> str:
    """``counter/contract.py`` deploys as ``counter``; ``token.py`` as ``token``."""
    stem = path.parent.name if path.stem == "contract" else path.stem
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in stem.lower()).strip("_")
    return name if name[:1].isalpha() else f"c_{name}"
