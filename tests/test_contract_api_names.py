"""The deploy-time checker allows exactly the names the contract runtime provides (issue 17: the
checker kept its own copy of the API's name list)."""

from __future__ import annotations

import pytest

from consortia.contracts.python import ContractRejected, api
from consortia.contracts.python import checker as checker_module
from consortia.contracts.python.checker import check_source
from consortia.contracts.python.testing import LocalChain

RUNTIME_NAMES = sorted(api.api_namespace(lambda cost: None))
BODY = """
class C(Contract):
    n = Value(int)

    @view
    def get(self) -> int:
        return self.n
"""


def _importing(*names: str) -> str:
    base = {"Contract", "Value", "view"}
    return f"from consortia_contract import {', '.join(sorted(base | set(names)))}\n" + BODY


def test_the_checker_list_is_the_runtime_namespace() -> None:
    assert set(RUNTIME_NAMES) == checker_module.API_NAMES
    # one source: the checker's lists are the api module's, not copies
    assert checker_module.API_NAMES is api.API_NAMES
    assert checker_module.API_DECORATORS is api.API_DECORATORS
    assert checker_module.STORAGE_DECLARATIONS is api.STORAGE_DECLARATIONS
    assert {"public", "view"} == checker_module.API_DECORATORS
    assert {"Map", "Value"} == checker_module.STORAGE_DECLARATIONS


@pytest.mark.parametrize("name", RUNTIME_NAMES)
def test_every_runtime_name_may_be_imported_and_is_there_at_run_time(name: str) -> None:
    source = _importing(name)
    check_source(source)
    chain = LocalChain()
    deployed = chain.deploy("c", source, sender=LocalChain.account("alice"))
    assert deployed.view("get") == 0
    # the runtime injects what the import names
    assert name in chain.host.api


NOT_EXPORTED = sorted(
    {n for n in dir(api) if not n.startswith("_")} - set(RUNTIME_NAMES)
    | {"Contract2", "hashlib", "api_namespace"}
)


@pytest.mark.parametrize("name", NOT_EXPORTED)
def test_nothing_else_may_be_imported(name: str) -> None:
    with pytest.raises(ContractRejected) as refused:
        check_source(_importing(name))
    assert refused.value.rule == "import"
