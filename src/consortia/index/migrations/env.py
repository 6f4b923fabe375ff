"""Alembic environment of the index: run with the connection the caller passes in
(``config.attributes["connection"]``), never from an ini file."""

from __future__ import annotations

from alembic import context

from consortia.index.schema import metadata

VERSION_TABLE = "index_schema_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
