"""trace tables (apps/trace, issue 18)

Revision ID: 0002
Revises: 0001

The provenance graph of apps/trace: ``trace_links`` (which events concern which item),
``trace_edges`` (transformation input -> output, aggregation child -> container) and
``trace_items`` (each item's holder, pending handover, recall). A database indexed before this
revision has the tables empty: `consortia index rebuild` fills them from the chain.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_links",
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ev_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("item", "height", "tx_idx", "ev_idx"),
    )
    op.create_index("ix_trace_links_height", "trace_links", ["height"], unique=False)
    op.create_index("ix_trace_links_name", "trace_links", ["item", "name"], unique=False)
    op.create_table(
        "trace_edges",
        sa.Column("height", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ev_idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("src", sa.Text(), nullable=False),
        sa.Column("dst", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("height", "tx_idx", "ev_idx", "seq"),
    )
    op.create_index("ix_trace_edges_dst", "trace_edges", ["dst", "src"], unique=False)
    op.create_index("ix_trace_edges_src", "trace_edges", ["src", "dst"], unique=False)
    op.create_table(
        "trace_items",
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("producer", sa.LargeBinary(), nullable=False),
        sa.Column("holder", sa.LargeBinary(), nullable=False),
        sa.Column("public", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("container", sa.Text(), nullable=True),
        sa.Column("pending_to", sa.LargeBinary(), nullable=True),
        sa.Column("recall_reason", sa.Text(), nullable=True),
        sa.Column("recall_by", sa.LargeBinary(), nullable=True),
        sa.Column("recall_height", sa.BigInteger(), nullable=True),
        sa.Column("affected", sa.Text(), nullable=False),
        sa.Column("registered_height", sa.BigInteger(), nullable=False),
        sa.Column("registered_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_height", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("item"),
    )
    op.create_index("ix_trace_items_holder", "trace_items", ["holder", "item"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_trace_items_holder", table_name="trace_items")
    op.drop_table("trace_items")
    op.drop_index("ix_trace_edges_src", table_name="trace_edges")
    op.drop_index("ix_trace_edges_dst", table_name="trace_edges")
    op.drop_table("trace_edges")
    op.drop_index("ix_trace_links_name", table_name="trace_links")
    op.drop_index("ix_trace_links_height", table_name="trace_links")
    op.drop_table("trace_links")
