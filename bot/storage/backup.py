"""This module contains backups and restores of the database file.

A backup is taken with SQLite's online backup API while the bot keeps running: in WAL mode
readers never block the writer, and copying every page in one step reads one consistent
snapshot (a step-by-step copy would restart each time the bot writes). A restore refuses a file
that is not a healthy Sportello database, and refuses to run while the bot holds the database.

Every file made here (a backup, a restored database, the ``.bak`` a restore leaves) holds
personal data and is readable by its owner only (mode 0600), from the moment it is created.
A copy is written under a temporary ``.partial`` name, locked while it is written: one left by
a backup that was killed is removed by the next backup (and by ``--keep``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from bot.storage import db
from bot.storage.files import PRIVATE_MODE, create_private
from bot.storage.instance import is_gone
from bot.storage.leases import INSTANCE, living_leases
from bot.storage.migrations import MIGRATIONS

__all__ = [
    "PRIVATE_MODE",
    "BackupError",
    "DatabaseInfo",
    "backup",
    "backup_async",
    "backup_file_name",
    "in_use",
    "inspect",
    "prune",
    "restore",
]

#: Tables every Sportello database has had since its first migrations.
_REQUIRED_TABLES = frozenset({"sessions", "outbox"})
#: Names of timestamped backups in a folder, as ``sportello backup --keep N FOLDER`` writes them.
BACKUP_PREFIX, BACKUP_SUFFIX = "sportello-", ".sqlite3"
#: What a copy is called while it is written.
PARTIAL = ".partial"
#: How every SQLite database file begins (a copy killed at once is still empty).
SQLITE_HEADER = b"SQLite format 3\x00"
#: A database's shape: its tables, each with its set of columns.
Shape = dict[str, frozenset[str]]


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
    """The schema number this program brings a database to (Alembic's head)."""
    return db.latest_version()


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
            tables = _shape(connection)
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
    differences = _differences(expected_shape(version), tables)
    if differences:
        raise BackupError(
            f"{path} says it is at schema version {version} but its tables do not match it ("
            + "; ".join(differences[:5])
            + ("; ..." if len(differences) > 5 else "")
            + "): it was changed by hand or is not a Sportello backup"
        )
    return DatabaseInfo(path, version, latest_version(), path.stat().st_size)


def _shape(connection: sqlite3.Connection) -> Shape:
    """The tables of a database (SQLite's own left out) and their columns."""
    names = [
        str(row[0])
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version'"  # Alembic's own: the number is checked apart
        )
    ]
    return {
        name: frozenset(
            str(row[1]) for row in connection.execute("SELECT * FROM pragma_table_info(?)", (name,))
        )
        for name in names
    }


@cache
def expected_shape(version: int) -> Shape:
    """The tables and columns of a database at schema ``version``: SQLite's own migrations up
    to it (17 at most), then Alembic's revisions up to its number, in a scratch database."""
    legacy_last = MIGRATIONS[-1][0]
    # One in-memory database, kept by the pool's one connection from start to end.
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.connect() as connection:
            scratch = connection.connection.driver_connection
            assert isinstance(scratch, sqlite3.Connection)
            for number, _name, script in MIGRATIONS:
                if number <= version:
                    scratch.executescript(script)
            if version > legacy_last:
                scratch.execute(f"PRAGMA user_version = {legacy_last}")
                with connection.begin():
                    db.upgrade_legacy(connection, version)
            return _shape(scratch)
    finally:
        engine.dispose()


def _differences(expected: Shape, found: Shape) -> list[str]:
    """What ``found`` lacks or has more than ``expected``, in short phrases."""
    differences = [f"no table {name}" for name in sorted(expected.keys() - found.keys())]
    differences += [f"unknown table {name}" for name in sorted(found.keys() - expected.keys())]
    for name in sorted(expected.keys() & found.keys()):
        differences += [f"no column {name}.{c}" for c in sorted(expected[name] - found[name])]
        differences += [f"unknown column {name}.{c}" for c in sorted(found[name] - expected[name])]
    return differences


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


@contextlib.contextmanager
def _held(path: Path) -> Iterator[int]:
    """Create ``path`` private and hold a lock on it while it is written: a file found
    unlocked under a temporary name was left by a copy that was killed."""
    path.unlink(missing_ok=True)
    create_private(path)
    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)  # the lock goes with it


