"""Escape and abuse attempts against the Python contract runtime: each is refused at deploy
(naming line and rule) or stopped at run time with a typed error and no state change."""

from __future__ import annotations

import textwrap

import pytest

from consortia.contracts.python import ContractRejected
from consortia.contracts.python.testing import LocalChain
from consortia.errors import ConsortiaError

HEADER = "from consortia_contract import Contract, Map, Value, public, view, require\n"
ALICE = LocalChain.account("alice")


def wrap(body: str, module: str = "") -> str:
    """A contract whose public ``run(x)`` writes state first, then runs ``body``."""
    return (
        HEADER
        + textwrap.dedent(module)
        + "\nclass C(Contract):\n    n = Value(int)\n    m = Map(bytes, int)\n\n"
        + "    @public\n    def run(self, x: int) -> None:\n        self.n = 1\n"
        + textwrap.indent(textwrap.dedent(body), " " * 8)
        + "\n"
    )


DEPLOY_REJECTIONS: list[tuple[str, str, str]] = [
    # (id, source, rule)
    ("import-os", "import os\n" + wrap("pass"), "import"),
    ("from-os", "from os import path\n" + wrap("pass"), "import"),
    ("star-import", "from consortia_contract import *\n" + wrap("pass"), "import"),
    ("dunder-import", wrap("__import__('os')"), "underscore"),
    ("open", wrap("open('/etc/passwd')"), "builtin"),
    ("eval", wrap("eval('1+1')"), "builtin"),
    ("exec", wrap("exec('y = 1')"), "builtin"),
    ("compile", wrap("compile('1', 'f', 'eval')"), "builtin"),
    ("getattr", wrap("getattr(self, 'n')"), "builtin"),
    ("setattr", wrap("setattr(self, 'n', 5)"), "builtin"),
    ("globals", wrap("globals()"), "builtin"),
    ("vars", wrap("vars(self)"), "builtin"),
    ("type", wrap("type(self)"), "builtin"),
    ("super", wrap("super()"), "builtin"),
    ("print", wrap("print(x)"), "builtin"),
    ("breakpoint", wrap("breakpoint()"), "builtin"),
    ("id", wrap("id(self)"), "builtin"),
    ("hash", wrap("hash('x')"), "builtin"),
    ("float-call", wrap("float(x)"), "builtin"),
    ("set-call", wrap("set([1, 2])"), "builtin"),
    ("mro-walk", wrap("().__class__.__mro__[1].__subclasses__()"), "underscore"),
    ("func-globals", wrap("self.run.__globals__"), "underscore"),
    ("private-attr", wrap("self._rt"), "underscore"),
    ("format-walk", wrap("'{0.__class__}'.format(x)"), "attribute"),
    ("format-map", wrap("'{n}'.format_map({})"), "attribute"),
    ("mro-method", wrap("int.mro()"), "attribute"),
    ("gi-frame", wrap("g = (i for i in range(3))\ng.gi_frame.f_back"), "attribute"),
    ("tb-frame", wrap("x.tb_frame"), "attribute"),
    ("generator", wrap("pass", "def gen():\n    yield 1\n"), "generator"),
    ("try-except", wrap("try:\n    pass\nexcept BaseException:\n    pass"), "try"),
    ("float-literal", wrap("y = 1.5"), "float"),
    ("complex-literal", wrap("y = 2j"), "float"),
    ("true-division", wrap("y = x / 2"), "float"),
    ("set-literal", wrap("y = {1, 2}"), "unordered"),
    ("set-comprehension", wrap("y = {i for i in range(3)}"), "unordered"),
    ("lambda", wrap("f = lambda: 1"), "lambda"),
    ("with", wrap("with x:\n    pass"), "with"),
    ("global", wrap("global counter\ncounter = 1"), "global"),
    ("async", wrap("pass", "async def f():\n    pass\n"), "async"),
    ("assert", wrap("assert x > 0"), "assert"),
    ("raise", wrap("raise ValueError('no')"), "raise"),
    ("format-spec-bomb", wrap("y = f'{x:>1000000000}'"), "format-spec"),
    ("module-mutable", "cache = []\n" + wrap("pass"), "module-level"),
    ("mutable-default", wrap("pass", "def f(a=[]):\n    return a\n"), "default"),
    ("foreign-decorator", HEADER + "def deco(f):\n    return f\n\nclass C(Contract):\n    @deco\n"
     "    def f(self):\n        pass\n", "decorator"),
    ("unknown-decorator", HEADER + "class C(Contract):\n    @staticmethod\n    def f():\n        pass\n",
     "decorator"),
    ("metaclass", HEADER + "class C(Contract, metaclass=Contract):\n    pass\n", "class"),
    ("class-mutable", HEADER + "class C(Contract):\n    items = []\n", "class-body"),
    ("del-attribute", wrap("del self.n"), "assign"),
    ("match", wrap("match x:\n    case 1:\n        pass"), "match"),
    ("slice-assign", wrap("a = [1]\na[:0] = a"), "assign"),
    ("huge-literal", wrap("y = " + "9" * 1400), "int-size"),
    ("too-big", wrap("pass") + "# " + "x" * 70_000 + "\n", "size"),
    ("syntax", "def (:\n", "syntax"),
]


