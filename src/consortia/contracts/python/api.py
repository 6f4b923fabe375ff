"""The contract API: what contract source imports as ``consortia_contract``.

    from consortia_contract import Contract, Map, Value, public, view, require

    class Counter(Contract):
        count = Value(int)
        by_caller = Map(bytes, int)

        @public
        def bump(self, amount: int) -> None:
            require(amount > 0, "amount must be positive")
            self.count += amount
            self.by_caller[self.caller] += amount
            self.emit("Bumped", by=self.caller, amount=amount)

        @view
        def total(self) -> int:
            return self.count
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from consortia.contracts.python.classes import UserMeta
from consortia.contracts.python.errors import ContractFailed
from consortia.contracts.python.storage import Map, Value

if TYPE_CHECKING:
    from consortia.contracts.python.frame import BlockInfo, Frame

F = TypeVar("F", bound=Callable[..., Any])

KIND_ATTRIBUTE = "_consortia_kind"
PUBLIC, VIEW = "public", "view"
CONTRACT_DOMAIN = b"consortia/contract\x00"
ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,47}")
RESERVED_NAMES = frozenset({
    "caller", "origin", "block", "address", "tx_hash", "emit", "call", "try_call", "init",
    "value", "balance", "pay", "native_balance", "identity_of", "verify_signature",
    "address_of_key", "schedule", "alert_regulator",
})
"""Names a contract class may not redefine (``init`` may be defined, as the constructor)."""


def address_of(contract: str) -> bytes:
    """The 20-byte address of the contract named ``contract`` (its ``caller`` in other contracts)."""
    if not isinstance(contract, str):
        raise ContractFailed("address_of() takes a contract name")
    return hashlib.sha256(CONTRACT_DOMAIN + contract.encode()).digest()[:20]


def public(fn: F) -> F:
    """A method transactions may call; it may change state."""
    setattr(fn, KIND_ATTRIBUTE, PUBLIC)
    return fn


def view(fn: F) -> F:
    """A read-only method: any write or event in it (or in calls it makes) fails."""
    setattr(fn, KIND_ATTRIBUTE, VIEW)
    return fn


def require(condition: Any, message: str = "requirement failed", code: str | None = None) -> None:
    """Stop the call with ``message`` (which reaches the caller) unless ``condition`` holds;
    ``code`` (lowercase letters, digits, ``_``) becomes the receipt's status, so a client can
    tell refusals apart (``escrow_not_releasable``); without it the status is
    ``contract_error``."""
    if not condition:
        fail(message, code)


def fail(message: str, code: str | None = None) -> None:
    """Stop the call: its writes roll back and the caller gets ``message`` (and ``code``)."""
    if not isinstance(message, str):
        raise ContractFailed("fail() and require() take a text message")
    error = ContractFailed(message[:1000])
    if code is not None:
        if not isinstance(code, str) or ERROR_CODE.fullmatch(code) is None:
            raise ContractFailed(
                f"an error code is lowercase letters, digits and _, starting with a letter, at "
                f"most 48 characters; got {code!r:.60}"
            )
        error.code = code
    raise error


def make_sha256(charge: Callable[[int], None]) -> Callable[[bytes], bytes]:
    def sha256(data: bytes) -> bytes:
        """SHA-256 of ``data``."""
        if not isinstance(data, bytes):
            raise ContractFailed("sha256() takes bytes")
        charge(10 + len(data) // 64)
        return hashlib.sha256(data).digest()

    return sha256


class Contract(metaclass=UserMeta):
    """Base of a contract class. Declare storage as class attributes (``Value``, ``Map``), mark
    methods ``@public`` or ``@view``, and optionally define ``init(self, ...)``: it runs once, at
    deploy, with the deploy arguments."""

    __slots__ = ("_rt",)
    _rt: Frame

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(getattr(type(self), name, None), Value):
            object.__setattr__(self, name, value)
            return
        raise ContractFailed(
            f"cannot set {name!r}: contract attributes do not persist; declare "
            f"`{name} = Value(type)` in the class to store it"
        )

    @property
    def caller(self) -> bytes:
        """Who called: the transaction's sender, or the calling contract's address."""
        return self._rt.caller

    @property
    def origin(self) -> bytes:
        """The sender of the transaction, however deep the call."""
        return self._rt.origin

    @property
    def address(self) -> bytes:
        """This contract's own address."""
        return self._rt.address

    @property
    def tx_hash(self) -> bytes:
        return self._rt.tx_hash

    @property
    def block(self) -> BlockInfo:
        """The block being executed: ``height``, ``timestamp_ms``, ``chain_id``."""
        return self._rt.block

    # --- money and identities (the contract bridge, decisions/0011) ------------------------

    @property
    def value(self) -> int:
        """Native units the transaction attached to this call, already in this contract's
        account when the method starts (0 in nested calls and views)."""
        return self._rt.value

    @property
    def balance(self) -> int:
        """This contract's own native balance."""
        frame = self._rt
        return frame.host.native_balance(frame, frame.address)

    def native_balance(self, address: bytes) -> int:
        """The native balance of any account."""
        frame = self._rt
        return frame.host.native_balance(frame, address)

    def pay(self, to: bytes, amount: int) -> None:
        """Pay ``amount`` out of this contract's own account; the chain's rules of money apply
        (on a permissioned chain: recipient active and not frozen, tier limits, alerts)."""
        frame = self._rt
        frame.host.pay(frame, to, amount)

    def identity_of(self, address: bytes) -> dict[str, Any] | None:
        """Who ``address`` is: ``org``, ``org_role``, ``role``, ``kyc_tier``, ``status``,
        ``frozen`` (and ``contract`` for a contract's account), or None for nobody."""
        frame = self._rt
        return frame.host.identity_of(frame, address)

    def verify_signature(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is ``public_key``'s over ``message`` in the chain's suite."""
        return self._rt.host.verify_signature(public_key, message, signature)

    def address_of_key(self, public_key: bytes) -> bytes:
        """The account address of ``public_key`` (what ``caller`` is when that key signs)."""
        return self._rt.host.address_of_key(public_key)

    def schedule(self, height: int, method: str, *args: Any) -> int:
        """Run ``method(*args)`` on this contract after the transactions of block ``height``
        (as the contract itself: ``caller`` is its own address); an id of the scheduled call."""
        frame = self._rt
        return frame.host.schedule(frame, height, method, list(args))

    def alert_regulator(self, rule: str, address: bytes, amount: int, detail: str) -> None:
        """Raise a regulator alert about ``address`` (on a permissioned chain an alert record
        ``<contract>.<rule>`` beside the chain's own rules, in ``/v1/reg/alerts`` and the
        regulator's feed; on an open chain an ``Alert`` event of this contract). ``rule``:
        lowercase letters, digits and ``_``; ``amount``: 0 .. 2**64 - 1; ``detail``: text of at
        most 500 characters."""
        frame = self._rt
        frame.host.alert(frame, rule, address, amount, detail)

    def emit(self, name: str, **fields: Any) -> None:
        """Announce an event ``name`` with plain-data ``fields`` (kept in the receipt)."""
        frame = self._rt
        frame.host.emit(frame, name, fields)

    def call(self, contract: str, method: str, *args: Any, value: int = 0) -> Any:
        """Call another contract; if it fails, this call fails too. ``value``: native units
        this contract pays out of its own account into the callee's (its ``self.value``)."""
        frame = self._rt
        return frame.host.call_from(frame, contract, method, list(args), value)

    def try_call(self, contract: str, method: str, *args: Any, value: int = 0) -> tuple[bool, Any]:
        """Call another contract; ``(True, result)``, or ``(False, message)`` with the callee's
        writes and events (and any value paid) rolled back. Running out of steps is never
        caught."""
        frame = self._rt
        return frame.host.try_call_from(frame, contract, method, list(args), value)


class Record(metaclass=UserMeta):
    """Base of a declared result shape: a class whose body holds only annotated names,
    ``class Bill(Record): id: int; holder: bytes``. A method annotated ``-> Bill`` (or
    ``-> list[Bill]``, ``-> Bill | None``) declares that its result is a dict of exactly those
    fields; the ABI carries the shape and a view's result is checked against it
    (:mod:`.shapes`). A record is a declaration only: build the result as a plain dict."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise ContractFailed(f"{cls.__name__} declares a result shape; return a plain dict")


def api_namespace(charge: Callable[[int], None]) -> dict[str, Any]:
    """The names a contract may import, bound to one host's meter: the one list of the API
    (the deploy-time checker allows exactly :data:`API_NAMES`, derived from it)."""
    return {
        "Contract": Contract, "Map": Map, "Value": Value, "Record": Record, "public": public, "view": view,
        "require": require, "fail": fail, "sha256": make_sha256(charge), "address_of": address_of,
    }


def _no_charge(cost: int) -> None:
    """A meter for listing the namespace: nothing runs."""


_NAMESPACE = api_namespace(_no_charge)
API_NAMES = frozenset(_NAMESPACE)
"""Every name contract source may import from ``consortia_contract``."""
API_DECORATORS = frozenset(name for name, value in _NAMESPACE.items() if value in (public, view))
"""The names that mark a method ``@public`` or ``@view``."""
STORAGE_DECLARATIONS = frozenset(name for name, value in _NAMESPACE.items() if value in (Map, Value))
"""The names that declare storage (``Value(...)``, ``Map(...)``)."""
RECORD_BASES = frozenset(name for name, value in _NAMESPACE.items() if value is Record)
"""The name a result shape's class derives from (``Record``)."""
