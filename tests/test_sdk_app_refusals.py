"""Every signing method of every application SDK client refuses hostile arguments before
signing (issue 16): wrong types, negative or huge numbers, bad addresses and hashes, over-long
text and bytes, NaN, bytes where text is expected. Only typed errors (``ConsortiaError``), and
the recording client shows nothing was submitted.

The methods and the kind of each parameter are read from the clients' signatures, so a new
method is covered without a line here (``test_the_walk_finds_every_signing_method``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortia.client.bills import BillsWallet
from consortia.client.cbdc import CbdcWallet
from consortia.client.energy import EnergyWallet
from consortia.client.health import HealthWallet
from consortia.client.notary import NotaryWallet
from consortia.client.privacy import PrivacyWallet
from consortia.client.scf import ScfWallet
from consortia.client.trace import TraceWallet
from consortia.client.wallet import Wallet
from consortia.crypto.keys import KeyPair
from consortia.errors import ConsortiaError

KEY = KeyPair.generate("ed25519")
CLIENTS: tuple[type, ...] = (CbdcWallet, BillsWallet, ScfWallet, NotaryWallet, EnergyWallet, HealthWallet,
                             TraceWallet, PrivacyWallet)
HASH_PARAMS = frozenset({"digest", "record", "ref", "commitment", "root"})
"""``bytes | str`` parameters that are 32-byte hashes; the others are addresses."""
NOT_SIGNING = frozenset({"queries", "reads", "client", "address"})
"""Members that only read or describe (properties)."""


class Refused(AssertionError):
    """The recording client was asked for something a refused call must never reach."""


class RecordingClient:
    """A node that records every submission; reads answer as for an empty chain."""

    def __init__(self) -> None:
        self.submitted: list[bytes] = []

    def account(self, address: bytes) -> dict[str, Any]:
        return {"next_nonce": 0, "height": 1}

    def chain_id(self) -> str:
        return "test-chain"

    def height(self) -> int:
        return 1

    def submit(self, raw: bytes) -> bytes:
        self.submitted.append(raw)
        raise Refused("a transaction was signed and submitted")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def read(*args: Any, **kwargs: Any) -> Any:
            raise Refused(f"the client was asked for {name}{args!r:.80} before the arguments were checked")

        return read


def kind_of(name: str, annotation: str) -> str:
    """What a parameter takes, from its annotation (text: the modules use postponed annotations)."""
    text = annotation.replace(" ", "")
    if name == "plaintext":
        return "payload"  # any size: the node's own limit is asked for before anything is signed
    kinds = {
        "bytes|str": "hash" if name in HASH_PARAMS else "address",
        "int": "int", "int|None": "optional_int", "str": "text", "str|None": "optional_text",
        "bytes": "bytes", "bool": "bool", "float": "number",
        "Sequence[int]": "int_list", "list[bytes]|list[str]": "address_list",
        "Sequence[bytes|str]": "hash_list", "Sequence[str]": "text_list",
        "Any": "any", "KeyPair": "object", "KeyPair|None": "optional_object", "WalletRecord": "object",
        "NewWallet": "object", "Sequence[Path]": "object",
    }  # fmt: skip
    if text not in kinds:
        raise AssertionError(f"no hostile values for {name}: {annotation}")
    return kinds[text]


def signing_methods() -> list[tuple[type, str, list[inspect.Parameter]]]:
    found = []
    for cls in CLIENTS:
        for name, member in vars(cls).items():
            if name.startswith("_") or name in NOT_SIGNING or not inspect.isfunction(member):
                continue
            params = list(inspect.signature(member).parameters.values())[1:]
            found.append((cls, name, params))
    return found


METHODS = signing_methods()
CHECKED = [(cls, name, p) for cls, name, params in METHODS for p in params
           if p.kind is not p.VAR_KEYWORD and str(p.annotation) != "Any"]

NUMBERS_NOT_INT = st.one_of(st.floats(allow_nan=True), st.booleans(), st.decimals(allow_nan=True))
NOT_BYTES_OR_TEXT = st.one_of(st.integers(), st.none(), st.floats(allow_nan=True), st.booleans(),
                              st.lists(st.integers(), max_size=2))
LONG_TEXT = st.integers(10_000, 200_000).map(lambda n: "x" * n)
HOSTILE: dict[str, st.SearchStrategy[Any]] = {
    "address": st.one_of(st.binary(max_size=40).filter(lambda b: len(b) != 20),
                         st.text(max_size=50), st.just("0x" + "g" * 40), NOT_BYTES_OR_TEXT),
    "hash": st.one_of(st.binary(max_size=40).filter(lambda b: len(b) != 32),
                      st.text(max_size=70), st.just("0x" + "zz" * 32), NOT_BYTES_OR_TEXT),
    "int": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64, max_value=2**300),
                     NUMBERS_NOT_INT, st.text(max_size=5), st.none(), st.binary(max_size=4)),
    "optional_int": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64, max_value=2**300),
                              NUMBERS_NOT_INT, st.text(max_size=5), st.binary(max_size=4)),
    "text": st.one_of(LONG_TEXT, st.binary(max_size=10), NOT_BYTES_OR_TEXT),
    "optional_text": st.one_of(LONG_TEXT, st.binary(max_size=10), st.integers(), st.floats(allow_nan=True)),
    "bytes": st.one_of(st.text(max_size=10), NOT_BYTES_OR_TEXT,
                       st.integers(200_000, 400_000).map(lambda n: b"\x01" * n)),
    "bool": st.one_of(st.none(), st.integers(), st.text(max_size=5), st.binary(max_size=3),
                      st.floats(allow_nan=True)),
    "number": st.one_of(st.none(), st.text(max_size=5), st.floats(max_value=-0.001),
                        st.just(float("nan")), st.binary(max_size=3)),
    "int_list": st.one_of(st.none(), st.integers(), st.text(max_size=5),
                          st.lists(st.one_of(st.integers(max_value=0), st.floats(), st.none()),
                                   min_size=1, max_size=3)),
    "address_list": st.one_of(st.none(), st.integers(), st.text(min_size=1, max_size=5),
                              st.lists(st.one_of(st.binary(max_size=5), st.none(), st.integers()),
                                       min_size=1, max_size=3)),
    "hash_list": st.one_of(st.none(), st.integers(), st.text(min_size=1, max_size=5),
                           st.lists(st.one_of(st.binary(max_size=5), st.none(), st.integers()),
                                    min_size=1, max_size=3)),
    "text_list": st.one_of(st.none(), st.integers(), st.text(min_size=1, max_size=5), st.binary(max_size=3),
                           st.lists(st.one_of(LONG_TEXT, st.binary(max_size=3), st.none(), st.integers()),
                                    min_size=1, max_size=3)),
    "object": st.one_of(st.none(), st.text(max_size=5), st.binary(max_size=5), st.integers()),
    "payload": st.one_of(st.text(max_size=10), NOT_BYTES_OR_TEXT, st.just(b"")),
    "optional_object": st.one_of(st.text(max_size=5), st.binary(max_size=5), st.integers()),
}
GOOD: dict[str, Any] = {
    "address": "0x" + "ab" * 20, "hash": b"\xcd" * 32, "int": 1, "optional_int": None, "text": "a",
    "optional_text": None, "bytes": b"", "bool": False, "number": 1.0, "int_list": [1, 1],
    "address_list": ["0x" + "ab" * 20], "hash_list": [b"\xcd" * 32], "text_list": [], "any": {},
}


LOT, UNIT = "urn:epc:class:lgtin:9506000.013436.COIL-88", "urn:epc:id:sscc:9506000.0100000001"
GOOD_BY_NAME: dict[tuple[str, str], Any] = {
    ("issue", "kind"): "cheque", ("dishonour", "reason"): "refused",
    ("register_invoice", "date"): "2025-04-01", ("register_sealed_invoice", "date"): "2025-04-01",
    ("enrol", "interval_ms"): 900_000, ("enrol", "max_w"): 1_000, ("enrol", "meter_key"): KEY.public_key,
    ("set_store", "url"): "https://store.example", ("put", "plaintext"): b"x",
    ("prepare_wallet", "name"): "Alice", ("open_wallet", "name"): "Alice", ("read", "meter_key"): KEY,
    ("aggregate", "children"): [UNIT], ("transform", "inputs"): [LOT], ("transform", "outputs"): [UNIT],
    ("certify", "result"): "pass", ("certify", "report"): b"\xee" * 32,
}  # fmt: skip
"""Valid values where the kind's default is not, so each hostile value meets its own check."""


