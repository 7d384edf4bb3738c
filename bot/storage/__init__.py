"""This package contains all persistence: SQLite through aiosqlite. No SQL lives elsewhere."""
