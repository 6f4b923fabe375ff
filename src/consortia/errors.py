"""Typed errors a user can act on.

Every rejection carries a stable machine-readable ``code`` (used by the REST API, the SDK and
the CLI's ``--json`` output) and a human message saying what was wrong and what to do.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConsortiaError(Exception):
    """Base of every error Consortia raises on purpose."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = {k: _plain(v) for k, v in self.details.items()}
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


# --- encoding -------------------------------------------------------------------------------


class DecodeError(ConsortiaError):
    """Bytes that are not a valid canonical encoding of the expected object."""

    code = "malformed"


# --- crypto ---------------------------------------------------------------------------------


class CryptoError(ConsortiaError):
    code = "crypto_error"


class BadSignature(CryptoError):
    code = "bad_signature"


class UnknownSuite(CryptoError):
    code = "unknown_suite"


class KeyFileError(CryptoError):
    code = "key_file_error"


# --- admission / execution ------------------------------------------------------------------


class TxRejected(ConsortiaError):
    """A transaction refused at admission; nothing was changed."""

    code = "rejected"


class WrongChainId(TxRejected):
    code = "wrong_chain_id"


class StaleNonce(TxRejected):
    code = "stale_nonce"


class FutureNonce(TxRejected):
    code = "future_nonce"


class TxExpired(TxRejected):
    code = "expired"


class UnknownSender(TxRejected):
    code = "unknown_sender"


class InsufficientBalance(TxRejected):
    code = "insufficient_balance"


class TxTooLarge(TxRejected):
    code = "oversize"
    http_status = 413


class DuplicateTx(TxRejected):
    code = "duplicate"
    http_status = 409


class MempoolFull(TxRejected):
    code = "mempool_full"
    http_status = 503


class SenderPoolFull(TxRejected):
    """One sender already has its limit of transactions waiting; wait for some to commit."""

    code = "sender_pool_full"
    http_status = 429


class OrgPoolFull(TxRejected):
    """The sender's organisation already fills its share of the pool."""

    code = "org_pool_full"
    http_status = 429


class ExpiryTooFar(TxRejected):
    code = "expiry_too_far"


class InvalidCall(TxRejected):
    code = "invalid_call"


class BatchTooLarge(TxRejected):
    code = "batch_too_large"
    http_status = 413


# --- queries --------------------------------------------------------------------------------


class NotFound(ConsortiaError):
    code = "not_found"
    http_status = 404


# --- verification ---------------------------------------------------------------------------


class FileUnreadable(ConsortiaError):
    """A file named on the command line cannot be read (missing, a directory, no permission)."""

    code = "file_unreadable"


class ProofError(ConsortiaError):
    """A proof, receipt or header that does not verify."""

    code = "invalid_proof"


class IntegrityError(ConsortiaError):
    """Data a node holds or received does not check out: it is there, but it is not what it
    claims to be (a re-executed block that differs from the certified one, a snapshot naming
    another block, stored records of another epoch). Not :class:`NotFound`: nothing is missing."""

    code = "integrity_error"
    http_status = 500


class StorageError(ConsortiaError):
    code = "storage_error"
    http_status = 500


class NodeHalted(StorageError):
    """The node stopped itself after a failure it must not work around (storage, a certified
    block it cannot execute); restart it once the cause is fixed."""

    code = "node_halted"


class ConfigError(ConsortiaError):
    code = "config_error"


class Timeout(ConsortiaError):
    code = "timeout"
    http_status = 504


class TxDropped(ConsortiaError):
    """An accepted transaction left the pool without being committed, and never will be
    (``reason``: expired, stale_nonce, account_frozen, follows_dropped, ...). Re-sign and resend
    if it is still wanted."""

    code = "tx_dropped"
    http_status = 410


def _all_subclasses(cls: type[ConsortiaError]) -> list[type[ConsortiaError]]:
    out: list[type[ConsortiaError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


def error_from_dict(data: dict[str, Any]) -> ConsortiaError:
    """Rebuild the typed error a node reported (``{"code", "message", "details"}``)."""
    code = str(data.get("code", "error"))
    message = str(data.get("message", "unknown error"))
    details = data.get("details") or {}
    for cls in _all_subclasses(ConsortiaError):
        if cls.code == code:
            err = cls(message, **details)
            break
    else:
        err = RemoteError(message, **details)
        err.remote_code = code
    return err


class RemoteError(ConsortiaError):
    """An error reported by a node whose code this client does not know."""

    code = "remote_error"
    remote_code = "remote_error"


class ConnectionFailed(ConsortiaError):
    code = "connection_failed"
    http_status = 503


# --- the API's edge (api/limits.py) ----------------------------------------------------------


class RateLimited(ConsortiaError):
    """Past one of the node's budgets for this caller: retry after ``details["retry_after_s"]``
    seconds (also the ``Retry-After`` header)."""

    code = "rate_limited"
    http_status = 429


class TooManyStreams(ConsortiaError):
    """This caller already holds as many event streams open as the node allows; close one."""

    code = "too_many_streams"
    http_status = 429
