"""The ``contracts`` system contract: deploy and upgrade Python contracts, and read their info.

    deploy(name, source, init_args=[])   -> runs the contract's init(*init_args) as the deployer
    upgrade(name, source)                -> new code, same state; owner only (for now)

Who may deploy is a hook, ``may_deploy(ctx, name, code_hash) -> bool`` (and ``may_upgrade``): a dev chain
allows everyone; governance plugs its approval check in here.

A contract owned by :data:`CONSORTIUM` (``bytes(20)``: deployed at genesis, e.g. the apps of
``consortia.apps``) has no owner key: anyone may submit its upgrade, and the upgrade happens
only when an explicit ``may_upgrade`` hook (governance: that exact code approved) allows it.
Under the allow-everyone default nobody can upgrade it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consortia.codec import encode
from consortia.contracts.python.api import address_of
from consortia.contracts.python.errors import (
    BadArguments,
    ContractExists,
    DeployDenied,
    NoSuchContract,
    NoSuchMethod,
    NotContractOwner,
)
from consortia.contracts.python.host import PythonContractHost, as_reader
from consortia.contracts.python.layout import (
    ContractMeta,
    address_key,
    code_key,
    decode_meta,
    encode_meta,
    meta_key,
    valid_name,
    version_key,
)
from consortia.contracts.python.limits import DEPLOY_BYTES_PER_STEP, DEPLOY_STEPS_BASE, MAX_NAME_LEN
from consortia.contracts.python.plain_data import decode_args
from consortia.contracts.python.source_hash import code_hash_of
from consortia.execution.context import CallContext
from consortia.execution.state_view import StateReader

NAME = "contracts"
CONSORTIUM = bytes(20)
"""The owner of a contract deployed at genesis for the whole consortium: upgradable by anyone
submitting governance-approved code, never by a key of its own."""
DeployHook = Callable[[CallContext, str, bytes], bool]
"""``(ctx, contract name, sha256 of the source) -> allowed``."""


def allow_everyone(ctx: CallContext, name: str, code_hash: bytes) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ContractInfo:
    name: str
    version: int
    code_hash: bytes
    owner: bytes
    height: int
    versions: list[bytes]
    """Code hash of every version, oldest first."""


def contract_info(
    state: StateReader | Callable[[bytes], bytes | None], name: str
) -> ContractInfo | None:
    """The deployed contract ``name``'s current version, code hash, owner and history."""
    reader = as_reader(state)
    raw = reader.get(meta_key(name)) if valid_name(name) else None
    if raw is None:
        return None
    meta = decode_meta(raw)
    versions = [reader.get(version_key(name, v)) or b"" for v in range(1, meta.version + 1)]
    return ContractInfo(name, meta.version, meta.code_hash, meta.owner, meta.height, versions)


def read_source(state: StateReader | Callable[[bytes], bytes | None], code_hash: bytes) -> str | None:
    raw = as_reader(state).get(code_key(code_hash))
    return None if raw is None else raw.decode("utf-8")


