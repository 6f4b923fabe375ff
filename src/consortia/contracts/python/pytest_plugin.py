"""Pytest fixtures for contract authors: an in-process chain, named accounts, one-line deploys.

Load them with ``-p consortia.contracts.python.pytest_plugin`` (what ``consortia contract test``
does), or import them in a ``conftest.py`` (what ``consortia contract new`` writes)::

    def test_bump(deploy_contract, accounts):
        counter = deploy_contract("contract.py", 100, sender=accounts.alice)
        counter.call("bump", 5, sender=accounts.alice)
        assert counter.view("status")["total"] == 5

- ``local_chain``: a fresh :class:`~consortia.contracts.python.testing.LocalChain` per test;
- ``accounts``: stable 20-byte addresses by attribute (``accounts.alice``, ``accounts.bob``, …);
- ``deploy_contract(path, *init_args, sender=..., name=None)``: deploys a source file (relative
  to the test file) and returns a handle with ``call``/``view``/``info``.

Failed calls raise the typed error the chain would put in the receipt (``ContractFailed`` with
the contract's message, ``OutOfSteps``, ...) and leave the state untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consortia.contracts.python.scaffold import contract_name_for
from consortia.contracts.python.testing import LocalChain, LocalContract

Deployer = Callable[..., LocalContract]


class Accounts:
    """``accounts.alice`` is the same 20-byte address in every test (``LocalChain.account``)."""

    def __getattr__(self, label: str) -> bytes:
        if label.startswith("_"):
            raise AttributeError(label)
        return LocalChain.account(label)

    def __getitem__(self, label: str) -> bytes:
        return LocalChain.account(label)


@pytest.fixture
def local_chain() -> LocalChain:
    """A fresh in-memory chain: deploy, call and view with no node."""
    return LocalChain()


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


@pytest.fixture
def deploy_contract(local_chain: LocalChain, accounts: Accounts, request: pytest.FixtureRequest) -> Deployer:
    """``deploy_contract(path, *init_args, sender=accounts.deployer, name=None)``."""
    base = Path(str(request.path)).parent

    def deploy(path: str | Path, *init_args: Any, sender: bytes | None = None,
               name: str | None = None) -> LocalContract:
        source_path = Path(path) if Path(path).is_absolute() else base / path
        source = source_path.read_text(encoding="utf-8")
        return local_chain.deploy(name or contract_name_for(source_path), source, *init_args,
                                  sender=sender if sender is not None else accounts.deployer)

    return deploy
