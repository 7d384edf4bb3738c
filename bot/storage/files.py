"""This module contains the modes of the database's files: readable by the bot's user only.

The database, its ``-wal`` and ``-shm`` files, backups and the copies a restore keeps hold
personal data. They are made 0600 whatever the umask: SQLite gives the ``-wal``, ``-shm`` and
journal files the mode of their database file, so a database created private stays private.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: The mode of every file with personal data: the owner (the bot's user) reads and writes it.
PRIVATE_MODE = 0o600
#: What SQLite keeps beside a database file while it is open.
SIDECARS = ("-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Create ``path`` empty and private (fails if it exists): an empty file is an empty
    SQLite database, so SQLite then opens a file nobody else could read, not even for a moment."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    path.chmod(PRIVATE_MODE)  # exactly 0600: os.open's mode was narrowed by the umask only


def make_private(database: Path) -> None:
    """Make an existing database and its sidecar files 0600 (files of an older version, or
    made under a loose umask); one that is not ours to change is left, with a warning."""
    for path in (database, *(database.with_name(database.name + end) for end in SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mode & 0o077:
                try:
                    path.chmod(PRIVATE_MODE)
                except OSError as error:
                    log.warning(
                        "%s is readable by others and cannot be made private: %s",
                        path,
                        error.strerror,
                    )


def prepare(database: Path) -> None:
    """Before SQLite opens ``database``: create it private if it is new, else tighten it."""
    try:
        create_private(database)
    except FileExistsError:
        make_private(database)
