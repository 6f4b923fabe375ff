"""Smart contracts written in Python: a checked, deterministic, metered subset.

- :mod:`.checker` refuses unsafe source at deploy time (line and rule in every rejection);
- :mod:`.instrument` and :mod:`.metering` make code pay steps for what it does;
- :mod:`.api` is what contract source imports as ``consortia_contract``;
- :mod:`.host` runs deployed contracts, :mod:`.registry` deploys and upgrades them;
- :mod:`.testing` is an in-memory chain for contract authors' tests.
"""

from consortia.contracts.python.checker import check_source
from consortia.contracts.python.errors import (
    BadArguments,
    CallTooDeep,
    ContractExists,
    ContractFailed,
    ContractRejected,
    DeployDenied,
    NoSuchContract,
    NoSuchMethod,
    NotContractOwner,
    OutOfSteps,
    ReadOnlyViolation,
    ResourceLimit,
)
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.registry import ContractInfo, ContractRegistry, contract_info

__all__ = [
    "BadArguments",
    "CallTooDeep",
    "ContractExists",
    "ContractFailed",
    "ContractInfo",
    "ContractRegistry",
    "ContractRejected",
    "DeployDenied",
    "NoSuchContract",
    "NoSuchMethod",
    "NotContractOwner",
    "OutOfSteps",
    "PythonContractHost",
    "ReadOnlyViolation",
    "ResourceLimit",
    "check_source",
    "contract_info",
]
