"""The host of deployed Python contracts: loads them from state, runs methods under the meter.

Wiring: the executor should route every call whose contract is not a system contract to
:meth:`PythonContractHost.call_contract` (``bound(name)`` adapts one contract to the plain
``NativeContract`` protocol). One host runs one call at a time (a lock), because its meter and
guards are shared by every contract module it has loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from consortia.contracts.native_currency import balance_of
from consortia.contracts.python.api import ERROR_CODE, address_of, api_namespace
from consortia.contracts.python.bridge import Bridge, OpenBridge, key_address
from consortia.contracts.python.errors import (
    BadArguments,
    CallTooDeep,
    ContractFailed,
    NoSuchContract,
    NoSuchMethod,
    NotAView,
    OutOfSteps,
    ReadOnlyViolation,
    ResultShapeMismatch,
)
from consortia.contracts.python.frame import BlockInfo, Frame
from consortia.contracts.python.guards import Guards
from consortia.contracts.python.layout import code_key, decode_meta, meta_key
from consortia.contracts.python.limits import (
    COST_ADDRESS_OF_KEY,
    COST_ALERT,
    COST_BALANCE_READ,
    COST_CONTRACT_CALL,
    COST_EVENT,
    COST_IDENTITY_READ,
    COST_PAY,
    COST_PER_32_BYTES,
    COST_SCHEDULE,
    COST_VERIFY_SIGNATURE,
    DEFAULT_STEP_BUDGET,
    MAX_ALERT_DETAIL,
    MAX_CONTRACT_CALL_DEPTH,
    MAX_EVENT_BYTES,
    MAX_STORED_VALUE_BYTES,
    MODULE_LOAD_STEPS,
    SCHEDULED_STEP_BUDGET,
)
from consortia.contracts.python.loader import INIT, LoadedContract, MethodSpec, compile_module, load_module
from consortia.contracts.python.metering import Meter
from consortia.contracts.python.plain_data import copy_plain, decode_args, encode_plain
from consortia.contracts.python.safe_builtins import SafeBuiltins
from consortia.contracts.python.scheduler import run_due, schedule
from consortia.contracts.python.shapes import mismatch, shape_text
from consortia.contracts.python.source_hash import code_hash_of
from consortia.errors import ConsortiaError
from consortia.execution.accounts import MAX_AMOUNT
from consortia.execution.context import BlockContext, CallContext, TxState
from consortia.execution.state_view import StateReader
from consortia.types.receipt import Event, Receipt

ZERO_ADDRESS = bytes(20)


def _check_address(value: Any, where: str) -> None:
    if not isinstance(value, bytes) or len(value) != 20:
        raise BadArguments(f"{where} takes a 20-byte address, got {value!r:.80}")

SAFE_ARG_TYPES = (str, int, bytes, bool, type(None))


def failure_message(exc: BaseException) -> str:
    """A deterministic message for an exception raised by contract code (no object addresses)."""
    name = type(exc).__name__
    if type(exc).__module__ == "builtins" and all(isinstance(a, SAFE_ARG_TYPES) for a in exc.args):
        text = str(exc)
        return f"{name}: {text}"[:500] if text else name
    return name


class FunctionReader:
    """Adapts ``get(key) -> bytes | None`` to a StateReader."""

    __slots__ = ("get",)

    def __init__(self, get: Callable[[bytes], bytes | None]) -> None:
        self.get = get


def as_reader(state: StateReader | Callable[[bytes], bytes | None]) -> StateReader:
    return state if hasattr(state, "get") else FunctionReader(state)  # type: ignore[arg-type]


class BoundContract:
    """One deployed contract seen through the ``NativeContract`` protocol."""

    def __init__(self, host: PythonContractHost, name: str) -> None:
        self.host = host
        self.name = name

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        self.host.call_contract(ctx, self.name, method, args)


class PythonContractHost:
    name = "python"

    def __init__(
        self,
        budget: int = DEFAULT_STEP_BUDGET,
        budget_for: Callable[[CallContext], int] | None = None,
        bridge: Bridge | None = None,
    ) -> None:
        """``budget``: steps per transaction; ``budget_for(ctx)`` overrides it per transaction
        (for when transactions carry their own budget); ``bridge``: the chain's rules of money
        and identity for contracts (decisions/0011; an open chain's by default)."""
        self.bridge: Bridge = bridge if bridge is not None else OpenBridge()
        self.budget = budget
        self.budget_for = budget_for or (lambda ctx: self.budget)
        self.meter = Meter()
        self.guards = Guards(self.meter)
        self.builtins = SafeBuiltins(self.guards).build()
        self.guard_globals = self.guards.globals()
        self.api = api_namespace(self.meter.charge)
        self.cache: dict[bytes, LoadedContract] = {}
        self.addresses: dict[str, bytes] = {}
        self.last_block: tuple[BlockContext | None, BlockInfo | None] = (None, None)
        self.lock = threading.RLock()

    # --- loading ------------------------------------------------------------------------

    def module_globals(self) -> dict[str, Any]:
        return {"__builtins__": self.builtins, "__name__": "contract", **self.guard_globals, **self.api}

    def compile(self, source: str) -> LoadedContract:
        """Check, instrument and load ``source`` (cached by code hash). Module bodies run under
        their own fixed budget so a cache miss never changes a transaction's step count."""
        code_hash = code_hash_of(source)
        cached = self.cache.get(code_hash)
        if cached is not None:
            return cached
        code = compile_module(source)
        meter = self.meter
        saved = (meter.budget, meter.left, meter.depth)
        meter.reset(MODULE_LOAD_STEPS)
        try:
            loaded = load_module(code, code_hash, self.module_globals())
        except ConsortiaError:
            raise
        except Exception as exc:
            raise ContractFailed(f"contract module failed to load: {failure_message(exc)}") from None
        finally:
            meter.budget, meter.left, meter.depth = saved
        self.cache[code_hash] = loaded
        return loaded

    def loaded(self, state: StateReader, contract: str) -> LoadedContract:
        raw_meta = state.get(meta_key(contract)) if isinstance(contract, str) else None
        if raw_meta is None:
            raise NoSuchContract(f"no contract named {contract!r}")
        meta = decode_meta(raw_meta)
        cached = self.cache.get(meta.code_hash)
        if cached is not None:
            return cached
        raw_code = state.get(code_key(meta.code_hash))
        if raw_code is None:
            raise NoSuchContract(f"code of contract {contract!r} is missing from state")
        return self.compile(raw_code.decode("utf-8"))

    # --- entry points -------------------------------------------------------------------

    def bound(self, contract: str) -> BoundContract:
        return BoundContract(self, contract)

    def call_contract(self, ctx: CallContext, contract: str, method: str, args: bytes) -> None:
        """Run ``contract.method(*args)`` as a transaction; steps used are added to ``ctx.steps``."""
        values = decode_args(args)
        with self.lock:
            self.meter.reset(self.budget_for(ctx))
            try:
                frame = self.top_frame(ctx, contract, read_only=False)
                loaded = self.loaded(ctx.state, contract)
                if ctx.value:
                    self.attach_value(ctx, frame, loaded, method)
                self.run(frame, loaded, method, values)
            finally:
                ctx.steps += self.meter.used

    def attach_value(self, ctx: CallContext, frame: Frame, loaded: LoadedContract, method: str) -> None:
        """Move the transaction's attached value into the contract's account, under the
        chain's rules, before the method runs (it sees it as ``self.value``)."""
        spec = loaded.methods.get(method) if isinstance(method, str) else None
        if spec is not None and spec.kind == "view":
            raise BadArguments(f"{frame.contract}.{method} is a view: it cannot take attached value")
        self.meter.charge(COST_PAY)
        self.bridge.pay(ctx, ctx.sender, frame.address, ctx.value)
        frame.value = ctx.value

    def call_scheduled(self, ctx: CallContext, contract: str, method: str, args: list[Any]) -> None:
        """Run a scheduled call (see :mod:`.scheduler`): the contract calls itself."""
        with self.lock:
            self.meter.reset(SCHEDULED_STEP_BUDGET)
            try:
                frame = self.top_frame(ctx, contract, read_only=False)
                self.run(frame, self.loaded(ctx.state, contract), method, args)
            finally:
                ctx.steps += self.meter.used

    def end_block(
        self, view: StateReader, writes: dict[bytes, bytes | None], block: BlockContext
    ) -> list[Receipt]:
        """The executor's end-of-block hook: run the scheduled calls now due."""
        return run_due(self, view, writes, block)

    def run_view(
        self,
        state: StateReader | Callable[[bytes], bytes | None],
        block: BlockContext,
        contract: str,
        method: str,
        args: bytes | list[Any],
        caller: bytes = ZERO_ADDRESS,
    ) -> Any:
        """A read-only query outside any transaction: the method's result as plain data."""
        values = decode_args(args) if isinstance(args, bytes) else list(args)
        ctx = CallContext(sender=caller, tx_hash=b"", block=block, state=TxState(as_reader(state)))
        with self.lock:
            self.meter.reset(self.budget)
            frame = self.top_frame(ctx, contract, read_only=True)
            loaded = self.loaded(ctx.state, contract)
            spec = loaded.methods.get(method) if isinstance(method, str) else None
            if spec is not None and spec.kind != "view":
                raise NotAView(
                    f"{contract}.{method} is a {spec.kind} method, not a view: it changes state, so it "
                    f"runs only in a transaction (consortia call {contract} {method} ... --key FILE)"
                )
            result = self.run(frame, loaded, method, values)
        copied = copy_plain(result, "view result", MAX_STORED_VALUE_BYTES)
        shape = loaded.methods[method].returns
        if shape is not None:
            problem = mismatch(shape, copied)
            if problem is not None:
                raise ResultShapeMismatch(
                    f"{contract}.{method} returned a value that is not the {shape_text(shape)} it "
                    f"declares: {problem[:300]}", contract=contract, method=method,
                )
        return copied

    def run_init(self, ctx: CallContext, contract: str, loaded: LoadedContract, args: list[Any]) -> None:
        """Run the constructor of a freshly deployed contract (the meter is already running)."""
        if loaded.init is None:
            if args:
                raise BadArguments(f"contract {contract!r} has no init() to take deploy arguments")
            return
        frame = self.top_frame(ctx, contract, read_only=False)
        self.execute(frame, loaded, loaded.init, args)

    def top_frame(self, ctx: CallContext, contract: str, read_only: bool) -> Frame:
        return Frame(
            host=self, contract=contract, address=self.address_of(contract), caller=ctx.sender,
            origin=ctx.sender, tx_hash=ctx.tx_hash, block=self.block_info(ctx.block),
            state=ctx.state, events=ctx.events, meter=self.meter, read_only=read_only, depth=0,
            block_context=ctx.block,
        )

    def address_of(self, contract: str) -> bytes:
        address = self.addresses.get(contract)
        if address is None:
            if len(self.addresses) > 10_000:
                self.addresses.clear()
            address = self.addresses[contract] = address_of(contract)
        return address

    def block_info(self, block: BlockContext) -> BlockInfo:
        """One immutable BlockInfo per block, shared by the block's calls."""
        last, info = self.last_block
        if last is not block or info is None:
            info = BlockInfo(block)
            self.last_block = (block, info)
        return info

    # --- running ------------------------------------------------------------------------

    def run(self, frame: Frame, loaded: LoadedContract, method: str, args: list[Any]) -> Any:
        spec = loaded.methods.get(method) if isinstance(method, str) else None
        if spec is None:
            raise NoSuchMethod(
                f"contract {frame.contract!r} has no method {method!r}; methods: {loaded.method_names()}"
            )
        if spec.kind == "view":
            frame.read_only = True
        if not frame.read_only:
            self.bridge.check_contract_call(frame.state, frame.contract)
        return self.execute(frame, loaded, spec, args)

    def execute(self, frame: Frame, loaded: LoadedContract, spec: MethodSpec, args: list[Any]) -> Any:
        spec.check_args(args)
        instance = object.__new__(loaded.cls)
        object.__setattr__(instance, "_rt", frame)
        try:
            return spec.fn(instance, *args)
        except ConsortiaError:
            raise
        except RecursionError:
            raise CallTooDeep("nesting too deep (Python recursion limit)") from None
        except Exception as exc:
            raise ContractFailed(failure_message(exc)) from None

    def call_from(self, parent: Frame, contract: Any, method: Any, args: list[Any], value: Any = 0) -> Any:
        if not isinstance(contract, str) or not isinstance(method, str):
            raise ContractFailed("call() takes a contract name and a method name")
        if parent.depth + 1 > MAX_CONTRACT_CALL_DEPTH:
            raise CallTooDeep(f"more than {MAX_CONTRACT_CALL_DEPTH} nested contract calls")
        self.meter.charge(COST_CONTRACT_CALL)
        values = copy_plain(args, "call arguments", MAX_STORED_VALUE_BYTES)
        loaded = self.loaded(parent.state, contract)
        frame = parent.child(contract, self.address_of(contract), read_only=False)
        if value:
            self.attach_nested_value(parent, frame, loaded, method, value)
        result = self.run(frame, loaded, method, values)
        return copy_plain(result, "call result", MAX_STORED_VALUE_BYTES)

    def attach_nested_value(
        self, parent: Frame, frame: Frame, loaded: LoadedContract, method: str, value: Any
    ) -> None:
        """``call(..., value=N)``: the calling contract pays N out of its own account into the
        callee's (under the chain's rules), which sees it as ``self.value``."""
        parent.check_writable("attach value to a call")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_AMOUNT:
            raise BadArguments(f"call() takes a value between 1 and {MAX_AMOUNT}, got {value!r:.40}")
        spec = loaded.methods.get(method)
        if spec is not None and spec.kind == "view":
            raise BadArguments(f"{frame.contract}.{method} is a view: it cannot take attached value")
        self.meter.charge(COST_PAY)
        ctx = CallContext(
            sender=parent.address, tx_hash=parent.tx_hash, block=parent.block_context,
            state=parent.state, events=parent.events,
        )
        self.bridge.pay(ctx, parent.address, frame.address, value)
        frame.value = value

    def try_call_from(
        self, parent: Frame, contract: Any, method: Any, args: list[Any], value: Any = 0
    ) -> tuple[bool, Any]:
        state, events, meter = parent.state, parent.events, self.meter
        writes = dict(state.writes)
        event_count = len(events)
        depth = meter.depth
        try:
            return True, self.call_from(parent, contract, method, args, value)
        except (OutOfSteps, ReadOnlyViolation):
            raise
        except ConsortiaError as exc:
            state.writes = writes
            del events[event_count:]
            meter.depth = depth
            return False, exc.message

    # --- the bridge (decisions/0011) -----------------------------------------------------

    def pay(self, frame: Frame, to: Any, amount: Any) -> None:
        frame.check_writable("pay")
        _check_address(to, "pay()")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
            raise BadArguments(f"pay() takes an amount between 1 and {MAX_AMOUNT}, got {amount!r}")
        self.meter.charge(COST_PAY)
        ctx = CallContext(
            sender=frame.address, tx_hash=frame.tx_hash, block=frame.block_context,
            state=frame.state, events=frame.events,
        )
        self.bridge.pay(ctx, frame.address, to, amount)

    def native_balance(self, frame: Frame, address: Any) -> int:
        _check_address(address, "native_balance()")
        self.meter.charge(COST_BALANCE_READ)
        return balance_of(frame.state.get, address)

    def identity_of(self, frame: Frame, address: Any) -> dict[str, Any] | None:
        _check_address(address, "identity_of()")
        self.meter.charge(COST_IDENTITY_READ)
        return self.bridge.identity(frame.state, address)

    def verify_signature(self, public_key: Any, message: Any, signature: Any) -> bool:
        if not all(isinstance(v, bytes) for v in (public_key, message, signature)):
            raise BadArguments("verify_signature() takes public_key, message and signature as bytes")
        self.meter.charge(COST_VERIFY_SIGNATURE + len(message) // 64)
        return self.bridge.suite.verify(public_key, message, signature)

    def address_of_key(self, public_key: Any) -> bytes:
        suite = self.bridge.suite
        if not isinstance(public_key, bytes) or len(public_key) != suite.public_key_size:
            raise BadArguments(
                f"address_of_key() takes a {suite.name} public key of {suite.public_key_size} bytes"
            )
        self.meter.charge(COST_ADDRESS_OF_KEY)
        return key_address(self.bridge, public_key)

    def schedule(self, frame: Frame, height: Any, method: Any, args: list[Any]) -> int:
        self.meter.charge(COST_SCHEDULE)
        return schedule(frame, height, method, args)

    def alert(self, frame: Frame, rule: Any, address: Any, amount: Any, detail: Any) -> None:
        frame.check_writable("raise alerts")
        if not isinstance(rule, str) or ERROR_CODE.fullmatch(rule) is None:
            raise BadArguments(f"alert_regulator() takes a rule of lowercase letters, digits and _ "
                               f"(at most 48), got {rule!r:.60}")
        _check_address(address, "alert_regulator()")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_AMOUNT:
            raise BadArguments(
                f"alert_regulator() takes an amount from 0 to {MAX_AMOUNT}, got {amount!r:.40}")
        if not isinstance(detail, str) or len(detail) > MAX_ALERT_DETAIL:
            raise BadArguments(
                f"alert_regulator() takes a detail text of at most {MAX_ALERT_DETAIL} characters")
        self.meter.charge(COST_ALERT)
        ctx = CallContext(
            sender=frame.address, tx_hash=frame.tx_hash, block=frame.block_context,
            state=frame.state, events=frame.events,
        )
        self.bridge.alert(ctx, frame.contract, rule, address, amount, detail)

    def emit(self, frame: Frame, name: Any, fields: dict[str, Any]) -> None:
        frame.check_writable("emit events")
        if not isinstance(name, str) or not name:
            raise ContractFailed("emit() takes an event name")
        data = encode_plain(dict(sorted(fields.items())), f"event {name}", MAX_EVENT_BYTES)
        self.meter.charge(COST_EVENT + COST_PER_32_BYTES * (len(data) >> 5))
        frame.events.append(Event(frame.contract, name, data))


__all__ = ["INIT", "PythonContractHost"]
