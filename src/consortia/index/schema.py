"""The index's tables, the same on SQLite and PostgreSQL (SQLAlchemy Core).

Two kinds of table:

* **per-height facts** (``blocks``, ``txs``, ``events``, ``event_parties``, ``movements``,
  ``account_history``, ``alerts``, ``votes``, ``trace_links``, ``trace_edges``): rows are only
  ever inserted, each carries the height of the block it came from, and a block's rows are
  exactly what :func:`~.extract.block_rows` derives from that block — so ``consortia index
  check`` compares them height by height;
* **objects** (``proposals``, ``wallets``, ``trace_items``): one row per object, changed by later
  blocks (a proposal closes, a wallet changes tier, an item changes hands); they are a fold of
  the per-block object changes in height order.

``index_state`` holds the one row saying which chain this is and the last indexed height; it is
written in the same SQL transaction as that block's rows (resumable with no gap and no duplicate).

Amounts reach ``2**64 - 1``: more than a signed 64-bit integer, so they are ``NUMERIC(20)`` on
PostgreSQL and, on SQLite (whose integers are signed 64-bit), an integer when it fits and its
decimal text otherwise — read back as a Python ``int`` either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    types,
)

SCHEMA_VERSION = 2
_I64_MAX = 2**63 - 1


class Amount(types.TypeDecorator[int]):
    """A non-negative amount up to ``2**64 - 1``, exact on both backends."""

    impl = Numeric(20, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteAmount())
        return dialect.type_descriptor(Numeric(20, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return value if value <= _I64_MAX else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class _SqliteAmount(types.UserDefinedType[Any]):
    """An amount column on SQLite, declared ``BLOB`` for its *affinity*: SQLite converts nothing
    stored in such a column, so integers stay integers and the rare amount above the signed
    64-bit range stays exact decimal text (any other declared name, e.g. ``AMOUNT``, would get
    NUMERIC affinity, which turns that text into a lossy REAL)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "BLOB"


metadata = MetaData()

Address = LargeBinary  # 20 bytes
Hash = LargeBinary  # 32 bytes

index_state = Table(
    "index_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("chain_id", Text, nullable=False),
    Column("genesis_hash", Hash, nullable=False),
    Column("height", BigInteger, nullable=False),  # last indexed height, -1 before genesis
    Column("block_id", Hash, nullable=True),
)

blocks = Table(
    "blocks", metadata,
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("block_id", Hash, nullable=False, unique=True),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("proposer", Integer, nullable=False),
    Column("tx_count", Integer, nullable=False),
    Column("receipt_count", Integer, nullable=False),
    Column("state_root", Hash, nullable=False),
)

txs = Table(
    "txs", metadata,
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("idx", Integer, primary_key=True, autoincrement=False),  # receipt index in the block
    Column("tx_hash", Hash, nullable=False, unique=True),
    Column("scheduled", Boolean, nullable=False),  # a scheduled call's receipt (no transaction)
    Column("sender", Address, nullable=True),
    Column("nonce", BigInteger, nullable=True),
    Column("contract", Text, nullable=True),
    Column("method", Text, nullable=True),
    Column("value", Amount, nullable=False),
    Column("args", Text, nullable=True),  # decoded arguments, JSON (api/tx_view)
    Column("status", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("steps", BigInteger, nullable=False),
    Column("event_count", Integer, nullable=False),
)
Index("ix_txs_contract", txs.c.contract, txs.c.method, txs.c.height, txs.c.idx)
Index("ix_txs_status", txs.c.status, txs.c.height, txs.c.idx)
Index("ix_txs_sender", txs.c.sender, txs.c.height, txs.c.idx)

events = Table(
    "events", metadata,
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),
    Column("ev_idx", Integer, primary_key=True, autoincrement=False),
    Column("tx_hash", Hash, nullable=False),
    Column("contract", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("fields", Text, nullable=False),  # decoded fields, JSON (api/tx_view.event_fields)
)
Index("ix_events_contract", events.c.contract, events.c.name, events.c.height, events.c.tx_idx,
      events.c.ev_idx)

event_parties = Table(
    "event_parties", metadata,
    Column("address", Address, primary_key=True),
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),
    Column("ev_idx", Integer, primary_key=True, autoincrement=False),
    Column("contract", Text, nullable=False),
)
Index("ix_event_parties_height", event_parties.c.height)

movements = Table(
    "movements", metadata,
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),  # -1: genesis allocation
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("tx_hash", Hash, nullable=True),
    Column("kind", Text, nullable=False),
    Column("from_addr", Address, nullable=True),  # None: money created (issue, genesis)
    Column("to_addr", Address, nullable=True),  # None: money destroyed (redeem)
    Column("amount", Amount, nullable=False),
)

