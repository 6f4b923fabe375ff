"""initial schema

Revision ID: 0001
Revises: (none)

The tables of the index at schema version 1 (see consortia.index.schema). A later schema change
is a new revision here, never an edit of this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from consortia.index.schema import Amount

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_history",
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("counterparty", sa.LargeBinary(), nullable=True),
        sa.Column("amount", Amount(), nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("contract", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("address", "height", "tx_idx", "seq"),
    )
    op.create_index("ix_account_history_height", "account_history", ["height"], unique=False)
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("tx_idx", sa.Integer(), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_address", "alerts", ["address", "id"], unique=False)
    op.create_index("ix_alerts_height", "alerts", ["height"], unique=False)
    op.create_table(
        "blocks",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_id", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("proposer", sa.Integer(), nullable=False),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.Column("receipt_count", sa.Integer(), nullable=False),
        sa.Column("state_root", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("height"),
        sa.UniqueConstraint("block_id"),
    )
    op.create_table(
        "event_parties",
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ev_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("contract", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("address", "height", "tx_idx", "ev_idx"),
    )
    op.create_index("ix_event_parties_height", "event_parties", ["height"], unique=False)
    op.create_table(
        "events",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ev_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=False),
        sa.Column("contract", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("height", "tx_idx", "ev_idx"),
    )
    op.create_index(
        "ix_events_contract", "events", ["contract", "name", "height", "tx_idx", "ev_idx"], unique=False
    )
    op.create_table(
        "index_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chain_id", sa.Text(), nullable=False),
        sa.Column("genesis_hash", sa.LargeBinary(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("block_id", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "movements",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("from_addr", sa.LargeBinary(), nullable=True),
        sa.Column("to_addr", sa.LargeBinary(), nullable=True),
        sa.Column("amount", Amount(), nullable=False),
        sa.PrimaryKeyConstraint("height", "tx_idx", "seq"),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("proposer", sa.LargeBinary(), nullable=False),
        sa.Column("org", sa.Text(), nullable=False),
        sa.Column("deadline_height", sa.BigInteger(), nullable=False),
        sa.Column("created_height", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("closed_height", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "txs",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("sender", sa.LargeBinary(), nullable=True),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("contract", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("value", Amount(), nullable=False),
        sa.Column("args", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("steps", sa.BigInteger(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("height", "idx"),
        sa.UniqueConstraint("tx_hash"),
    )
    op.create_index("ix_txs_contract", "txs", ["contract", "method", "height", "idx"], unique=False)
    op.create_index("ix_txs_sender", "txs", ["sender", "height", "idx"], unique=False)
    op.create_index("ix_txs_status", "txs", ["status", "height", "idx"], unique=False)
    op.create_table(
        "votes",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ev_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("org", sa.Text(), nullable=False),
        sa.Column("voter", sa.LargeBinary(), nullable=False),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("height", "tx_idx", "ev_idx"),
    )
    op.create_index("ix_votes_proposal", "votes", ["proposal_id"], unique=False)
    op.create_table(
        "wallets",
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("org", sa.Text(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("opened_height", sa.BigInteger(), nullable=False),
        sa.Column("updated_height", sa.BigInteger(), nullable=False),
        sa.Column("swept", Amount(), nullable=True),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_index("ix_wallets_org", "wallets", ["org", "address"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wallets_org", table_name="wallets")
    op.drop_table("wallets")
    op.drop_index("ix_votes_proposal", table_name="votes")
    op.drop_table("votes")
    op.drop_index("ix_txs_status", table_name="txs")
    op.drop_index("ix_txs_sender", table_name="txs")
    op.drop_index("ix_txs_contract", table_name="txs")
    op.drop_table("txs")
    op.drop_table("proposals")
    op.drop_table("movements")
    op.drop_table("index_state")
    op.drop_index("ix_events_contract", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_event_parties_height", table_name="event_parties")
    op.drop_table("event_parties")
    op.drop_table("blocks")
    op.drop_index("ix_alerts_height", table_name="alerts")
    op.drop_index("ix_alerts_address", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_account_history_height", table_name="account_history")
    op.drop_table("account_history")
