"""This module contains the doctor's checks of this machine.

The content, the translations, the database and its outbox, the disk: they read files and
never change them. A PostgreSQL database (SPORTELLO_DB=postgresql://...) is read in a
read-only transaction; its files and disk are the server's, not this machine's.
"""

from __future__ import annotations

import getpass
import os
import shutil
import time
from pathlib import Path

from bot.config import Settings
from bot.content.loader import validate
from bot.ops.checks import Check, fail, ok, warn
from bot.storage.backup import BackupError, inspect
from bot.storage.db import DatabaseUnavailable, latest_version, postgresql_version, shown
from bot.storage.leases import INSTANCE, living_leases
from bot.storage.requeue import outbox_trouble_in

#: Below this much free space the database may fail to write; below the second, soon.
DISK_FAIL_BYTES = 100 * 1024**2
DISK_WARN_BYTES = 1024**3
#: A message waiting longer than this means a channel cannot send.
STUCK_SECONDS = 10 * 60
#: What to do when a PostgreSQL database cannot be reached or refuses.
SERVER_FIX = (
    "check that the PostgreSQL server runs and that SPORTELLO_DB's address (host, port, user, "
    "password, database, ?schema=) is right: `psql` with the same address (without ?schema=) "
    "says what it refuses"
)
#: How far back failed messages are reported (and `outbox retry --hours` suggested).
FAILED_WINDOW_HOURS = 7 * 24


def content(settings: Settings) -> Check:
    validation = validate(settings.content_dir)
    if validation.catalog is None or validation.errors:
        first = validation.errors[0] if validation.errors else "no catalog"
        return fail(
            "content",
            f"{len(validation.errors)} error(s) in {settings.content_dir}, first: {first}",
            "run `sportello content check` and correct the files it names (a running bot "
            "keeps its last valid content meanwhile)",
        )
    catalog = validation.catalog
    if settings.default_language and catalog.language(settings.default_language) is None:
        return fail(
            "content",
            f"SPORTELLO_DEFAULT_LANGUAGE={settings.default_language} is not enabled",
            "enable it in languages.yaml or change SPORTELLO_DEFAULT_LANGUAGE",
        )
    return ok(
        "content",
        f"{settings.content_dir}: {len(catalog.topics)} topics, "
        f"{len(validation.warnings)} warning(s) (see `sportello content check`)",
    )


def translations(settings: Settings) -> Check:
    sources = sorted(settings.locales_dir.glob("*/LC_MESSAGES/messages.po"))
    missing = [po.parent.parent.name for po in sources if not po.with_suffix(".mo").is_file()]
    if not sources:
        return fail(
            "translations",
            f"no catalogs in {settings.locales_dir}",
            "point SPORTELLO_LOCALES at the project's locales/ folder",
        )
    if missing:
        return fail(
            "translations",
            "not compiled: " + ", ".join(missing),
            "run `make install-prod` (developers: `make install`), or `pybabel compile -d "
            "locales`, after every update",
        )
    return ok("translations", f"{len(sources)} languages compiled")


async def database_server(address: str) -> Check:
    """A PostgreSQL database: reachable, and at which schema (read only, never migrated)."""
    name = f"PostgreSQL database {shown(address)}"
    try:
        version = await postgresql_version(address)
    except DatabaseUnavailable as error:
        return fail("database", f"{name}: {error.problem}", SERVER_FIX)
    latest = latest_version()
    if version == 0:
        return warn(
            "database",
            f"{name}: reachable, no tables yet",
            "they are made at the first start of the bot (or by `sportello db copy` from a "
            "SQLite file: deploy/README.md)",
        )
    if version > latest:
        return fail(
            "database",
            f"{name}: schema {version}, newer than this program knows ({latest})",
            "update the program on this machine to the version the other instances run",
        )
    if version < latest:
        return warn(
            "database",
            f"{name}: schema {version}, reachable; {latest - version} migration(s) pending",
            "they are applied at the next start of the bot; take a backup first "
            "(`sportello backup FOLDER`, pg_dump)",
        )
    return ok("database", f"{name}: schema {version} (up to date), reachable")