account_history = Table(
    "account_history", metadata,
    Column("address", Address, primary_key=True),
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("role", Text, nullable=False),  # call | out | in
    Column("kind", Text, nullable=True),  # movement kind (transfer, fund, value, payout, ...)
    Column("counterparty", Address, nullable=True),
    Column("amount", Amount, nullable=True),
    Column("tx_hash", Hash, nullable=True),
    Column("contract", Text, nullable=True),
    Column("method", Text, nullable=True),
    Column("status", Text, nullable=False),
)
Index("ix_account_history_height", account_history.c.height)

alerts = Table(
    "alerts", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("height", BigInteger, nullable=False),
    Column("tx_idx", Integer, nullable=False),
    Column("address", Address, nullable=False),
    Column("rule", Text, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("tx_hash", Hash, nullable=False),
    Column("detail", Text, nullable=False),
)
Index("ix_alerts_address", alerts.c.address, alerts.c.id)
Index("ix_alerts_height", alerts.c.height)

votes = Table(
    "votes", metadata,
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),
    Column("ev_idx", Integer, primary_key=True, autoincrement=False),
    Column("proposal_id", BigInteger, nullable=False),
    Column("org", Text, nullable=False),
    Column("voter", Address, nullable=False),
    Column("approve", Boolean, nullable=False),
)
Index("ix_votes_proposal", votes.c.proposal_id)

proposals = Table(
    "proposals", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", Text, nullable=False),
    Column("proposer", Address, nullable=False),
    Column("org", Text, nullable=False),
    Column("deadline_height", BigInteger, nullable=False),
    Column("created_height", BigInteger, nullable=False),
    Column("status", Text, nullable=False),  # open, then the governance contract's final status
    Column("outcome", Text, nullable=False),
    Column("closed_height", BigInteger, nullable=True),
)

wallets = Table(
    "wallets", metadata,
    Column("address", Address, primary_key=True),
    Column("org", Text, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("status", Text, nullable=False),  # open | closed
    Column("opened_height", BigInteger, nullable=False),
    Column("updated_height", BigInteger, nullable=False),
    Column("swept", Amount, nullable=True),
)
Index("ix_wallets_org", wallets.c.org, wallets.c.address)

# --- apps/trace (issue 18, decisions/0021; revision 0002) ------------------------------------

trace_links = Table(
    "trace_links", metadata,
    Column("item", Text, primary_key=True),
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),
    Column("ev_idx", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),  # the trace event's name (Observed, Certified, ...)
    Column("role", Text, nullable=False),  # subject | parent | child | input | output | moved | alerted
)
Index("ix_trace_links_height", trace_links.c.height)
Index("ix_trace_links_name", trace_links.c.item, trace_links.c.name)

trace_edges = Table(
    "trace_edges", metadata,
    Column("height", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_idx", Integer, primary_key=True, autoincrement=False),
    Column("ev_idx", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("src", Text, nullable=False),  # upstream: a transformation's input, an aggregation's child
    Column("dst", Text, nullable=False),  # downstream: the output, the container
    Column("kind", Text, nullable=False),  # transform | aggregate
)
Index("ix_trace_edges_dst", trace_edges.c.dst, trace_edges.c.src)
Index("ix_trace_edges_src", trace_edges.c.src, trace_edges.c.dst)

trace_items = Table(
    "trace_items", metadata,
    Column("item", Text, primary_key=True),
    Column("kind", Text, nullable=False),  # serial | batch | unit | iii
    Column("product", Text, nullable=False),
    Column("producer", Address, nullable=False),
    Column("holder", Address, nullable=False),
    Column("public", Text, nullable=False),  # JSON list of the fields the producer made public
    Column("status", Text, nullable=False),  # active | consumed
    Column("container", Text, nullable=True),
    Column("pending_to", Address, nullable=True),
    Column("recall_reason", Text, nullable=True),
    Column("recall_by", Address, nullable=True),
    Column("recall_height", BigInteger, nullable=True),
    Column("affected", Text, nullable=False),  # JSON list of the recalled items this one comes from
    Column("registered_height", BigInteger, nullable=False),
    Column("registered_ms", BigInteger, nullable=False),
    Column("updated_height", BigInteger, nullable=False),
)
Index("ix_trace_items_holder", trace_items.c.holder, trace_items.c.item)

PER_HEIGHT: tuple[Table, ...] = (
    blocks, txs, events, event_parties, movements, account_history, alerts, votes, trace_links, trace_edges,
)
"""Tables whose rows belong to one block (``height`` column), inserted once, never changed."""
OBJECTS: tuple[Table, ...] = (proposals, wallets, trace_items)
"""Tables of objects that later blocks change (a fold of object changes in height order)."""
ALL_TABLES: tuple[Table, ...] = (index_state, *PER_HEIGHT, *OBJECTS)