class ContractRegistry:
    name = NAME

    def __init__(
        self,
        host: PythonContractHost,
        may_deploy: DeployHook = allow_everyone,
        may_upgrade: DeployHook | None = None,
        reserved_names: frozenset[str] = frozenset({NAME, "currency"}),
    ) -> None:
        self.host = host
        self.may_deploy = may_deploy
        self.may_upgrade = may_upgrade or may_deploy
        self.governed_upgrades = self.may_upgrade is not allow_everyone
        """Whether upgrades meet a real approval check (consortium-owned contracts need one)."""
        self.reserved_names = reserved_names

    def call(self, ctx: CallContext, method: str, args: bytes) -> None:
        values = decode_args(args)
        if method == "deploy":
            name, source, init_args = self.deploy_args(values)
            self.deploy(ctx, name, source, init_args)
        elif method == "upgrade":
            if len(values) != 2:
                raise BadArguments("upgrade takes [name, source]")
            name, source = self.check_name_and_source(values[0], values[1])
            self.upgrade(ctx, name, source)
        else:
            raise NoSuchMethod(f"contract {NAME!r} has no method {method!r}; methods: ['deploy', 'upgrade']")

    def deploy_args(self, values: list[Any]) -> tuple[str, str, list[Any]]:
        if len(values) not in (2, 3) or (len(values) == 3 and not isinstance(values[2], list)):
            raise BadArguments("deploy takes [name, source] or [name, source, init_args: list]")
        name, source = self.check_name_and_source(values[0], values[1])
        return name, source, values[2] if len(values) == 3 else []

    def check_name_and_source(self, name: Any, source: Any) -> tuple[str, str]:
        if not valid_name(name):
            raise BadArguments(
                f"contract names are lowercase letters, digits and _, starting with a letter, "
                f"at most {MAX_NAME_LEN} characters; got {name!r}"
            )
        if name in self.reserved_names:
            raise DeployDenied(f"{name!r} is the name of a system contract")
        if not isinstance(source, str):
            raise BadArguments("contract source must be text")
        return name, source

    def deploy(self, ctx: CallContext, name: str, source: str, init_args: list[Any]) -> None:
        if not self.may_deploy(ctx, name, code_hash_of(source)):
            raise DeployDenied(f"deploying {name!r} with this code needs approval on this chain")
        if ctx.state.get(meta_key(name)) is not None:
            raise ContractExists(f"a contract named {name!r} already exists; use upgrade")
        host = self.host
        with host.lock:
            host.meter.reset(host.budget_for(ctx))
            try:
                self.charge_source(source)
                loaded = host.compile(source)
                self.store(ctx, name, source, ContractMeta(loaded.code_hash, 1, ctx.sender, ctx.block.height))
                host.run_init(ctx, name, loaded, init_args)
            finally:
                ctx.steps += host.meter.used
        ctx.emit(NAME, "Deployed", encode_event(name, loaded.code_hash, 1))

    def upgrade(self, ctx: CallContext, name: str, source: str) -> None:
        raw = ctx.state.get(meta_key(name))
        if raw is None:
            raise NoSuchContract(f"no contract named {name!r}")
        meta = decode_meta(raw)
        if meta.owner == CONSORTIUM:
            if not self.governed_upgrades:
                raise DeployDenied(
                    f"{name!r} belongs to the consortium: it is upgraded only to code governance "
                    "approved, and this chain has no approval check"
                )
        elif ctx.sender != meta.owner:
            raise NotContractOwner(f"only the owner of {name!r} may upgrade it")
        if not self.may_upgrade(ctx, name, code_hash_of(source)):
            raise DeployDenied(f"upgrading {name!r} to this code needs approval on this chain")
        host = self.host
        with host.lock:
            host.meter.reset(host.budget_for(ctx))
            try:
                self.charge_source(source)
                loaded = host.compile(source)
            finally:
                ctx.steps += host.meter.used
        version = meta.version + 1
        self.store(ctx, name, source, ContractMeta(loaded.code_hash, version, meta.owner, ctx.block.height))
        ctx.emit(NAME, "Upgraded", encode_event(name, loaded.code_hash, version))

    def charge_source(self, source: str) -> None:
        """A deterministic cost for checking and loading (whether or not the code is cached)."""
        self.host.meter.charge(DEPLOY_STEPS_BASE + len(source.encode("utf-8")) // DEPLOY_BYTES_PER_STEP)

    @staticmethod
    def store(ctx: CallContext, name: str, source: str, meta: ContractMeta) -> None:
        state = ctx.state
        if state.get(code_key(meta.code_hash)) is None:
            state.set(code_key(meta.code_hash), source.encode("utf-8"))
        state.set(meta_key(name), encode_meta(meta))
        state.set(address_key(address_of(name)), name.encode("utf-8"))
        state.set(version_key(name, meta.version), meta.code_hash)


def encode_event(name: str, code_hash: bytes, version: int) -> bytes:
    return encode({"code_hash": code_hash, "name": name, "version": version})
