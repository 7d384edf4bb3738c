"""This module contains the database migrations, applied in order at start.

Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "conversation sessions",
        """
        CREATE TABLE sessions (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (channel, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX sessions_updated_at ON sessions (updated_at);
        """,
    ),
)
