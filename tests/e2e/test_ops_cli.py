"""The administrator's commands as a server runs them: backup with retention, restore."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.storage.db import Database
from tests.auxil.databases import on_postgresql, rows
from tests.auxil.fake_telegram import free_port as _free_port
from tests.e2e.test_cli import run


@pytest.mark.sqlite_only  # the copy of the file; pg_dump's archives: below
def test_backup_with_retention_then_restore(tmp_path: Path) -> None:
    created = run(tmp_path, "chat", "--lang", "it", stdin="1\n")  # creates the database
    assert created.returncode == 0, created.stderr
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20250101-000000", "20250102-000000"):  # older copies of earlier nights
        (folder / f"sportello-{stamp}.sqlite3").write_bytes(b"")
    killed = folder / "sportello-20250103-000000.sqlite3.partial"  # a backup killed mid-copy
    killed.write_bytes(b"SQLite format 3\x00" + b"names and phones" * 50)
    result = run(tmp_path, "backup", str(folder), "--keep", "2")
    assert result.returncode == 0, result.stderr
    assert "backup written" in result.stdout
    assert not killed.exists()
    assert "sportello-20250101-000000.sqlite3" in result.stdout  # the oldest went
    copies = sorted(folder.iterdir())
    assert len(copies) == 2 and copies[0].name == "sportello-20250102-000000.sqlite3"

    assert stat.S_IMODE(copies[-1].stat().st_mode) == 0o600  # personal data: the owner only

    restored = run(tmp_path, "restore", str(copies[-1]))
    assert restored.returncode == 0, restored.stderr
    (bak,) = (tmp_path / "data").glob("bot.sqlite3.*.bak")
    assert stat.S_IMODE(bak.stat().st_mode) == 0o600
    assert f"delete it: rm {bak}" in restored.stdout
    again = run(tmp_path, "restore", str(copies[-1]))  # the first copy is not overwritten
    assert again.returncode == 0, again.stderr
    (second,) = set((tmp_path / "data").glob("bot.sqlite3.*.bak")) - {bak}
    assert f"delete it: rm {second}" in again.stdout

    refused = run(tmp_path, "restore", str(copies[0]))  # the empty file is no database
    assert refused.returncode == 1
    assert "restore refused" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL only (pg_dump, pg_restore)")
async def test_backup_with_retention_then_restore_on_postgresql(
    tmp_path: Path, database_target: str
) -> None:
    """`sportello backup` and `restore` on PostgreSQL: pg_dump's archives, kept as many as
    asked; a restore brings back what the archive held and keeps what it replaced."""
    shared = run(
        tmp_path, "chat", "--lang", "en", stdin=f"{UNANSWERED}\n1\n", database=database_target
    )
    assert shared.returncode == 0, shared.stderr
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20250101-000000", "20250102-000000"):  # older archives of earlier nights
        (folder / f"sportello-{stamp}.pgdump").write_bytes(b"")
    result = run(tmp_path, "backup", str(folder), "--keep", "2", database=database_target)
    assert result.returncode == 0, result.stderr
    assert "backup written" in result.stdout and "pg_dump's archive" in result.stdout
    assert "old backup removed: " in result.stdout and "sportello-20250101-000000" in result.stdout
    copies = sorted(folder.iterdir())
    assert len(copies) == 2 and copies[0].name == "sportello-20250102-000000.pgdump"
    assert stat.S_IMODE(copies[-1].stat().st_mode) == 0o600  # personal data: the owner only

    later = run(
        tmp_path, "chat", "--lang", "en", stdin="qwzx wimble blorf\n1\n", database=database_target
    )
    assert later.returncode == 0, later.stderr
    assert await _shared_questions(database_target) == [UNANSWERED, "qwzx wimble blorf"]
    restored = run(tmp_path, "restore", str(copies[-1]), database=database_target)
    assert restored.returncode == 0, restored.stderr
    assert f"restored {copies[-1]} to " in restored.stdout
    assert await _shared_questions(database_target) == [UNANSWERED]
    (kept,) = folder.glob("before-restore-*.pgdump")  # what the restore replaced
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert f"kept as {kept}" in restored.stdout

    refused = run(tmp_path, "restore", str(copies[0]), database=database_target)  # empty file
    assert refused.returncode == 1
    assert "restore refused" in refused.stderr and "Traceback" not in refused.stderr
    assert await _shared_questions(database_target) == [UNANSWERED]


UNANSWERED = "zxqv blorf wimble"


async def _shared_questions(target: str) -> list[str]:
    async with Database(target) as database:
        found = await rows(database, "SELECT text FROM shared_questions ORDER BY id")
    return [text for (text,) in found]


def test_backup_keep_needs_a_folder(tmp_path: Path, database_target: str) -> None:
    created = run(tmp_path, "chat", "--lang", "it", database=database_target)
    assert created.returncode == 0, created.stderr
    (tmp_path / "one.sqlite3").write_bytes(b"")
    result = run(
        tmp_path, "backup", str(tmp_path / "one.sqlite3"), "--keep", "3", database=database_target
    )
    assert result.returncode == 2
    assert "--keep" in result.stderr
    made = run(
        tmp_path,
        "backup",
        str(tmp_path / "new" / "folder"),
        "--keep",
        "3",
        database=database_target,
    )
    assert made.returncode == 0, made.stderr
    suffix = "pgdump" if on_postgresql() else "sqlite3"
    assert len(list((tmp_path / "new" / "folder").glob(f"sportello-*.{suffix}"))) == 1


def test_help_of_the_administrator_commands(tmp_path: Path) -> None:
    for command in ("backup", "restore"):
        result = run(tmp_path, command, "--help")
        assert result.returncode == 0
        assert f"usage: sportello {command}" in result.stdout


def test_doctor_exit_codes(tmp_path: Path) -> None:
    fine = run(tmp_path, "doctor")  # nothing configured: the terminal chat's installation
    assert fine.returncode == 0, fine.stdout
    assert "OK    configuration" in fine.stdout
    assert "WARN  database" in fine.stdout  # not created yet
    broken = run(tmp_path, "doctor", env={"PORT": "eighty"})
    assert broken.returncode == 1
    assert "FAIL  configuration  PORT must be a whole number" in broken.stdout
    assert "deploy/.env.example" in broken.stdout
    assert "Traceback" not in broken.stderr


def _serve(
    tmp_path: Path, database: str, *paths: str, log_format: str
) -> tuple[dict[str, str], str]:
    """Run `sportello serve` on ``database``, GET each path, stop it with SIGTERM; (bodies,
    everything logged)."""
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "SPORTELLO_DB": database,
        "SPORTELLO_LOG_FORMAT": log_format,
        "SPORTELLO_LOG_LEVEL": "INFO",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    bodies: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        for path in paths:
            response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
            bodies[path] = f"{response.status_code} {response.text}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, errors = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, errors = process.communicate()
    assert process.returncode == 0, errors
    return bodies, output + errors


def test_serve_with_json_logs_and_metrics(tmp_path: Path, database_target: str) -> None:
    bodies, logged = _serve(tmp_path, database_target, "/metrics", "/healthz", log_format="json")
    assert bodies["/metrics"].startswith("200 ")
    assert "# TYPE sportello_bookings gauge" in bodies["/metrics"]
    health = json.loads(bodies["/healthz"].split(" ", 1)[1])
    assert health["channels"] == {}  # no channel configured
    # Every log line is JSON (a stray warning of Python's own would not be a log line).
    assert not [line for line in logged.splitlines() if line[:4].isdigit() or "INFO:" in line]
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    messages = [entry["message"] for entry in lines]
    assert any(message.startswith("serving on http://127.0.0.1") for message in messages)
    assert any(entry["logger"].startswith("uvicorn") for entry in lines)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_access_log_keeps_no_query_string_nor_calendar_link(
    tmp_path: Path, database_target: str, log_format: str
) -> None:
    # A calendar link works for whoever holds it: neither its key nor its code is logged.
    link = "/calendar/LU-4K7P.ics?k=s3cr3t-k3y"
    _, logged = _serve(
        tmp_path, database_target, "/healthz?probe=s3cr3t-k3y", link, log_format=log_format
    )
    lines = [
        json.loads(line)["message"] if line.startswith("{") else line
        for line in logged.splitlines()
    ]
    access = [line for line in lines if '"GET ' in line]
    assert len(access) >= 2, logged  # the access log is on, one line a request
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in access), access
    assert any('"GET /calendar/<code>.ics HTTP/1.1" 404' in line for line in access), access
    assert "s3cr3t" not in logged and "LU-4K7P" not in logged


@pytest.mark.sqlite_only  # a PostgreSQL database is always there
def test_outbox_retry_without_a_database_file(tmp_path: Path) -> None:
    missing = run(tmp_path, "outbox", "retry")
    assert missing.returncode == 1 and "no database" in missing.stderr


def test_outbox_retry(tmp_path: Path, database_target: str) -> None:
    assert run(tmp_path, "chat", "--lang", "it", database=database_target).returncode == 0
    result = run(
        tmp_path,
        "outbox",
        "retry",
        "--hours",
        "48",
        "--channel",
        "whatsapp",
        database=database_target,
    )
    assert result.returncode == 0, result.stderr
    assert "0 message(s) queued again" in result.stdout
    bogus = run(tmp_path, "outbox", "retry", "--channel", "bogus", database=database_target)
    assert bogus.returncode == 2
    assert "invalid choice: 'bogus'" in bogus.stderr and "'email'" in bogus.stderr


def test_every_adapter_is_named_as_its_channel_and_sends_through_the_outbox() -> None:
    from bot.channels import ADAPTERS, adapter

    assert set(ADAPTERS) == {"telegram", "whatsapp", "webchat", "email"}
    for name in ADAPTERS:
        kind = adapter(name)
        assert kind.name == name
        assert callable(kind.send) and callable(kind.routes) and callable(kind.health)


@pytest.mark.sqlite_only  # a file that is not a SQLite database
@pytest.mark.parametrize(
    "command", [["serve"], ["chat", "--lang", "it"], ["stats"], ["unanswered"]]
)
def test_a_damaged_database_is_one_line_with_what_to_do(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    database.parent.mkdir()
    database.write_text("not a database, whatever the name says\n" * 20)
    result = run(tmp_path, *command, env={"PORT": str(_free_port()), "HOST": "127.0.0.1"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "cannot be used" in line]
    assert f"The database {database} cannot be used: it is not a SQLite database." in line
    assert "sportello restore" in line
    assert "serving on" not in result.stderr


def test_serve_on_a_port_in_use_says_so_and_stops(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(tmp_path, "serve", env={"HOST": "127.0.0.1", "PORT": str(port)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"cannot serve on 127.0.0.1:{port}: address already in use (another program, or "
        "another `sportello serve`, may be using it); stop it or set another PORT"
    )
    # Nothing started before the port was had: not even the database was created.
    assert not (tmp_path / "data").exists()


def test_serve_without_channels_warns_how_to_configure_them(
    tmp_path: Path, database_target: str
) -> None:
    _, logged = _serve(tmp_path, database_target, "/healthz", log_format="text")
    (warning,) = [line for line in logged.splitlines() if "no channel is configured" in line]
    assert "WARNING" in warning
    assert "TELEGRAM_BOT_TOKEN" in warning and "TWILIO_ACCOUNT_SID" in warning


@pytest.mark.sqlite_only  # the live file and its WAL
def test_backup_onto_the_live_database_is_refused(tmp_path: Path) -> None:
    assert run(tmp_path, "chat", "--lang", "it").returncode == 0
    live = tmp_path / "data" / "bot.sqlite3"
    before = live.read_bytes()
    for target in (
        live,
        tmp_path / "data" / "bot.sqlite3-wal",
        tmp_path / "data" / "." / "bot.sqlite3",
    ):
        result = run(tmp_path, "backup", str(target))
        assert result.returncode == 2, result.stdout
        assert "is the live database (SPORTELLO_DB) or one of its files" in result.stderr
        assert "written" not in result.stdout
    assert live.read_bytes() == before
