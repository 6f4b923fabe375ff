"""A node's home directory: its configuration, genesis, validator key and data.

```
HOME/
  node.json        this node's settings (name, validator index, API and p2p addresses, peers)
  genesis.json     the chain's genesis, identical on every node
  validator.key    this validator's signing key
  data/            LMDB: blocks, state, indexes, persisted mempool, consensus safety data
```
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec

from consortia.codec.plain import from_plain, to_plain
from consortia.errors import ConfigError, DecodeError


class PeerConfig(msgspec.Struct, frozen=True):
    """Another node: its transport index (its certificate's ``validator-<index>``), address,
    and validator public key (so consensus can reach it whatever its place in the set).

    ``tls_spki_sha256`` and ``tls_ca_spki_sha256`` pin its TLS identity: the SHA-256 of its TLS
    certificate's public key and of the public key of its organisation's CA (see
    :mod:`consortia.p2p.pinning`). A node refuses to start with a peer that has no pin."""

    index: int
    host: str
    port: int
    public_key: bytes = b""
    tls_spki_sha256: bytes = b""
    tls_ca_spki_sha256: bytes = b""


class NotaryServiceConfig(msgspec.Struct, frozen=True):
    """The node's notarisation stamping service (``POST /v1/notary/stamp``; apps/notary). Off
    unless configured: ``key_file`` (absolute, or relative to the home) is the identity that signs
    the anchoring transactions; it must be used by nothing else (the service owns its nonces).
    An encrypted key file is opened with ``CONSORTIA_KEY_PASSWORD``."""

    key_file: str
    max_request_hashes: int = 10_000
    """Document hashes one request may carry."""
    max_pending_documents: int = 1_000_000
    """Documents accepted and not yet answered, over all clients."""
    max_pending_requests: int = 10_000
    """Requests accepted and not yet answered, over all clients."""


class HealthStoreConfig(msgspec.Struct, frozen=True):
    """The node's health record store (apps/health, ``/v1/health``). Off unless configured:
    ``key_file`` (absolute, or relative to the home) is the custodian identity of this hospital's
    node: records name its address, it opens their emergency copies of data keys and it signs
    the access-log transactions; it must be used by nothing else (the store owns its nonces)."""

    key_file: str
    max_record_bytes: int = 16 * 1024 * 1024
    """The largest ciphertext the store takes."""


class ReadAuditConfig(msgspec.Struct, frozen=True):
    """The read audit (issue 14, decisions/0026): overseers' reads of other organisations' data,
    logged in ``HOME/audit/reads/``; the log's head anchored on chain every
    ``anchor_interval_s`` and when a segment of ``segment_bytes`` closes, signed by the validator
    key unless ``anchor_key_file`` (absolute, or relative to the home) names another identity."""

    anchor_interval_s: int = 600
    segment_bytes: int = 16 * 1024 * 1024
    anchor_key_file: str = ""


class RateConfig(msgspec.Struct, frozen=True):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: int
    burst: int

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.burst < 1:
            raise ConfigError(f"node.json api_edge: a rate needs per_second >= 1 and burst >= 1, "
                              f"not {self.per_second}/{self.burst}")


def _rate(per_second: int, burst: int) -> RateConfig:
    return msgspec.field(default_factory=lambda: RateConfig(per_second, burst))  # type: ignore[no-any-return]


class ApiEdgeConfig(msgspec.Struct, frozen=True):
    """The API's edge (issue 14, decisions/0027): budgets per caller — an identity that signed
    its request, else the source address — for reads, submissions (a batch is one) and
    expensive queries; refused credentials per source address; event streams held open per
    caller; origins a browser may call from (none: CORS closed). ``exempt_loopback``: callers
    on 127.0.0.1/::1 pay nothing (a benchmark on the node's own machine; not behind a proxy)."""

    reads: RateConfig = _rate(200, 2_000)
    submissions: RateConfig = _rate(200, 2_000)
    expensive: RateConfig = _rate(20, 200)
    failed_auth: RateConfig = _rate(20, 1_000)
    streams_per_caller: int = 8
    exempt_loopback: bool = False
    cors_origins: list[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.streams_per_caller < 1:
            raise ConfigError("node.json api_edge: streams_per_caller must be at least 1")
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ConfigError(f"node.json api_edge: CORS origin {origin!r} is not "
                                  "http(s)://host[:port]")


class NodeConfig(msgspec.Struct, frozen=True):
    name: str
    validator_index: int
    api_host: str = "127.0.0.1"
    api_port: int = 8545
    p2p_host: str = "127.0.0.1"
    p2p_port: int = 26656
    peers: list[PeerConfig] = msgspec.field(default_factory=list)
    notary: NotaryServiceConfig | None = None
    health: HealthStoreConfig | None = None
    api_auth: bool = True
    """Ask every API caller who it is (signed requests, decisions/0021) on a chain with
    organisations; a chain without them keeps an open API whatever this says. ``false`` opens a
    chain with organisations to anyone who reaches the port (a closed lab only)."""
    read_audit: ReadAuditConfig | None = None
    """The read audit's settings; absent: the defaults of :class:`ReadAuditConfig`."""
    api_edge: ApiEdgeConfig | None = None
    """Rate limits, stream limits and CORS of the API; absent: the defaults of
    :class:`ApiEdgeConfig`."""
    api_tls: bool = False
    """Serve the API over HTTPS with this node's certificate (``tls/node.crt``, issued by its
    organisation's CA; clients trust ``tls/ca-bundle.pem``)."""


CONFIG_FILE = "node.json"
GENESIS_FILE = "genesis.json"
VALIDATOR_KEY_FILE = "validator.key"
NEXT_VALIDATOR_KEY_FILE = "validator.next.key"
"""A validator key made for a rotation governance decides; taken up at the epoch (decisions/0015)."""
RETIRED_VALIDATOR_KEY_FILE = "validator.retired.key"
DATA_DIR = "data"


def write_config(home: Path, config: NodeConfig) -> None:
    home.mkdir(parents=True, exist_ok=True)
    write_text_atomic(home / CONFIG_FILE, json.dumps(to_plain(config), indent=2) + "\n")


def load_config(home: Path) -> NodeConfig:
    path = home / CONFIG_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist: is {home} a node home?") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        return from_plain(NodeConfig, data)
    except DecodeError as exc:
        raise ConfigError(f"{path} is invalid: {exc.message}") from None


def write_text_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
