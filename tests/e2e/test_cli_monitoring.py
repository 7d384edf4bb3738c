"""``sportello stats`` and ``sportello report`` as staff run them, on the known event fixture."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.auxil.events import fixture_database
from tests.conftest import REPO_CONTENT
from tests.e2e.test_cli import run

QUARTER = ("--from", "2026-01-01", "--to", "2026-03-31")


async def test_stats_as_json_has_the_exact_figures(tmp_path: Path) -> None:
    await fixture_database(tmp_path / "data" / "bot.sqlite3")
    result = run(tmp_path, "stats", *QUARTER, "--format", "json")
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


async def test_stats_for_one_office_as_a_table_and_as_csv(tmp_path: Path) -> None:
    await fixture_database(tmp_path / "data" / "bot.sqlite3")
    table = run(tmp_path, "stats", *QUARTER, "--office", "luino")
    assert table.returncode == 0, table.stderr
    assert "sede luino" in table.stdout.splitlines()[0]
    assert "cittiglio" not in table.stdout
    csv = run(tmp_path, "stats", *QUARTER, "--format", "csv")
    assert "totals,consultazioni,valore,10" in csv.stdout.splitlines()


def test_stats_without_a_database_or_with_a_backwards_period(tmp_path: Path) -> None:
    missing = run(tmp_path, "stats", *QUARTER)
    assert missing.returncode == 2 and "No database" in missing.stderr
    assert not (tmp_path / "data").exists()  # asking does not create an empty database
    backwards = run(tmp_path, "stats", "--from", "2026-03-01", "--to", "2026-02-01")
    assert backwards.returncode == 2 and "before" in backwards.stderr


async def test_report_writes_one_self_contained_page(tmp_path: Path) -> None:
    await fixture_database(tmp_path / "data" / "bot.sqlite3")
    result = run(
        tmp_path,
        "report",
        *QUARTER,
        "--out",
        "report.html",
        env={"SPORTELLO_CONTENT": str(REPO_CONTENT)},
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('class="chart" role="img"') == 4
    assert "Rinnovo del permesso" in page  # topic titles from the content, in Italian
    for outside in ("<script", "<link", "<img", "@import", "url(http", 'src="http'):
        assert outside not in page
    assert "default-src 'none'" in page
    assert result.stderr == ""  # no font cache chatter, no warnings


def test_the_terminal_chat_is_a_preview_and_is_not_counted(tmp_path: Path) -> None:
    result = run(tmp_path, "chat", "--lang", "it", stdin="1\n1\ncome rinnovo il permesso?\n")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "data" / "bot.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM events").fetchone() == (0,)