@pytest.mark.parametrize(("source", "rule"), [(s, r) for _, s, r in DEPLOY_REJECTIONS],
                         ids=[i for i, _, _ in DEPLOY_REJECTIONS])
def test_refused_at_deploy_with_line_and_rule(source: str, rule: str) -> None:
    chain = LocalChain()
    before = chain.snapshot()
    with pytest.raises(ContractRejected) as info:
        chain.deploy("abuse", source, sender=ALICE)
    assert info.value.rule == rule, info.value.message
    assert info.value.code == "contract_rejected"
    assert "line" in info.value.message and f"[rule: {rule}]" in info.value.message
    assert chain.snapshot() == before


def test_rejection_names_the_offending_line() -> None:
    source = wrap("y = 1\nz = eval('2')")
    with pytest.raises(ContractRejected) as info:
        LocalChain().deploy("abuse", source, sender=ALICE)
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "eval" in text)
    assert info.value.line == line


RUNTIME_STOPS: list[tuple[str, str, str]] = [
    # (id, contract, error code)
    ("while-true", wrap("while True:\n    pass"), "out_of_steps"),
    ("huge-range", wrap("for i in range(10**12):\n    pass"), "out_of_steps"),
    ("huge-comprehension", wrap("y = [i for i in range(10**12)]"), "out_of_steps"),
    ("sum-in-c", wrap("y = sum(range(10**12))"), "out_of_steps"),
    ("any-in-c", wrap("y = any(i < 0 for i in range(10**12))"), "out_of_steps"),
    ("deep-recursion", wrap("f(0)", "def f(n):\n    return f(n + 1)\n"), "call_too_deep"),
    ("mutual-recursion", wrap("f(0)", "def f(n):\n    return g(n)\ndef g(n):\n    return f(n)\n"),
     "call_too_deep"),
    ("huge-power", wrap("y = 2 ** (10**6)"), "resource_limit"),
    ("power-tower", wrap("y = 10 ** 10 ** 10"), "resource_limit"),
    ("builtin-pow", wrap("y = pow(3, 10**6)"), "resource_limit"),
    ("huge-shift", wrap("y = 1 << 10**6"), "resource_limit"),
    ("square-growth", wrap("v = 3\nfor i in range(40):\n    v = v * v"), "resource_limit"),
    ("str-bomb", wrap("y = 'a' * 10**9"), "resource_limit"),
    ("list-bomb", wrap("y = [0] * 10**9"), "resource_limit"),
    ("bytes-bomb", wrap("y = b'a' * 10**9"), "resource_limit"),
    ("bytes-n-bomb", wrap("y = bytes(10**9)"), "resource_limit"),
    ("augmented-bomb", wrap("y = [0]\ny *= 10**9"), "resource_limit"),
    ("doubling-concat", wrap("a = [0]\nfor i in range(100):\n    a = a + a"), "resource_limit"),
    ("doubling-extend", wrap("a = [0]\nfor i in range(100):\n    a.extend(a)"), "resource_limit"),
    ("doubling-iadd", wrap("s = 'ab'\nfor i in range(100):\n    s += s"), "resource_limit"),
    ("nested-growth", wrap("a = [[0] * 1000]\nfor i in range(100):\n    a = a * 2"),
     "resource_limit"),
    ("replace-bomb", wrap("s = 'a' * 1000\ny = s.replace('', s)"), "resource_limit"),
    ("ljust-bomb", wrap("y = 'x'.ljust(10**9)"), "resource_limit"),
    ("join-bomb", wrap("y = ('a' * 50000).join(['b'] * 1000)"), "resource_limit"),
    ("to-bytes-bomb", wrap("y = (1).to_bytes(10**9, 'big')"), "resource_limit"),
    ("spread-bomb", wrap("y = [*range(10**9)]"), "out_of_steps"),
    ("list-of-range", wrap("y = list(range(10**7))"), "resource_limit"),
    ("int-text-bomb", wrap("y = int('9' * 5000)"), "resource_limit"),
    ("negative-power-float", wrap("y = 2 ** -1"), "contract_error"),
    ("builtin-pow-float", wrap("y = pow(2, -1)"), "contract_error"),
    ("printf-format", wrap("y = '%s' % (x,)"), "contract_error"),
    ("repr-address", wrap("y = str(self)"), "contract_error"),
    ("fstring-address", wrap("y = f'{self}'"), "contract_error"),
    ("unlisted-method", wrap("y = {1: 2}.keys().isdisjoint(range(10**12))"), "contract_error"),
    ("bound-method-walk", wrap("p = 'a'.upper\ny = p.func"), "contract_error"),
    ("ephemeral-attribute", wrap("self.helper = 5"), "contract_error"),
    ("class-state", wrap("C.n = 5"), "contract_error"),
    ("function-state", wrap("g.x = 1", "def g():\n    pass\n"), "contract_error"),
    ("builtin-state", wrap("int.x = 1"), "contract_error"),
    ("deep-data", wrap("a = []\nfor i in range(100):\n    a = [a]\nself.emit('E', a=a)"),
     "resource_limit"),
    ("big-stored-int", wrap("self.n = 2 ** 100"), "resource_limit"),
    ("require", wrap("require(x > 100, 'x is too small')"), "contract_error"),
    ("division-by-zero", wrap("y = x // 0"), "contract_error"),
]


