"""Another counter, no code changed: the whole bot on a second content folder.

``tests/data/como`` is a fictional *Sportello Stranieri di Como* (test data): another town,
other areas and services, three languages. The same program checks it, chats on it in the
terminal and serves it on Telegram (the real python-telegram-bot against the fake Bot API):
it greets with that counter's name, answers its topics, books its services, and offers none
of the seven languages the repository's counter speaks besides.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content.loader import load_catalog
from bot.monitoring.stats import summarise
from bot.monitoring.tables import Names, as_text
from bot.storage.events import EventStore
from tests.e2e.test_telegram import (
    STAFF_CHAT,
    USER,
    keyboard_ids,
    press,
    running_bot,
    start,
    text,
)

COMO = Path(__file__).parent.parent / "data" / "como"
#: The languages the repository's counter speaks and this one does not.
OTHER_LANGUAGES = ("العربية", "Español", "Shqip", "Українська", "اردو", "中文", "বাংলা")


def sportello(
    tmp_path: Path, *args: str, stdin: str = "", database: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``sportello`` command on the Como folder, as an administrator would run it; on
    ``database`` (the ``database_target`` fixture) for the commands that keep something, the
    same for every call of a test; else on a SQLite file in ``tmp_path``."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONIOENCODING": "utf-8",
        "SPORTELLO_CONTENT": str(COMO),
        "SPORTELLO_DB": database or str(tmp_path / "como.sqlite3"),
        "SPORTELLO_CACHE_DIR": str(tmp_path / "cache"),
        "OPENBLAS_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,  # no stray .env
        env=environment,
        timeout=300,
        check=False,
    )


def test_its_content_passes_the_check(tmp_path: Path) -> None:
    result = sportello(tmp_path, "content", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"content {COMO}: valid" in result.stdout
    assert "6 topics, 2 menus, 1 offices" in result.stdout
    assert "warning" not in result.stdout and "problem" not in result.stdout
    table = result.stdout.split("outdated\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in table.splitlines()] == ["it", "en", "fr"]


def test_a_new_topic_takes_one_of_this_counters_areas(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(COMO, folder)
    refused = sportello(tmp_path, "content", "new", "job_fair", str(folder), "--area", "permits")
    assert refused.returncode == 2
    assert refused.stdout.strip() == (
        "unknown area 'permits': one of documents, jobs, language_school, housing, desk_info "
        "(desk.yaml)"
    )
    created = sportello(tmp_path, "content", "new", "job_fair", str(folder), "--area", "jobs")
    assert created.returncode == 0, created.stdout + created.stderr
    assert "area: jobs\n" in (folder / "topics" / "job_fair.yaml").read_text(encoding="utf-8")


def test_the_terminal_chat_is_this_counters(tmp_path: Path, database_target: str) -> None:
    # The language question, French; a question in French; the main menu; an appointment.
    script = "3\nje cherche du travail\nrendez-vous\n1\n1\n1\nAmina Rossi\n333 1234567\n1\n"
    result = sportello(tmp_path, "chat", stdin=script, database=database_target)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    languages = out.split("> 3\n", 1)[0]
    assert "1. Italiano" in languages and "2. English" in languages and "3. Français" in languages
    assert not any(name in out for name in OTHER_LANGUAGES)
    welcome = out.split("> 3\n", 1)[1].split("\n\n", 1)[0]
    assert welcome.startswith("Bonjour, ici la messagerie du Sportello Stranieri de Como")
    answer = out.split("> je cherche du travail\n", 1)[1]
    assert answer.startswith("Chercher du travail\n")
    assert "Centro per l'impiego" in answer
    services = out.split("> rendez-vous\n", 1)[1].split("> 1\n", 1)[0]
    assert "1. Vérification des documents" in services
    assert "2. Orientation vers l'emploi" in services
    assert "3. Inscription aux cours d'italien" in services
    booked = out.split("> 1\n")[-1]
    assert "CO-" in booked and "via di Prova 1, 22100 Como" in booked
    assert "Traceback" not in result.stderr


async def test_telegram_serves_this_counter(tmp_path: Path, database_target: str) -> None:
    async with running_bot(tmp_path, COMO, webhook=False, database=database_target) as bot:
        commands = bot.fake.calls_to("setMyCommands")
        assert [call.params.get("language_code") for call in commands] == [None, "it", "en", "fr"]
        descriptions = {
            call.params.get("language_code"): call.params["description"]
            for call in bot.fake.calls_to("setMyDescription")
        }
        assert descriptions["fr"].startswith("Sportello Stranieri de Como (données de test)")
        assert descriptions[None].startswith("Sportello Stranieri of Como (test data)")
        short = {
            call.params.get("language_code"): call.params["short_description"]
            for call in bot.fake.calls_to("setMyShortDescription")
        }
        assert short["it"] == "Lo Sportello Stranieri di Como, in tre lingue (prova)."

        # An Arabic-speaking user: Arabic is not offered here, so the bot asks, in three.
        (question,) = await bot.send(start(language_code="ar"))
        assert keyboard_ids(question) == ["lang:it", "lang:en", "lang:fr"]
        (welcome,) = await bot.send(press("lang:fr"))
        assert welcome.params["text"].startswith(
            "Bonjour, ici la messagerie du Sportello Stranieri de Como"
        )
        assert keyboard_ids(welcome)[:5] == [
            "go:document_check_help",
            "go:job_search",
            "go:italian_classes",
            "go:housing_search",
            "go:menu_desk",
        ]
        (answer,) = await bot.send(text("où apprendre l'italien gratuitement ?"))
        assert answer.params["text"].startswith("<b>Cours d'italien</b>")
        assert "act:book:course_enrolment" in keyboard_ids(answer)

        # Its services, booked: one by slots at once, one on request.
        (services,) = await bot.send(text("je voudrais un rendez-vous"))
        assert [data for data in keyboard_ids(services) if data.startswith("bk:svc:")] == [
            "bk:svc:document_check",
            "bk:svc:job_orientation",
            "bk:svc:course_enrolment",
        ]
        (request,) = await bot.send(press("bk:svc:job_orientation"))
        assert "Quand pouvez-vous venir au guichet" in request.params["text"]
        (days,) = await bot.send(press("bk:svc:document_check"))
        (times,) = await bot.send(press(keyboard_ids(days)[0]))
        await bot.send(press(keyboard_ids(times)[0]))
        await bot.send(text("Amina Rossi"))
        (summary,) = await bot.send(text("333 1234567"))
        assert "Vérification des documents" in summary.params["text"]
        (booked,) = await bot.send(press("bk:confirm"))
        assert "CO-" in booked.params["text"]
        code = "CO-" + booked.params["text"].split("CO-", 1)[1][:4]
        await bot.fake.wait_for(lambda: bool(bot.fake.calls_to("sendDocument")))
        calendar = bot.fake.calls_to("sendDocument")[0].params["document"]["data"]
        assert "PRODID:-//Sportello Stranieri di Como//Sportello//IT" in calendar
        await bot.fake.wait_for(
            lambda: any(code in call.params["text"] for call in bot.fake.sent(STAFF_CHAT))
        )
        notice = next(c for c in bot.fake.sent(STAFF_CHAT) if code in c.params["text"])
        assert (
            "Controllo dei documenti — Sportello Stranieri di Como - sede di prova"
            in (notice.params["text"])
        )
        assert all("Luino" not in call.params["text"] for call in bot.fake.sent(USER))

        # Counted by its own areas and services, named in the figures as the content names them.
        database = bot.services.database
        assert database is not None
        now = datetime.now(UTC)
        events = await EventStore(database).between(
            now - timedelta(hours=2), now + timedelta(hours=2)
        )
        assert ("question", "italian_classes", "language_school") in {
            (event.kind, event.topic, event.area) for event in events
        }
        assert ("booking", "made", "document_check", "como_centro") in {
            (event.kind, event.action, event.service, event.office) for event in events
        }
        rome = ZoneInfo("Europe/Rome")
        today = now.astimezone(rome).date()
        figures = as_text(
            summarise(events, rome, date(today.year, 1, 1), today),
            Names.of_catalog(load_catalog(COMO)),
        )
        assert figures.startswith("Sportello Stranieri di Como — attività dal 1 gennaio")
        assert "Corsi di italiano" in figures and "Controllo dei documenti" in figures