def _copy(source: Path, target: Path) -> None:
    """Copy a database with the backup API into a new private file, flushed to disk."""
    # Created empty and private before SQLite opens it (an empty file is an empty database):
    # the copy is never readable by others, not even for a moment. SQLite gives its journal
    # the database file's mode.
    with _held(target) as descriptor:
        source_connection = sqlite3.connect(source, timeout=30)
        try:
            target_connection = sqlite3.connect(target, isolation_level=None)
            try:
                # pages=-1 (all at once): one read transaction, so one consistent snapshot.
                source_connection.backup(target_connection, pages=-1)
                # A copy is one self-contained file: no -wal or -shm beside it, even when it
                # is opened later. The bot switches a restored database back to WAL on opening.
                target_connection.execute("PRAGMA journal_mode = DELETE")
            finally:
                target_connection.close()
        finally:
            source_connection.close()
        os.fsync(descriptor)


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete the copies that killed backups left half written in ``folder`` (they hold
    personal data); one still being written (locked) is left alone."""
    removed = []
    for path in sorted(folder.glob(f"*{PARTIAL}")):
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # its backup finished meanwhile, or it is not ours to read
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.pread(descriptor, len(SQLITE_HEADER), 0) in (b"", SQLITE_HEADER):
                path.unlink(missing_ok=True)
                removed.append(path)
        except BlockingIOError:
            pass  # another backup is writing it now
        finally:
            os.close(descriptor)
    return removed


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
    remove_stale_partials(destination.parent)
    partial = destination.with_name(destination.name + PARTIAL)
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
    """Delete all but the ``keep`` newest timestamped backups in ``folder``, and what killed
    backups left half written; return the deleted."""
    backups = sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        path.unlink()
    return doomed + remove_stale_partials(folder)


def _kept_copy_name(target: Path, now: datetime) -> Path:
    """``<target>.YYYYMMDD-HHMMSS.bak`` (UTC), never one that exists: every restore keeps
    the database it replaced."""
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.name}.{stamp}.bak")
    number = 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.name}.{stamp}-{number}.bak")
    return candidate


def restore(source: Path, target: Path, force: bool = False) -> Path | None:
    """Put the backup ``source`` in place of the database ``target``.

    The current database, if any, is kept as ``<target>.YYYYMMDD-HHMMSS.bak`` (a new name each
    time: an earlier restore's copy is never overwritten); returns that path (or None). Both
    files are private (0600). Refuses while the bot has the database open, unless
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
            previous = _kept_copy_name(target, datetime.now(UTC))
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


#: A PostgreSQL backup: pg_dump's own archive (``--format=custom``), restored by pg_restore.
PG_BACKUP_SUFFIX = ".pgdump"
#: What to install where pg_dump or pg_restore is missing.
PG_TOOLS_ADVICE = (
    "install PostgreSQL's client tools, of the server's version or newer (Debian, Ubuntu: "
    "apt install postgresql-client; the Docker image has PostgreSQL 15's)"
)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: {PG_TOOLS_ADVICE}")
    return found


def _pg_arguments(address: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump's and pg_restore's arguments for a Sportello address, and their environment:
    the password only there (PGPASSWORD), never on a command line that ``ps`` shows."""
    url = make_url(address)
    schema = url.query.get(db.SCHEMA_PARAMETER)
    password = url.password
    plain = url.set(drivername="postgresql", password=None).difference_update_query(
        [db.SCHEMA_PARAMETER]
    )
    arguments = [f"--dbname={plain.render_as_string(hide_password=False)}"]
    if isinstance(schema, str) and schema:
        arguments.append(f"--schema={schema}")
    environment = dict(os.environ)
    if password:
        environment["PGPASSWORD"] = str(password)
    return arguments, environment


def _run(command: list[str], environment: dict[str, str], stdout: int | None = None) -> None:
    result = subprocess.run(
        command, env=environment, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        said = " ".join(result.stderr.split())[:500]
        raise BackupError(f"{Path(command[0]).name} failed: {said or result.returncode}")


def _pg_dump(address: str, file: Path) -> None:
    """The database (its schema, if the address names one) into ``file``, a private new file."""
    arguments, environment = _pg_arguments(address)
    with _held(file) as descriptor:
        _run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", *arguments],
            environment,
            stdout=descriptor,
        )
        os.fsync(descriptor)


def inspect_dump(path: Path) -> list[str]:
    """Check that ``path`` is a pg_dump archive of a Sportello database; the schemas its
    tables are in. Raises :class:`BackupError` otherwise."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    listing = subprocess.run(
        [_pg_tool("pg_restore"), "--list", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a pg_dump archive (custom format)")
    tables: dict[str, set[str]] = {}
    for line in listing.stdout.splitlines():
        # "215; 1259 16390 TABLE public sessions postgres"
        words = line.split()
        if len(words) >= 6 and not line.startswith(";") and words[3] == "TABLE":
            tables.setdefault(words[5], set()).add(words[4])
    if not _REQUIRED_TABLES.issubset(tables):
        raise BackupError(f"{path} is not a Sportello database (no Sportello tables)")
    return sorted(tables["sessions"])


def backup_postgresql(address: str, destination: Path, tz: tzinfo = UTC) -> Path:
    """``pg_dump --format=custom`` of the PostgreSQL database (its ``?schema=``, if named) to
    ``destination`` (a file, or a folder for a timestamped name), private and checked."""
    if destination.is_dir():
        destination = destination / backup_file_name(tz=tz).replace(BACKUP_SUFFIX, PG_BACKUP_SUFFIX)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + PARTIAL)
    try:
        _pg_dump(address, partial)
        inspect_dump(partial)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    _sync_folder(destination.parent)
    return destination


def prune_postgresql(folder: Path, keep: int) -> list[Path]:
    """:func:`prune` for pg_dump archives."""
    backups = sorted(folder.glob(f"{BACKUP_PREFIX}*{PG_BACKUP_SUFFIX}"))
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        path.unlink()
    return doomed + [
        path for path in sorted(folder.glob(f"*{PG_BACKUP_SUFFIX}{PARTIAL}")) if _stale(path)
    ]


def _stale(path: Path) -> bool:
    """A partial archive no pg_dump writes any more (unlocked): removed."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    path.unlink(missing_ok=True)
    return True


def running_instances(address: str) -> list[str]:
    """The holders of the ``serve`` instances running on the PostgreSQL database now: each
    holds its own lease (``instance:<holder>``) while it runs. One of this machine whose
    process has ended (killed) does not run, though its lease has not expired yet."""
    # A restore is synchronous, as SQLite's is; the leases are read by the async driver: on
    # a loop of its own, in a thread of its own, so that a caller's running loop is no matter.
    with ThreadPoolExecutor(max_workers=1) as worker:
        held = worker.submit(asyncio.run, living_leases(address, time.time())).result()
    return [
        lease.holder
        for lease in held
        if lease.name.startswith(INSTANCE) and not is_gone(lease.holder)
    ]


def restore_postgresql(source: Path, address: str, kept_in: Path, force: bool = False) -> Path:
    """Put the pg_dump archive ``source`` in place of the PostgreSQL database (its schema):
    the current data is first dumped to ``kept_in`` (returned), then ``pg_restore --clean
    --if-exists`` in one transaction (a failure changes nothing). Refuses while an instance
    of the bot runs on the database (:func:`running_instances`), unless ``force``."""
    schemas = inspect_dump(source)
    schema = make_url(address).query.get(db.SCHEMA_PARAMETER)
    expected = schema if isinstance(schema, str) and schema else "public"
    if expected not in schemas:
        raise BackupError(
            f"{source} holds the schema {', '.join(schemas)}, not {expected}: restore it into "
            f"an address with ?schema={schemas[0]}"
        )
    running = [] if force else running_instances(address)
    if running:
        machines = ", ".join(sorted({holder.split(":")[0] for holder in running}))
        raise BackupError(
            f"{db.shown(address)} is in use by {len(running)} running instance(s) of the bot "
            f"(on {machines}): stop the bot first (systemctl stop sportello, or docker compose "
            "stop), then restore; an instance that was killed counts until its lease expires "
            "(SPORTELLO_LEASE_SECONDS)"
        )
    kept_in.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    previous = kept_in / f"before-restore-{stamp}{PG_BACKUP_SUFFIX}"
    _pg_dump(address, previous)
    arguments, environment = _pg_arguments(address)
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *arguments,
            str(source),
        ],
        environment,
    )
    return previous
