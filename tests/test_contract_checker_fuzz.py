"""The deploy-time checker never crashes: any text gives a contract or a ContractRejected."""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortia.contracts.python import ContractRejected
from consortia.contracts.python.checker import check_source, find_violations
from consortia.contracts.python.examples import example_source
from consortia.contracts.python.testing import LocalChain
from consortia.errors import ConsortiaError

TOKENS = [
    "from consortia_contract import Contract, Value, public\n", "class C(Contract):\n", "    ",
    "def f(self, x):\n", "@public\n", "return ", "x", "self", ".", "__class__", "(", ")", "[", "]",
    "{", "}", ":", ",", "1", "1.5", "'s'", "b'b'", "f'{x}'", "+", "*", "**", "/", "//", "%", "<<",
    "lambda", "yield", "import os", "try:", "except", "while True:", "for i in range(9):", "\n",
    "pass", "global", "=", "==", "not", "and", "if", "else", "eval", "__import__", "format",
    "gi_frame", "{0.__class__}", "with", "async", "await", "del", "raise", "assert", "*args",
    "**kw", "n = Value(int)\n", "sum(range(10**12))",
]


def outcome(source: str) -> str:
    try:
        check_source(source)
    except ContractRejected as exc:
        assert exc.rule and isinstance(exc.line, int)
        return "rejected"
    return "accepted"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_crashes_the_checker(source: str) -> None:
    outcome(source)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup_never_crashes_the_checker(tokens: list[str]) -> None:
    outcome("".join(tokens))


def mutations() -> st.SearchStrategy[str]:
    source = example_source("token")
    lines = source.splitlines(keepends=True)
    return st.tuples(st.integers(0, len(lines) - 1), st.sampled_from(TOKENS)).map(
        lambda t: "".join(lines[: t[0]]) + t[1] + "".join(lines[t[0]:])
    )


@settings(max_examples=150, deadline=None)
@given(mutations())
def test_mutated_contracts_deploy_or_are_rejected(source: str) -> None:
    chain = LocalChain(budget=20_000)
    try:
        chain.deploy("fuzz", source, "T", 5, sender=LocalChain.account("a"))
    except ConsortiaError:
        return


def test_deep_nesting_is_rejected_not_crashing() -> None:
    assert outcome("x = " + "(" * 150 + "1" + ")" * 150) in ("accepted", "rejected")
    assert outcome("x = " + "[" * 90 + "]" * 90) == "rejected"
    assert outcome("x = " + "-" * 5000 + "1") == "rejected"
    assert outcome("\x00") == "rejected"


def test_example_parses() -> None:
    assert isinstance(check_source(example_source("token")), ast.Module)


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutations(), st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)))
def test_listing_every_violation_agrees_with_the_deploy_check(source: str) -> None:
    """``contract check`` (every violation) and the chain's check (the first) never disagree:
    a source is accepted exactly when nothing is listed, and what the chain names is listed."""
    found = find_violations(source)
    try:
        check_source(source)
    except ContractRejected as exc:
        assert (exc.line, exc.rule, exc.message) in {(v.line, v.rule, v.message) for v in found}
        assert [(v.line, v.rule) for v in found] == sorted((v.line, v.rule) for v in found)
        return
    assert found == []


def test_every_violation_is_listed_with_its_line_and_rule() -> None:
    source = (
        "import os\n"
        "from consortia_contract import Contract, public\n\n\n"
        "class C(Contract):\n"
        "    @public\n"
        "    def f(self) -> None:\n"
        "        eval('1')\n"
        "        self._y = 1\n"
    )
    found = {(v.line, v.rule) for v in find_violations(source)}
    assert {(1, "import"), (8, "builtin"), (9, "underscore")} <= found
