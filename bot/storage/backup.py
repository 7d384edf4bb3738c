"""This module contains backups and restores of the database file.

A backup is taken with SQLite's online backup API while the bot keeps running: in WAL mode
readers never block the writer, and copying every page in one step reads one consistent
snapshot (a step-by-step copy would restart each time the bot writes). A restore refuses a file
that is not a healthy Sportello database, and refuses to run while the bot holds the database.

Every file made here (a backup, a restored database, the ``.bak`` a restore leaves) holds
personal data and is readable by its owner only (mode 0600), from the moment it is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from bot.storage.migrations import MIGRATIONS

#: Tables every Sportello database has had since its first migrations.
_REQUIRED_TABLES = frozenset({"sessions", "outbox"})
#: Names of timestamped backups in a folder, as ``sportello backup --keep N FOLDER`` writes them.
BACKUP_PREFIX, BACKUP_SUFFIX = "sportello-", ".sqlite3"
#: The mode of every copy: the owner (the bot's user) reads and writes it, nobody else.
PRIVATE_MODE = 0o600


class BackupError(Exception):
    """A backup or restore could not be done; the message says why in plain words."""


@dataclass(frozen=True)
class DatabaseInfo:
    """What a check of a database file found."""

    path: Path
    schema_version: int
    latest_version: int
    size_bytes: int

    @property
    def pending(self) -> int:
        return max(0, self.latest_version - self.schema_version)


def latest_version() -> int:
    return MIGRATIONS[-1][0] if MIGRATIONS else 0


def inspect(path: Path) -> DatabaseInfo:
    """Check that ``path`` is an intact Sportello database this program knows how to use.

    Raises :class:`BackupError` otherwise. The file is opened read-only and never changed.
    """
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be opened: {error}") from error
    try:
        try:
            result = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                str(row[0])
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not an SQLite database ({error})") from error
    finally:
        connection.close()
    if result != ["ok"]:
        raise BackupError(f"{path} is damaged: " + "; ".join(result[:5]))
    if version < 1 or not _REQUIRED_TABLES.issubset(tables):
        raise BackupError(f"{path} is not a Sportello database (no Sportello tables)")
    if version > latest_version():
        raise BackupError(
            f"{path} comes from a newer Sportello (schema {version}, this program knows "
            f"{latest_version()}): update the program first"
        )
    return DatabaseInfo(path, version, latest_version(), path.stat().st_size)


def in_use(path: Path) -> bool:
    """Whether another process (a running bot) has the database open.

    In WAL mode every open connection holds a shared lock on the database, so an exclusive
    lock is refused while the bot runs, even when it is idle.
    """
    if not path.exists():
        return False
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()
    return False


def _copy(source: Path, target: Path) -> None:
    """Copy a database with the backup API into a new private file, flushed to disk."""
    target.unlink(missing_ok=True)
    # Created empty and private before SQLite opens it (an empty file is an empty database):
    # the copy is never readable by others, not even for a moment. SQLite gives its journal
    # the database file's mode.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    target.chmod(PRIVATE_MODE)  # exactly 0600, whatever the umask
    source_connection = sqlite3.connect(source, timeout=30)
    try:
        target_connection = sqlite3.connect(target, isolation_level=None)
        try:
            # pages=-1 (all at once): one read transaction, so one consistent snapshot.
            source_connection.backup(target_connection, pages=-1)
            # A copy is one self-contained file: no -wal or -shm beside it, even when it is
            # opened later. The bot switches a restored database back to WAL when it opens it.
            target_connection.execute("PRAGMA journal_mode = DELETE")
        finally:
            target_connection.close()
    finally:
        source_connection.close()
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    """Make a rename durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def backup_file_name(now: datetime | None = None, tz: tzinfo = UTC) -> str:
    """``sportello-YYYYMMDD-HHMMSS.sqlite3``, the wall-clock time in ``tz``."""
    stamp = (now or datetime.now(tz)).astimezone(tz).strftime("%Y%m%d-%H%M%S")
    return f"{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"


def backup(source: Path, destination: Path, tz: tzinfo = UTC) -> Path:
    """Copy the live database to ``destination`` (a file, or a folder for a timestamped name).

    A name made for a folder carries the time of day in ``tz`` (the command passes
    SPORTELLO_TIMEZONE). The copy is written beside its destination under a temporary name,
    checked, then renamed: a destination file is never left half written.
    """
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (SPORTELLO_DB)")
    if destination.is_dir():
        destination = destination / backup_file_name(tz=tz)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        _copy(source, partial)
        inspect(partial)
        partial.replace(destination)
    except sqlite3.Error as error:
        raise BackupError(f"the backup failed: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    _sync_folder(destination.parent)
    return destination


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest timestamped backups in ``folder``; return the deleted."""
    backups = sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        path.unlink()
    return doomed


def restore(source: Path, target: Path, force: bool = False) -> Path | None:
    """Put the backup ``source`` in place of the database ``target``.

    The current database, if any, is kept as ``<target>.bak``; returns that path (or None).
    Both files are private (0600). Refuses while the bot has the database open, unless
    ``force``.
    """
    inspect(source)
    if not force and in_use(target):
        raise BackupError(
            f"{target} is in use: stop the bot first (systemctl stop sportello, or "
            "docker compose stop bot), then restore"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".restoring")
    previous: Path | None = None
    try:
        _copy(source, incoming)
        inspect(incoming)
        if target.exists():
            # A copy through SQLite (not a rename) so that what the WAL file still holds is
            # in the .bak too, and the WAL is folded back when the connection closes.
            previous = target.with_name(target.name + ".bak")
            _copy(target, previous)
        for sidecar in ("-wal", "-shm"):
            target.with_name(target.name + sidecar).unlink(missing_ok=True)
        incoming.replace(target)
    except sqlite3.Error as error:
        raise BackupError(f"the restore failed: {error}") from error
    finally:
        incoming.unlink(missing_ok=True)
    _sync_folder(target.parent)
    return previous


async def backup_async(source: Path, destination: Path, tz: tzinfo = UTC) -> Path:
    """:func:`backup` in a worker thread, so a running event loop keeps serving."""
    return await asyncio.to_thread(backup, source, destination, tz)
