"""``sportello stats`` and ``sportello report`` as staff run them, on the known event fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.db import Database
from tests.auxil.databases import rows
from tests.auxil.events import fixture_database
from tests.conftest import REPO_CONTENT
from tests.e2e.test_cli import run

QUARTER = ("--from", "2026-01-01", "--to", "2026-03-31")


async def test_stats_as_json_has_the_exact_figures(tmp_path: Path, database_target: str) -> None:
    await fixture_database(database_target)
    result = run(tmp_path, "stats", *QUARTER, "--format", "json", database=database_target)
    assert result.returncode == 0, result.stderr
    tables = json.loads(result.stdout)["tables"]
    totals = dict(tables["totals"]["rows"])
    assert (totals["consultazioni"], totals["utenti unici"]) == (10, 7)
    assert totals["tempo mediano di risposta (minuti)"] == 10.0
    assert tables["by_channel"]["rows"] == [
        ["telegram", 5],
        ["whatsapp", 3],
        ["desk", 1],
        ["phone", 1],
    ]


async def test_stats_for_one_office_as_a_table_and_as_csv(
    tmp_path: Path, database_target: str
) -> None:
    await fixture_database(database_target)
    table = run(tmp_path, "stats", *QUARTER, "--office", "luino", database=database_target)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("Sportello Immigrati di Luino e Cittiglio — attività dal ")
    assert lines[0].endswith(", sede Sportello Immigrati - Ufficio di Piano di Luino")
    assert lines[1].startswith("Solo gli appuntamenti di questa sede")
    figures = "\n".join(lines[1:])  # below the heading, which names the whole counter
    assert "Cittiglio" not in figures and "luino" not in table.stdout
    assert "Rinnovo del permesso di soggiorno" in table.stdout  # the service's name
    csv = run(tmp_path, "stats", *QUARTER, "--format", "csv", database=database_target)
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.startswith(
        "\ufeffSportello Immigrati di Luino e Cittiglio — attività dal 1 gennaio 2026"
    )
    rows = csv.stdout.splitlines()
    assert rows[2:5] == ["Totali", "misura;valore", "consultazioni;10"]
    assert "tempo mediano di risposta (minuti);10,0" in rows
    assert "arabo;3" in rows and "allo sportello;1" in rows


def csv_bytes(tmp_path: Path, database: str) -> subprocess.CompletedProcess[bytes]:
    """``stats --format csv`` as bytes: what a file redirected to would hold."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "stats", *QUARTER, "--format", "csv"],
        capture_output=True,
        cwd=tmp_path,
        env={"PATH": "", "SPORTELLO_DB": database},
        timeout=60,
        check=False,
    )


async def test_csv_bytes_have_a_byte_order_mark_and_crlf(
    tmp_path: Path, database_target: str
) -> None:
    await fixture_database(database_target)
    result = csv_bytes(tmp_path, database_target)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\xef\xbb\xbf")
    assert b"\r\nconsultazioni;10\r\n" in result.stdout
    assert b"\n" not in result.stdout.replace(b"\r\n", b"")


async def test_an_unknown_office_is_refused_with_the_valid_ones(
    tmp_path: Path, database_target: str
) -> None:
    await fixture_database(database_target)
    for command in (("stats",), ("report", "--out", "report.html")):
        result = run(
            tmp_path, *command, *QUARTER, "--office", "nonexistent", database=database_target
        )
        assert result.returncode == 2
        assert result.stdout == ""
        assert "Unknown office 'nonexistent'; choose one of: luino, cittiglio" in result.stderr
    assert not (tmp_path / "report.html").exists()


@pytest.mark.sqlite_only  # a PostgreSQL database is always there to ask
def test_stats_without_a_database_file(tmp_path: Path) -> None:
    missing = run(tmp_path, "stats", *QUARTER)
    assert missing.returncode == 2 and "No database" in missing.stderr
    assert not (tmp_path / "data").exists()  # asking does not create an empty database


def test_stats_for_a_backwards_period_is_refused(tmp_path: Path, database_target: str) -> None:
    backwards = run(
        tmp_path, "stats", "--from", "2026-03-01", "--to", "2026-02-01", database=database_target
    )
    assert backwards.returncode == 2 and "before" in backwards.stderr


async def test_report_writes_one_self_contained_page(tmp_path: Path, database_target: str) -> None:
    await fixture_database(database_target)
    result = run(
        tmp_path,
        "report",
        *QUARTER,
        "--out",
        "report.html",
        env={"SPORTELLO_CONTENT": str(REPO_CONTENT)},
        database=database_target,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('class="chart" role="img"') == 4
    assert "Rinnovo del permesso" in page  # topic titles from the content, in Italian
    assert "<td>Sportello Immigrati - Ufficio di Piano di Luino</td>" in page  # office names
    assert "<td>luino</td>" not in page and "<td>permit_renewal</td>" not in page
    assert "dal 1 gennaio 2026 al 31 marzo 2026" in page
    for outside in ("<script", "<link", "<img", "@import", "url(http", 'src="http'):
        assert outside not in page
    assert "default-src 'none'" in page
    assert result.stderr == ""  # no font cache chatter, no warnings


async def test_the_terminal_chat_is_a_preview_and_is_not_counted(
    tmp_path: Path, database_target: str
) -> None:
    script = "1\n1\ncome rinnovo il permesso?\n"
    result = run(tmp_path, "chat", "--lang", "it", stdin=script, database=database_target)
    assert result.returncode == 0, result.stderr
    async with Database(database_target) as database:
        assert await rows(database, "SELECT count(*) FROM events") == [(0,)]
