"""Backups while the bot writes, and restores that refuse anything but a healthy database."""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.notice import Notice
from bot.storage import backup as backup_module
from bot.storage import db as db_module
from bot.storage.backup import (
    PRIVATE_MODE,
    BackupError,
    backup,
    backup_async,
    backup_file_name,
    in_use,
    inspect,
    prune,
    restore,
)
from bot.storage.db import Database, latest_version
from bot.storage.migrations import MIGRATIONS
from bot.storage.outbox import Outbox

PREFILL = 3000


def _sequence(path: Path) -> list[int]:
    """The numbers the writer put in the outbox, in id order, read from a copy."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT id, recipient FROM outbox ORDER BY id").fetchall()
    finally:
        connection.close()
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1)), "ids must have no gap"
    return [int(row[1]) for row in rows]


async def test_backups_while_writes_continue_hold_a_consistent_prefix(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    folder = tmp_path / "backups"
    folder.mkdir()
    async with Database(live) as database:
        outbox = Outbox(database)
        for number in range(PREFILL):
            await outbox.add("test", str(number), [Notice.reply("test", str(number), "x" * 200)])
        written = PREFILL
        stop = asyncio.Event()

        async def writer() -> None:
            nonlocal written
            while not stop.is_set():
                await outbox.add(
                    "test", str(written), [Notice.reply("test", str(written), "y" * 200)]
                )
                written += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(writer())
        copies = []
        for number in range(3):
            copies.append(await backup_async(live, folder / f"copy-{number}.sqlite3"))
            await asyncio.sleep(0.02)
        stop.set()
        await task
        during = written
    assert during > PREFILL, "the writer must have run during the backups"
    lengths = []
    for copy in copies:
        info = inspect(copy)
        assert info.schema_version == MIGRATIONS[-1][0]
        sequence = _sequence(copy)
        assert sequence == list(range(len(sequence)))  # a prefix of what was written, in order
        assert PREFILL <= len(sequence) <= during
        lengths.append(len(sequence))
        assert not copy.with_name(copy.name + "-wal").exists()
    assert lengths == sorted(lengths)
    assert not list(folder.glob("*.partial"))

    # The round trip: the last copy goes back in place of the live database.
    previous = restore(copies[-1], live)
    assert previous is not None and previous.parent == live.parent
    assert previous.name.startswith("live.sqlite3.") and previous.suffix == ".bak"
    assert _sequence(previous) == list(range(during))
    assert _sequence(live) == list(range(lengths[-1]))
    async with Database(live) as database:  # the bot opens it again, in WAL mode
        assert await database.journal_mode() == "wal"
        assert (await Outbox(database).counts("test"))["pending"] == lengths[-1]


async def test_restore_refuses_while_the_bot_has_the_database_open(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    async with Database(live):
        pass
    copy = backup(live, tmp_path / "copy.sqlite3")
    async with Database(live):
        assert in_use(live)
        with pytest.raises(BackupError, match="stop the bot first"):
            restore(copy, live)
    assert not in_use(live)
    assert restore(copy, live) is not None


async def test_restore_into_an_empty_place_keeps_no_bak(tmp_path: Path) -> None:
    async with Database(tmp_path / "live.sqlite3"):
        pass
    copy = backup(tmp_path / "live.sqlite3", tmp_path)
    assert copy.name.startswith("sportello-") and copy.suffix == ".sqlite3"
    target = tmp_path / "new" / "bot.sqlite3"
    assert restore(copy, target) is None
    assert inspect(target).pending == 0


def test_restore_refuses_what_is_not_a_sportello_database(tmp_path: Path) -> None:
    target = tmp_path / "bot.sqlite3"
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(garbage, target)
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE customers (name TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(BackupError, match="not a Sportello database"):
        restore(other, target)
    with pytest.raises(BackupError, match="does not exist"):
        restore(tmp_path / "missing.sqlite3", target)
    assert not target.exists()


async def test_restore_refuses_a_database_from_a_newer_program(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    async with Database(newer):
        pass
    connection = sqlite3.connect(newer)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    with pytest.raises(BackupError, match="newer Sportello"):
        restore(newer, tmp_path / "bot.sqlite3")


def test_backup_of_a_missing_database_is_explained(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="SPORTELLO_DB"):
        backup(tmp_path / "nothing.sqlite3", tmp_path / "copy.sqlite3")


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    for stamp in ("20260101-010000", "20260102-010000", "20260103-010000"):
        (tmp_path / f"sportello-{stamp}.sqlite3").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("kept", encoding="utf-8")
    removed = prune(tmp_path, 2)
    assert [path.name for path in removed] == ["sportello-20260101-010000.sqlite3"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "notes.txt",
        "sportello-20260102-010000.sqlite3",
        "sportello-20260103-010000.sqlite3",
    ]


async def test_copies_and_the_bak_are_private_whatever_the_umask(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    async with Database(live):
        pass
    _backup_and_restore_under_a_loose_umask(live)


def _backup_and_restore_under_a_loose_umask(live: Path) -> None:
    tmp_path = live.parent
    live.chmod(0o644)
    previous_umask = os.umask(0o022)  # a shell's usual umask: new files would be 0644
    try:
        folder_copy = backup(live, tmp_path)
        named_copy = backup(live, tmp_path / "copy.sqlite3")
        bak = restore(named_copy, live)
    finally:
        os.umask(previous_umask)
    assert bak is not None
    for path in (folder_copy, named_copy, live, bak):
        assert stat.S_IMODE(path.stat().st_mode) == PRIVATE_MODE == 0o600, path
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.restoring"))


def test_backup_names_carry_the_local_time_of_the_given_zone() -> None:
    night = datetime(2026, 1, 1, 1, 30, tzinfo=UTC)  # 02:30 in Rome (winter)
    assert backup_file_name(night) == "sportello-20260101-013000.sqlite3"
    assert backup_file_name(night, ZoneInfo("Europe/Rome")) == "sportello-20260101-023000.sqlite3"
    summer = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
    assert backup_file_name(summer, ZoneInfo("Europe/Rome")) == "sportello-20260701-023000.sqlite3"


async def test_a_backup_into_a_folder_is_named_by_the_zone_it_is_given(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    async with Database(live):
        pass
    folder = tmp_path / "backups"
    folder.mkdir()
    zone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its time of day is never UTC's
    before = datetime.now(zone)
    copy = backup(live, folder, zone)
    after = datetime.now(zone)
    stamp = copy.name.removeprefix("sportello-").removesuffix(".sqlite3")
    made = datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=zone)
    assert before.replace(microsecond=0) <= made <= after


async def _database_with(path: Path, recipient: str) -> None:
    """A database whose outbox holds one message, for ``recipient``."""
    async with Database(path) as database:
        await Outbox(database).add("test", recipient, [Notice.reply("test", recipient, "x")])


def _recipients(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [str(row[0]) for row in connection.execute("SELECT recipient FROM outbox")]
    finally:
        connection.close()


async def test_every_restore_keeps_the_database_it_replaced(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    await _database_with(live, "before any restore")
    first, second = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    await _database_with(first, "first backup")
    await _database_with(second, "second backup")
    kept_first = restore(first, live)
    kept_second = restore(second, live)  # in the same second: still a name of its own
    kept_third = restore(first, live)
    assert kept_first is not None and kept_second is not None and kept_third is not None
    assert len({kept_first, kept_second, kept_third}) == 3
    assert _recipients(kept_first) == ["before any restore"]  # not overwritten by the second
    assert _recipients(kept_second) == ["first backup"]
    assert _recipients(kept_third) == ["second backup"]
    for kept in (kept_first, kept_second, kept_third):
        assert kept.name.startswith("live.sqlite3.") and kept.name.endswith(".bak")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def _matching(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def _alter(path: Path, sql: str) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(sql)
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("ALTER TABLE appointments DROP COLUMN reminded_at;", "no column appointments.reminded_at"),
        ("DROP TABLE closures;", "no table closures"),
        ("CREATE TABLE notes (text TEXT);", "unknown table notes"),
        ("ALTER TABLE sessions ADD COLUMN secret TEXT;", "unknown column sessions.secret"),
        ("PRAGMA user_version = 3;", "unknown table closures"),  # claims less than it has
    ],
)
async def test_restore_refuses_tables_that_do_not_match_the_version_claimed(
    tmp_path: Path, change: str, said: str
) -> None:
    source = tmp_path / "changed.sqlite3"
    async with Database(source):
        pass
    _alter(source, change)
    target = tmp_path / "live.sqlite3"
    await _database_with(target, "kept")
    with pytest.raises(BackupError, match="tables do not match") as refused:
        restore(source, target)
    assert said in str(refused.value) and "\n" not in str(refused.value)
    assert _recipients(target) == ["kept"]
    assert not _matching(tmp_path, "*.bak")


async def test_every_version_the_migrations_make_is_accepted(tmp_path: Path) -> None:
    """A backup of an older program (any schema version) still restores."""
    for version, _name, _script in MIGRATIONS:
        old = tmp_path / f"v{version}.sqlite3"
        connection = sqlite3.connect(old)
        for number, _step, script in MIGRATIONS:
            if number <= version:
                connection.executescript(script)
        connection.execute(f"PRAGMA user_version = {version}")
        connection.close()
        if {"sessions", "outbox"}.issubset(backup_module.expected_shape(version)):
            assert inspect(old).schema_version == version


def _killed_backup(path: Path) -> None:
    """What a backup killed mid-copy leaves: the start of a database, under .partial."""
    path.write_bytes(b"SQLite format 3\x00" + b"personal data" * 100)


async def test_a_killed_backups_partial_is_removed_by_the_next_backup(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    await _database_with(live, "someone")
    folder = tmp_path / "backups"
    folder.mkdir()
    stale = folder / "sportello-20260101-020000.sqlite3.partial"
    _killed_backup(stale)
    (folder / "other.sqlite3.partial").write_bytes(b"")  # killed before its first page
    unrelated = folder / "notes.partial"
    unrelated.write_bytes(b"not a database")  # not ours: left alone
    busy = folder / "sportello-20260101-030000.sqlite3.partial"
    _killed_backup(busy)
    descriptor = os.open(busy, os.O_RDONLY)  # a backup writing it right now holds its lock
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        backup(live, folder)
        assert sorted(path.name for path in folder.glob("*.partial")) == [
            "notes.partial",
            busy.name,
        ]
    finally:
        os.close(descriptor)
    _killed_backup(stale)
    removed = prune(folder, 5)  # --keep cleans them too
    assert sorted(removed) == sorted([busy, stale])
    assert unrelated.exists()


async def test_a_failed_backup_leaves_no_partial_and_it_was_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live.sqlite3"
    await _database_with(live, "someone")
    modes: list[int] = []

    def failing_check(path: Path) -> object:
        modes.append(stat.S_IMODE(path.stat().st_mode))
        raise BackupError(f"{path} is damaged: simulated")

    monkeypatch.setattr(backup_module, "inspect", failing_check)
    previous_umask = os.umask(0o022)
    try:
        with pytest.raises(BackupError, match="simulated"):
            backup(live, tmp_path / "copy.sqlite3")
    finally:
        os.umask(previous_umask)
    assert modes == [0o600]
    assert _matching(tmp_path, "*.partial") == _matching(tmp_path, "copy.sqlite3") == []


@pytest.fixture
def revision_0002(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A later program: a second Alembic revision (a table, a column); its schema number."""
    later = tmp_path / "revisions"
    shutil.copytree(db_module.REVISIONS, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "versions" / "0002_notes.py").write_text(
        'revision = "0002"\ndown_revision = "0001"\nbranch_labels = None\ndepends_on = None\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade() -> None:\n"
        '    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("text", sa.Text))\n'
        '    with op.batch_alter_table("sessions") as batch:\n'
        '        batch.add_column(sa.Column("mood", sa.Text))\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(db_module, "REVISIONS", str(later))
    db_module.latest_version.cache_clear()
    backup_module.expected_shape.cache_clear()
    yield latest_version()
    monkeypatch.undo()
    db_module.latest_version.cache_clear()
    backup_module.expected_shape.cache_clear()


async def test_the_shape_of_a_version_of_alembic_is_what_its_revisions_make(
    tmp_path: Path, revision_0002: int
) -> None:
    """A backup of a program with a later revision is checked against it, no change here."""
    assert revision_0002 == MIGRATIONS[-1][0] + 1
    later, baseline = (backup_module.expected_shape(v) for v in (revision_0002, revision_0002 - 1))
    assert later.keys() - baseline.keys() == {"notes"}
    assert later["notes"] == {"id", "text"}
    assert later["sessions"] - baseline["sessions"] == {"mood"}
    assert {name: columns for name, columns in later.items() if name != "notes"} == {
        **baseline,
        "sessions": baseline["sessions"] | {"mood"},
    }
    new, legacy = tmp_path / "new.sqlite3", tmp_path / "legacy.sqlite3"
    connection = sqlite3.connect(legacy)  # as the program before Alembic left it
    for _number, _name, script in MIGRATIONS:
        connection.executescript(script)
    connection.execute(f"PRAGMA user_version = {revision_0002 - 1}")
    connection.close()
    for path in (new, legacy):
        async with Database(path):
            pass  # a new file through every revision; the old one stamped, then 0002
        assert inspect(path).schema_version == revision_0002  # its tables are the expected ones
    _alter(new, "ALTER TABLE sessions DROP COLUMN mood;")
    with pytest.raises(BackupError, match=r"no column sessions\.mood"):
        inspect(new)


async def test_the_shape_of_the_latest_version_is_that_of_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    async with Database(path):
        pass
    connection = sqlite3.connect(path)
    try:
        found = backup_module._shape(connection)
    finally:
        connection.close()
    assert backup_module.expected_shape(latest_version()) == found
