"""Typed errors of the Python contract runtime; each ``code`` reaches the receipt and the caller."""

from __future__ import annotations

from consortia.errors import ConsortiaError


class ContractRejected(ConsortiaError):
    """Source refused at deploy time: ``line`` and ``rule`` say where and why."""

    code = "contract_rejected"

    def __init__(self, message: str, *, line: int, rule: str) -> None:
        super().__init__(f"line {line}: {message} [rule: {rule}]", line=line, rule=rule)
        self.line = line
        self.rule = rule
        self.reason = message


class ContractFailed(ConsortiaError):
    """The contract stopped the call (``require``/``fail``) or its code raised; the message is
    the contract's own."""

    code = "contract_error"


class OutOfSteps(ConsortiaError):
    """The call used its whole step budget. Contract code cannot catch it."""

    code = "out_of_steps"


class CallTooDeep(ConsortiaError):
    """Too many nested function or contract calls."""

    code = "call_too_deep"


class ResourceLimit(ConsortiaError):
    """A value grew past a limit (integer bits, sequence length, stored value size)."""

    code = "resource_limit"


class ReadOnlyViolation(ConsortiaError):
    """A view (or a call made from a view) tried to change state or emit an event."""

    code = "read_only"


class ContractViolations(ConsortiaError):
    """Source that breaks the contract rules, checked locally before anything is signed: every
    violation, each with its line and rule (``details["violations"]``)."""

    code = "contract_rejected"

    def __init__(self, where: str, violations: list[ContractRejected]) -> None:
        listed = "; ".join(v.message for v in violations)  # each "line N: ... [rule: r]"
        super().__init__(
            f"{where} breaks {len(violations)} contract rule(s): {listed}",
            violations=[{"line": v.line, "rule": v.rule, "message": v.reason} for v in violations],
        )
        self.violations = violations


class NotAView(ConsortiaError):
    """A query asked for a method that changes state: it must be sent in a transaction."""

    code = "not_a_view"


class ResultShapeMismatch(ConsortiaError):
    """A view returned a value that is not the shape its return annotation declares (a bug in
    the contract, reported instead of an answer its callers would misread)."""

    code = "bad_result"


class NoSuchContract(ConsortiaError):
    code = "no_such_contract"


class NoSuchMethod(ConsortiaError):
    code = "no_such_method"


class BadArguments(ConsortiaError):
    code = "bad_arguments"


class DeployDenied(ConsortiaError):
    code = "deploy_denied"


class ContractExists(ConsortiaError):
    code = "contract_exists"


class NotContractOwner(ConsortiaError):
    code = "not_contract_owner"
