"""The metaclass of every class a contract defines, and the guarded ``class`` statement."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from consortia.contracts.python.errors import ContractFailed


class UserMeta(type):
    """Marks contract classes (and their instances) as open to plain attribute access, and
    refuses changes to a class after it is built, so no state survives between calls."""

    _consortia_open = True
    _consortia_user = True

    def __setattr__(cls, name: str, value: Any) -> None:
        raise ContractFailed(f"cannot set attribute {name!r} on class {cls.__name__}")

    def __delattr__(cls, name: str) -> None:
        raise ContractFailed(f"cannot delete attribute {name!r} of class {cls.__name__}")


def build_class(func: Callable[[], None], name: str, *bases: Any, **kwargs: Any) -> type:
    """``__build_class__`` for contract modules: bases must be contract classes."""
    if kwargs:
        raise ContractFailed("class keywords are not allowed")
    for base in bases:
        if not isinstance(base, UserMeta):
            raise ContractFailed(
                f"class {name} may derive only from Contract or the contract's own classes"
            )
    cls: type = builtins.__build_class__(func, name, *bases, metaclass=UserMeta)  # type: ignore[attr-defined]
    return cls
