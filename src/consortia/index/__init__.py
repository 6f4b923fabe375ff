"""The SQL mirror of the chain: history and queries (SQLite embedded, PostgreSQL at scale).

* :mod:`.schema` — the tables (SQLAlchemy Core), the same on both backends;
* :mod:`.extract` — pure: one committed block and its receipts in, the rows it adds out;
* :mod:`.database` — engines, Alembic migrations, writing one block per SQL transaction;
* :mod:`.follower` — the thread that follows commits in order, off the consensus path;
* :mod:`.queries` — paged, bounded reads (account history, transactions, events, objects);
* :mod:`.check` — compares the index with the chain (``consortia index check``).

See ``docs/decisions/0015-sql-index.md``.
"""