@pytest.mark.parametrize(("source", "code"), [(s, c) for _, s, c in RUNTIME_STOPS],
                         ids=[i for i, _, _ in RUNTIME_STOPS])
def test_stopped_at_run_time_without_state_change(source: str, code: str) -> None:
    chain = LocalChain(budget=200_000)
    contract = chain.deploy("abuse", source, sender=ALICE)
    before = chain.snapshot()
    with pytest.raises(ConsortiaError) as info:
        contract.call("run", 1, sender=ALICE)
    assert info.value.code == code, info.value.message
    assert chain.snapshot() == before


def test_require_message_reaches_the_caller() -> None:
    chain = LocalChain()
    contract = chain.deploy("abuse", wrap("require(x > 100, 'x is too small')"), sender=ALICE)
    with pytest.raises(ConsortiaError, match=r"^x is too small$"):
        contract.call("run", 1, sender=ALICE)


def test_abuse_corpus_is_large_enough() -> None:
    assert len(DEPLOY_REJECTIONS) + len(RUNTIME_STOPS) >= 60


def test_nested_decorators_are_refused() -> None:
    source = wrap("@deco\ndef inner():\n    pass", "def deco(f):\n    return f\n")
    with pytest.raises(ContractRejected) as info:
        LocalChain().deploy("abuse", source, sender=ALICE)
    assert info.value.rule == "decorator"


def test_module_body_runs_under_its_own_budget() -> None:
    source = HEADER + "BIG = 10 ** 10 ** 10\n" + wrap("pass").removeprefix(HEADER)
    with pytest.raises(ConsortiaError) as info:
        LocalChain().deploy("abuse", source, sender=ALICE)
    assert info.value.code == "resource_limit"