def database(settings: Settings) -> Check:
    path = settings.database_file
    if path is None:
        raise ValueError("a PostgreSQL database is checked by database_server")
    if not path.exists():
        folder = _existing_parent(path)
        return warn(
            "database",
            f"{path} does not exist yet",
            f"it is created at the first start; make sure {folder} is writable by the bot's "
            "user, or restore a backup with `sportello restore`",
        )
    if path.is_dir():
        return fail("database", f"{path} is a folder", "point SPORTELLO_DB at a file in it")
    unwritable = [
        str(place)
        for place, need in ((path, os.R_OK | os.W_OK), (path.parent, os.W_OK | os.X_OK))
        if not os.access(place, need)
    ]
    if unwritable:
        # The bot writes the file, and its -wal and -shm beside it: the folder too.
        return fail(
            "database",
            f"this user ({getpass.getuser()}) may not write {' nor '.join(unwritable)}",
            "run the doctor as the bot's user; if that is the bot's user, give it the file and "
            f"its folder: chown -R <bot user> {path.parent}",
        )
    try:
        info = inspect(path)
    except BackupError as error:
        return fail(
            "database",
            str(error),
            "stop the bot and restore the last good backup (`sportello restore FILE`)",
        )
    size = f"{info.size_bytes / 1024**2:.1f} MB"
    if info.pending:
        return warn(
            "database",
            f"schema {info.schema_version}, {info.pending} migration(s) pending, {size}",
            "they are applied at the next start of the bot; take a backup first "
            "(`sportello backup FOLDER`)",
        )
    return ok("database", f"{path}: schema {info.schema_version} (up to date), {size}")


async def outbox(settings: Settings, now: float | None = None) -> Check:
    now = time.time() if now is None else now
    trouble = await outbox_trouble_in(settings.db_path, now - FAILED_WINDOW_HOURS * 3600)
    waiting = sum(trouble.pending.values())
    if trouble.oldest_pending_at is not None and now - trouble.oldest_pending_at > STUCK_SECONDS:
        minutes = int((now - trouble.oldest_pending_at) // 60)
        per_channel = ", ".join(f"{n} {channel}" for channel, n in sorted(trouble.pending.items()))
        return warn(
            "outbox",
            f"{waiting} message(s) waiting ({per_channel}), the oldest for {minutes} minutes",
            "a channel cannot send: see the telegram and whatsapp checks and the bot's log; "
            "the messages go out by themselves once it can (is the bot running?)",
        )
    if trouble.failed_since:
        per_channel = ", ".join(
            f"{n} {channel}" for channel, n in sorted(trouble.failed_since.items())
        )
        return warn(
            "outbox",
            f"messages given up in the last {FAILED_WINDOW_HOURS // 24} days: {per_channel}",
            "once the channel works again, `sportello outbox retry --hours "
            f"{FAILED_WINDOW_HOURS}` sends them again (see the log for the reason)",
        )
    return ok("outbox", f"{waiting} message(s) waiting, none given up recently")


async def instances(settings: Settings, now: float | None = None) -> Check:
    """Which `serve` instances run on the database, and which holds each job (a lease)."""
    held = await living_leases(settings.db_path, time.time() if now is None else now)
    running = [lease.holder for lease in held if lease.name.startswith(INSTANCE)]
    if not running:
        return ok("instances", "no `sportello serve` runs on this database now")
    jobs = ", ".join(
        f"{lease.name} by {_short(lease.holder)}"
        for lease in held
        if not lease.name.startswith(INSTANCE)
    )
    names = ", ".join(_short(holder) for holder in running)
    return ok("instances", f"{len(running)} running ({names}); {jobs or 'no jobs held'}")


def _short(holder: str) -> str:
    """host:namespace:pid:token as host, process pid."""
    parts = holder.split(":")
    return f"{parts[0]} pid {parts[2]}" if len(parts) == 4 else holder


def _existing_parent(path: Path) -> Path:
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def disk(settings: Settings) -> Check:
    """Free space where the database lives: a full disk stops every answer that saves."""
    path = settings.database_file
    if path is None:
        return ok(
            "disk space",
            "the database lives on its PostgreSQL server: watch the disk there "
            "(and where pg_dump writes the backups)",
        )
    folder = _existing_parent(path)
    usage = shutil.disk_usage(folder)
    size = path.stat().st_size if path.is_file() else 0
    free = f"{usage.free / 1024**3:.1f} GB free in {folder}"
    fix = "free some space (old logs, old backups) or give the server a bigger disk"
    if usage.free < DISK_FAIL_BYTES:
        return fail("disk space", free, fix)
    if usage.free < DISK_WARN_BYTES:
        return warn("disk space", free, fix)
    if usage.free < 2 * size:  # a backup beside it, and the journal, need as much again
        return warn(
            "disk space", f"{free}, less than twice the database ({size // 1024**2} MB)", fix
        )
    return ok("disk space", free)