def good_value(method: str, param: inspect.Parameter) -> Any:
    if (method, param.name) in GOOD_BY_NAME:
        return GOOD_BY_NAME[(method, param.name)]
    if param.name in ("item", "parent"):
        return LOT
    return GOOD.get(kind_of(param.name, str(param.annotation)))


def client_of(cls: type) -> tuple[Any, RecordingClient]:
    transport = RecordingClient()
    return cls(Wallet(KEY, transport)), transport  # type: ignore[arg-type]


def test_the_walk_finds_every_signing_method() -> None:
    names = {f"{cls.__name__}.{name}" for cls, name, _ in METHODS}
    for expected in ("CbdcWallet.pay", "CbdcWallet.escrow_create", "BillsWallet.issue", "BillsWallet.split",
                     "ScfWallet.finance", "ScfWallet.record_loan", "NotaryWallet.stamp", "EnergyWallet.read",
                     "HealthWallet.grant", "TraceWallet.certify", "PrivacyWallet.erase"):
        assert expected in names
    assert len(CHECKED) > 100
    for _cls, _name, param in CHECKED:
        kind_of(param.name, str(param.annotation))  # every parameter has hostile values


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(data=st.data())
def test_every_signing_method_refuses_hostile_arguments_before_signing(data: st.DataObject) -> None:
    cls, method, hostile = data.draw(st.sampled_from(CHECKED), label="parameter")
    params = next(p for c, m, p in METHODS if c is cls and m == method)
    value = data.draw(HOSTILE[kind_of(hostile.name, str(hostile.annotation))], label="value")
    args: dict[str, Any] = {}
    for param in params:
        if param is hostile:
            args[param.name] = value
        elif (method, param.name) in GOOD_BY_NAME or (param.default is param.empty
                                                     and param.kind is not param.VAR_KEYWORD):
            args[param.name] = good_value(method, param)
    client, transport = client_of(cls)
    named = f"{cls.__name__}.{method}({hostile.name}={value!r:.60})"
    try:
        getattr(client, method)(**args)
    except Refused as exc:
        pytest.fail(f"{named} was not refused: {exc}")
    except ConsortiaError:
        pass
    except Exception as exc:  # the point: anything untyped is a failure
        pytest.fail(f"{named} raised an untyped {type(exc).__name__}: {exc}")
    else:
        pytest.fail(f"{named} returned without an error")
    assert transport.submitted == []
