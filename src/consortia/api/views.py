"""The shapes of the REST API's JSON bodies, as the route handlers build them (``TypedDict``s,
so a body is still a plain dict and its JSON is unchanged) and as ``/openapi.json`` describes
them (:mod:`consortia.api.schema_gen` reads these same types; decisions/0023)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from consortia.consensus.evidence import ProposalEquivocation, VoteEquivocation
from consortia.types.block import Header
from consortia.types.consensus import QuorumCert


class ErrorBody(TypedDict):
    """Every error: a stable machine-readable code, a message for people, and details."""

    code: str
    message: str
    details: NotRequired[dict[str, Any]]


class StatusView(TypedDict):
    """Chain and node status; the consensus fields once the node's consensus runs."""

    chain_id: str
    suite: str
    genesis_hash: str
    node: str
    validator_index: int
    validators: int
    height: int
    block_id: str
    state_root: str
    round: int
    timestamp_ms: int
    mempool: int
    max_block_txs: int
    version: str
    warnings: list[str]
    api_access: Literal["signed", "open"]
    """"signed": callers sign their requests (a chain with organisations, api_auth on);
    "open": anyone reads (a development chain)."""
    epoch: NotRequired[int]
    validator: NotRequired[int | None]
    consensus_round: NotRequired[int | None]
    leader: NotRequired[int | None]
    peer_events_dropped: NotRequired[int]
    halted: NotRequired[str | None]
    peers: NotRequired[list[int]]


class AdmittedView(TypedDict):
    """One submitted transaction: its hash and whether the mempool took it (else the error)."""

    tx_hash: str | None
    accepted: bool
    error: NotRequired[ErrorBody]


class BatchView(TypedDict):
    accepted: int
    rejected: int
    results: list[AdmittedView]


class EventView(TypedDict):
    """An event: raw data (hex) and its decoded fields."""

    contract: str
    name: str
    data: str
    fields: dict[str, Any]


class ReceiptView(TypedDict):
    """A receipt: status ``ok`` or an error code, the error's message, steps used, events."""

    tx_hash: str
    status: str
    error: str
    steps: int
    events: list[EventView]


class TxDecoded(TypedDict):
    """A transaction's wire bytes decoded; bytes that are not a transaction give only ``hash``,
    ``raw`` and ``error``."""

    hash: str
    raw: str
    sender: NotRequired[str | None]
    public_key: NotRequired[str]
    nonce: NotRequired[int]
    expiry: NotRequired[int]
    chain_id: NotRequired[str]
    contract: NotRequired[str]
    method: NotRequired[str]
    value: NotRequired[int]
    args: NotRequired[Any]
    args_named: NotRequired[Any]
    args_raw: NotRequired[str]
    signature: NotRequired[str]
    error: NotRequired[str]


class BlockTxView(TxDecoded):
    """A transaction of a block, decoded, with its receipt."""

    receipt: NotRequired[ReceiptView]


class TxCommittedView(TypedDict):
    """A committed transaction: where it is, its receipt, wire hex (``tx``) and ``decoded``."""

    tx_hash: str
    status: Literal["committed"]
    height: int
    index: int
    block_id: str
    receipt: ReceiptView
    tx: str
    decoded: TxDecoded


class TxPendingView(TypedDict):
    tx_hash: str
    status: Literal["pending"]


class TxDroppedView(TypedDict):
    """A transaction the pool dropped uncommitted: it can never commit, for ``reason``."""

    tx_hash: str
    status: Literal["dropped"]
    reason: str


class BlockView(TypedDict):
    """A block: header, certificate, transaction hashes and each transaction decoded."""

    id: str
    header: Header
    qc: QuorumCert
    txs: list[str]
    transactions: list[BlockTxView]


class BlockSummary(TypedDict):
    height: int
    id: str
    timestamp_ms: int
    tx_count: int
    proposer: int
    round: int


class BlockListView(TypedDict):
    blocks: list[BlockSummary]


class AccountView(TypedDict):
    """An account's balance and nonces (``next_nonce`` counts its pending transactions)."""

    address: str
    exists: bool
    balance: int
    nonce: int
    next_nonce: int
    pending: int
    height: int


class EvidenceItem(TypedDict):
    """Misbehaviour of a validator recorded on chain, with its proof."""

    key: str
    height: int
    kind: str
    offender: int
    round: int
    evidence: ProposalEquivocation | VoteEquivocation


class EvidenceListView(TypedDict):
    evidence: list[EvidenceItem]


class TxSubmitBody(TypedDict):
    """One signed transaction's wire bytes as hex."""

    tx: str


class TxBatchBody(TypedDict):
    txs: list[str]


class ViewAnswer(TypedDict):
    """An application's read-only answer on the committed head: the head ``height`` when the
    route names it, and the fields of the application's view (plain JSON, as the contract's
    view returns it)."""

    height: NotRequired[int]


class ContractVersion(TypedDict):
    version: int
    code_hash: str


class MethodSpec(TypedDict):
    """A method of a contract's ABI: kind (``public``/``view``), parameter names, each
    parameter's declared type (``int``, ``str``, ``bytes``, ``bool``; null: undeclared) and the
    result shape its return annotation declares (null: none; see contracts/python/shapes.py)."""

    kind: str
    params: list[str]
    types: list[str | None]
    returns: dict[str, Any] | None


class ContractInfoView(TypedDict):
    """A deployed contract: its current version and code hash, owner, every version, methods."""

    name: str
    version: int
    code_hash: str
    owner: str
    height: int
    versions: list[ContractVersion]
    methods: dict[str, MethodSpec]


class ContractSourceView(TypedDict):
    name: str
    version: int
    code_hash: str
    source: str


class ContractViewResult(TypedDict):
    """A view's result on the committed head (plain JSON, as the contract returns it)."""

    contract: str
    method: str
    height: int
    result: Any


class ViewArgsBody(TypedDict):
    args: NotRequired[list[Any]]


class ServerEntry(TypedDict):
    url: str
    description: str


class OpenApiDocument(TypedDict):
    """This document: OpenAPI 3.1 (its own schema is the OpenAPI specification's)."""

    openapi: str
    servers: list[ServerEntry]
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
