"""The ``sportello`` command as a user runs it: real processes, piped input, real content."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.storage.db import shown
from tests.auxil.databases import on_postgresql
from tests.conftest import FIXTURE_CONTENT, REPO_CONTENT


def run(
    tmp_path: Path,
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    database: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``sportello ARGS`` in ``tmp_path``; on ``database`` (the ``database_target`` fixture) for
    the commands that keep something, else on a SQLite file of the test's own."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "SPORTELLO_DB": database or str(tmp_path / "data" / "bot.sqlite3"),
        "PYTHONIOENCODING": "utf-8",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,  # no stray .env, and ./data stays inside the test's folder
        env=environment,
        timeout=60,
        check=False,
    )


def test_piped_chat_prints_the_menu_and_the_first_topic(
    tmp_path: Path, database_target: str
) -> None:
    result = run(tmp_path, "chat", "--lang", "it", stdin="1\n1\n", database=database_target)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Menu principale" in out
    assert "1. Permesso di soggiorno" in out
    assert "Rinnovo del permesso di soggiorno" in out
    assert "60 giorni" in out
    assert "https://questure.poliziadistato.it" in out  # a source: the Questura page
    if not on_postgresql():
        assert Path(database_target).exists()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("answer", ["2", "English", "en"])
def test_chat_asks_the_language_without_lang(
    tmp_path: Path, database_target: str, answer: str
) -> None:
    result = run(tmp_path, "chat", stdin=f"{answer}\n", database=database_target)
    assert result.returncode == 0, result.stderr
    assert "Italiano" in result.stdout and "العربية" in result.stdout and "বাংলা" in result.stdout
    assert "Main menu" in result.stdout
    assert "Residence permit" in result.stdout


def test_chat_navigation_words_in_several_languages(tmp_path: Path, database_target: str) -> None:
    script = "1\nmenu\nlangue\nfrançais\nاللغة\n4\n1\nhelp\nlingua\nit\n"
    result = run(tmp_path, "chat", "--lang", "it", stdin=script, database=database_target)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("Choose your language") == 3  # after "langue", "اللغة" and "lingua"
    after_menu_word = out.split("> menu\n", 1)[1]
    assert after_menu_word.startswith("Menu principale")
    assert "\u200f" in out.split("> 4\n", 1)[1]  # Arabic lines carry a right-to-left mark
    assert out.split("> it\n", 1)[1].split("\n\n")[1] == "Menu principale"


def test_chat_free_question(tmp_path: Path, database_target: str) -> None:
    question = "how do I renew my residence permit?\n"
    result = run(tmp_path, "chat", "--lang", "en", stdin=question, database=database_target)
    assert result.returncode == 0, result.stderr
    assert "60 days" in result.stdout


def test_chat_unknown_lang_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "chat", "--lang", "xx")
    assert result.returncode == 2
    assert "Unknown language 'xx'" in result.stderr


def test_chat_on_empty_input_exits_cleanly(tmp_path: Path, database_target: str) -> None:
    result = run(tmp_path, "chat", "--lang", "fr", database=database_target)
    assert result.returncode == 0
    assert result.stderr.count("Traceback") == 0


@pytest.mark.parametrize(
    "command",
    [[], ["chat"], ["serve"], ["content"], ["content", "check"], ["content", "new"], ["ask"]],
)
def test_help_on_every_command(tmp_path: Path, command: list[str]) -> None:
    result = run(tmp_path, *command, "--help")
    assert result.returncode == 0
    assert "usage: sportello" in result.stdout


def test_ask_json_one_question(tmp_path: Path) -> None:
    result = run(
        tmp_path, "ask", "--json", "comment renouveler mon titre de séjour", "--lang", "fr"
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record) == {"lang", "intent", "matches", "nearest", "answer"}
    assert record["lang"] == "fr"


def test_ask_json_reads_questions_from_stdin(tmp_path: Path) -> None:
    questions = (
        "come si rinnova il permesso di soggiorno?\n"
        "vorrei prendere un appuntamento\n"
        "\n"
        "che tempo fa domani a luino\n"
    )
    result = run(tmp_path, "ask", "--json", "-", stdin=questions)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3
    assert records[0]["intent"] == "topic"
    assert records[0]["matches"][0]["area"] == "permits"
    assert records[0]["lang"] == "it"
    assert records[1]["intent"] == "booking"
    assert records[2]["intent"] == "fallback"
    assert records[2]["matches"] == []


def test_ask_plain_text(tmp_path: Path) -> None:
    result = run(tmp_path, "ask", "ho perso il permesso")
    assert result.returncode == 0, result.stderr
    assert "intent:   topic" in result.stdout
    assert "permit_lost" in result.stdout


def test_content_check_valid_and_invalid(tmp_path: Path) -> None:
    valid = run(tmp_path, "content", "check")
    assert valid.returncode == 0, valid.stdout
    assert "valid" in valid.stdout
    assert "language" in valid.stdout and "missing" in valid.stdout and "stale" in valid.stdout
    broken = tmp_path / "broken"
    (broken / "topics").mkdir(parents=True)
    for path in FIXTURE_CONTENT.rglob("*.yaml"):
        (broken / path.relative_to(FIXTURE_CONTENT)).parent.mkdir(parents=True, exist_ok=True)
        (broken / path.relative_to(FIXTURE_CONTENT)).write_text(
            path.read_text(encoding="utf-8"), encoding="utf-8"
        )
    topic = broken / "topics" / "permit_lost.yaml"
    topic.write_text(
        topic.read_text(encoding="utf-8").replace("area: permits", "area: pizza"), encoding="utf-8"
    )
    invalid = run(tmp_path, "content", "check", str(broken))
    assert invalid.returncode == 1
    assert "error: topics/permit_lost.yaml:2: unknown area 'pizza'" in invalid.stdout


def test_content_check_shows_the_line_a_caret_and_a_hint(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE_CONTENT, broken)
    topic = broken / "topics" / "permit_lost.yaml"
    text = topic.read_text(encoding="utf-8")
    topic.write_text(
        text.replace("  en: Lost or stolen permit", "  en: Lost: what to do"), encoding="utf-8"
    )
    result = run(tmp_path, "content", "check", str(broken))
    assert result.returncode == 1
    assert result.stdout.startswith(
        "error: topics/permit_lost.yaml:6: a colon followed by a space (': ') inside a text: "
        "YAML takes the words before it for a new key\n"
        "  6 |   en: Lost: what to do\n"
        "    |           ^\n"
        '  hint: put the whole text in double quotes: en: "Lost: what to do"\n'
        "\n1 error(s) in"
    ), result.stdout


def test_content_check_names_the_missing_translations(tmp_path: Path) -> None:
    result = run(tmp_path, "content", "check", str(FIXTURE_CONTENT))
    assert "  ar  counter_hours (title, answer), permit_lost (title, answer)\n" in result.stdout, (
        result.stdout
    )
    table = result.stdout.split("language ", 1)[1]
    assert "\nar                0      1        2      0         0\n" in table


def test_content_new_then_check_then_fill_in_then_it_loads(
    tmp_path: Path, repo_content_copy: Path
) -> None:
    root = repo_content_copy
    created = run(tmp_path, "content", "new", "permit_renewal_online", str(root))
    assert created.returncode == 0, created.stdout + created.stderr
    path = root / "topics" / "permit_renewal_online.yaml"
    assert f"written: {path}" in created.stdout
    assert "menu 'menu_permits', change line 31:" in created.stdout  # the area: permits
    old, new = created.stdout.split("change line 31:\n", 1)[1].split("\nto:\n")
    new = new.split("\n", 1)[0]
    assert new.endswith(", permit_renewal_online]") and new.startswith(old[:-1])
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[4:6] == ["id: permit_renewal_online", "area: permits"]
    assert [line.split(":")[0] for line in lines[8:18]] == [
        "  it", "  en", "  fr", "  ar", "  es", "  sq", "  uk", "  ur", "  zh", "  bn"
    ]  # fmt: skip

    # Until they are filled, the check names the empty fields at their lines.
    check = run(tmp_path, "content", "check", str(root))
    assert check.returncode == 1
    for expected in (
        "topics/permit_renewal_online.yaml:7: 'reviewed' is empty",
        "topics/permit_renewal_online.yaml:9: empty 'title' in 'it'",
        "topics/permit_renewal_online.yaml:21: empty 'answer' in 'it'",
        "topics/permit_renewal_online.yaml:56: source 'url' must be a non-empty text",
        "topics/permit_renewal_online.yaml:57: source 'title' must be a non-empty text",
        "topics/permit_renewal_online.yaml:58: 'read' is empty",
    ):
        assert f"error: {expected}" in check.stdout, check.stdout

    # Filled in as an editor would: every text, the date, the source; then the menu line.
    today = datetime.date.today().isoformat()
    filled = []
    for line in lines:
        code = line.strip().split(":")[0]
        if line.startswith("reviewed:"):
            line = f"reviewed: {today}"
        elif line.startswith("  - url:"):
            line = "  - url: https://www.poliziadistato.it/articolo/10619"
        elif line.startswith("    title:"):
            line = "    title: Polizia di Stato - Permesso di soggiorno"
        elif line.startswith("    read:"):
            line = f"    read: {today}"
        elif line.endswith(": |"):
            line = f"  {code}: Risposta ({code})."
        elif line.startswith("  ") and line.rstrip().endswith(":") and len(code) == 2:
            line = f"  {code}: Titolo ({code})"
        filled.append(line)
    path.write_text("\n".join(filled) + "\n", encoding="utf-8")
    unreachable = run(tmp_path, "content", "check", str(root))
    assert "'permit_renewal_online' cannot be reached from the root menu" in unreachable.stdout
    menu = root / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    valid = run(tmp_path, "content", "check", str(root))
    assert "error" not in valid.stdout, valid.stdout
    topics = len(list((REPO_CONTENT / "topics").glob("*.yaml"))) + 1  # and the new one
    assert "valid (version" in valid.stdout and f"{topics} topics" in valid.stdout


@pytest.mark.parametrize(
    ("topic_id", "refusal"),
    [
        ("permit_lost", "exists already: choose another id"),
        ("menu_permits", "is already the id of a menu"),
        ("Permit-Online", "cannot be a topic id"),
    ],
)
def test_content_new_refuses_a_used_or_bad_id(
    tmp_path: Path, repo_content_copy: Path, topic_id: str, refusal: str
) -> None:
    before = sorted(path.name for path in (repo_content_copy / "topics").iterdir())
    result = run(tmp_path, "content", "new", topic_id, str(repo_content_copy))
    assert result.returncode == 2
    assert refusal in result.stdout
    assert sorted(path.name for path in (repo_content_copy / "topics").iterdir()) == before


def test_content_check_stale_days(tmp_path: Path) -> None:
    result = run(tmp_path, "content", "check", str(FIXTURE_CONTENT), "--stale-days", "1")
    assert result.returncode == 1  # valid, so the bot would load it, but not fit to publish
    assert "stale = reviewed more than 1 days ago" in result.stdout
    assert "problem: topics/permit_renewal.yaml:3: reviewed on 2026-11-20" in result.stdout
    assert "problem(s): the bot loads this content, but fix them" in result.stdout


def test_content_check_lists_the_topics_a_law_touches(tmp_path: Path) -> None:
    result = run(tmp_path, "content", "check", str(FIXTURE_CONTENT), "--law", "d.lgs. 286/1998")
    assert result.returncode == 0, result.stdout
    assert "1 topic(s) rest on 'd.lgs. 286/1998':" in result.stdout
    assert "topics/permit_renewal.yaml: Rinnovo del permesso (reviewed 2026-11-20)" in result.stdout
    none = run(tmp_path, "content", "check", str(FIXTURE_CONTENT), "--law", "L. 187/2024")
    assert "no topic names 'L. 187/2024'" in none.stdout


def test_bad_configuration_is_explained(tmp_path: Path) -> None:
    result = run(tmp_path, "chat", env={"PORT": "nope", "SPORTELLO_TIMEZONE": "Nowhere/City"})
    assert result.returncode == 2
    assert "PORT must be a whole number" in result.stderr
    assert "SPORTELLO_TIMEZONE" in result.stderr


def test_invalid_content_at_start_is_explained(tmp_path: Path) -> None:
    result = run(tmp_path, "chat", env={"SPORTELLO_CONTENT": str(tmp_path)})
    assert result.returncode == 2
    assert "content check" in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_healthz_and_stops_on_signal(tmp_path: Path, database_target: str) -> None:
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "SPORTELLO_DB": database_target,
        "SPORTELLO_CONTENT": str(REPO_CONTENT),
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
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                body = response.json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert body is not None, (
            process.stderr.read() if process.stderr and process.poll() is not None else "no answer"
        )
        assert body["status"] == "ok"
        assert body["content"]["topics"] > 10
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close() if process.stdout else None
        process.stderr.close() if process.stderr else None
    assert process.returncode in (0, 130)


def test_booking_through_the_terminal_chat(tmp_path: Path, database_target: str) -> None:
    """The fixture content gives the Luino office slots for renewals; the repository's has no
    opening hours, and takes requests (below)."""
    script = "vorrei un appuntamento\n1\n1\n1\nAmina Rossi\n333 1234567\n1\n"
    result = run(
        tmp_path,
        "chat",
        "--lang",
        "it",
        stdin=script,
        env={"SPORTELLO_CONTENT": str(FIXTURE_CONTENT)},
        database=database_target,
    )
    assert result.returncode == 0, result.stderr
    assert "LU-" in result.stdout.split("> 1\n")[-1]  # the code, after the last confirmation
    again = run(
        tmp_path,
        "chat",
        "--lang",
        "it",
        stdin="i miei appuntamenti\n",
        env={"SPORTELLO_CONTENT": str(FIXTURE_CONTENT)},
        database=database_target,
    )
    assert "LU-" in again.stdout  # stored: a new run of the chat still finds it


def test_the_repository_content_takes_a_request_in_the_terminal_chat(
    tmp_path: Path, database_target: str
) -> None:
    """As a new user would try it with `make run`: "I want an appointment" leads to a request
    and its code, with no opening hours invented."""
    # The service, its two questions about the documents (work, the kit), as soon as possible,
    # the language, name, phone, send.
    script = "I want an appointment\n1\n1\n1\n1\n1\nAmina Rossi\n333 1234567\n1\n"
    result = run(tmp_path, "chat", "--lang", "en", stdin=script, database=database_target)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1. Residence permit renewal" in out
    assert "When can you come to the counter?" in out
    assert "- When you can come: as soon as possible, any day" in out
    assert "Form 2 of the kit, for work-related permits (Modulo 2 del kit)" in out
    assert "Your request is sent. Your code is LU-" in out
    assert "The counter will phone you" in out  # the terminal cannot be written to later
    again = run(
        tmp_path, "chat", "--lang", "en", stdin="my appointments\n", database=database_target
    )
    assert "waiting for the counter to propose a time" in again.stdout


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """`sportello content check | head`: the pipe closes before everything is written."""
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "content", "check", str(REPO_CONTENT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"},
    ) as command:
        assert command.stdout is not None and command.stderr is not None
        command.stdout.close()  # the reader has gone before the first line (`head -0`)
        errors = command.stderr.read().decode()
        command.wait(timeout=60)
    assert "Traceback" not in errors and "BrokenPipe" not in errors


def test_a_shared_question_reaches_the_editors(tmp_path: Path, database_target: str) -> None:
    chat = run(
        tmp_path, "chat", "--lang", "en", stdin="zxqv blorf wimble\n1\n", database=database_target
    )
    assert chat.returncode == 0, chat.stderr
    assert "Share my question with the counter" in chat.stdout
    assert "The counter's editors will read your question" in chat.stdout
    listed = run(tmp_path, "unanswered", database=database_target)
    assert listed.returncode == 0, listed.stderr
    assert "1 question(s) shared in the last 30 days" in listed.stdout
    assert "[en]" in listed.stdout and "zxqv blorf wimble" in listed.stdout
    records = [
        json.loads(line)
        for line in run(
            tmp_path, "unanswered", "--format", "json", database=database_target
        ).stdout.splitlines()
    ]
    assert [(r["language"], r["text"]) for r in records] == [("en", "zxqv blorf wimble")]


def test_ask_json_shows_what_an_unsure_answer_offered(tmp_path: Path) -> None:
    result = run(tmp_path, "ask", "--json", "-", stdin="zxqv blorf wimble\n")
    record = json.loads(result.stdout)
    assert record["intent"] == "fallback" and record["matches"] == []
    assert set(record) >= {"nearest", "answer"}


def test_the_repository_content_understands_people_as_they_write(tmp_path: Path) -> None:
    """The mechanisms on the shipped content: Latin-letter Urdu and Bengali, Arabizi, a topic
    that outweighs an intent word inside it, small talk left unanswered."""
    questions = {
        "mera permesso khatam ho gaya hai kya karun": ("ur", "topic", "permits"),
        "amar permesso harai geche ki korbo": ("bn", "topic", "permits"),
        "bghit n3ref kifach ndir renouvellement dyal permesso": ("ar", "topic", "permits"),
        # "talk to anyone" is a request for a person, unless the message shows danger.
        "my husband does not let me talk to anyone, he hits me": ("en", "danger", None),
        "appuntamento in questura per le impronte cosa devo portare": ("it", "topic", "permits"),
        "quanto costa una pizza a luino": ("it", "fallback", None),
        # The documents to bring: the topic whose buttons make the personal list.
        "quali documenti servono": ("it", "topic", "counter"),
        "what documents do i need": ("en", "topic", "counter"),
    }
    result = run(tmp_path, "ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    found = [
        (r["lang"], r["intent"], r["matches"][0]["area"] if r["intent"] == "topic" else None)
        for r in records
    ]
    assert found == list(questions.values())


def _serving(process: subprocess.Popen[bytes], port: int) -> dict[str, object]:
    """Wait until ``serve`` answers /healthz; its answer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return dict(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json())
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"serve on port {port} never answered (status {process.poll()})")


def test_a_second_telegram_poller_on_the_same_database_is_refused(
    tmp_path: Path, database_target: str
) -> None:
    """Telegram gives each update to one poller: a second instance polling for the same
    database says which instance polls and what to do, and stops before serving anything.
    Another instance in webhook mode starts beside it; commands that only read go on."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "SPORTELLO_DB": database_target,
        "SPORTELLO_CONTENT": str(REPO_CONTENT),
        "HOST": "127.0.0.1",
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token",
        # Nobody answers there: the channel keeps trying in the background, as in an outage.
        "TELEGRAM_API_URL": f"http://127.0.0.1:{_free_port()}",
    }
    first_port, second_port, third_port = _free_port(), _free_port(), _free_port()
    started: list[subprocess.Popen[bytes]] = []

    def start(port: int, **extra: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env={**environment, "PORT": str(port), **extra},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    try:
        first = start(first_port)
        _serving(first, first_port)
        second = subprocess.run(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env={**environment, "PORT": str(second_port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert shown(database_target) in lines[0] and f":{first.pid}:" in lines[0]
        assert "TELEGRAM_WEBHOOK_URL" in lines[0]
        assert "serving" not in second.stdout + second.stderr
        hook = f"http://127.0.0.1:{third_port}/telegram"
        third = start(third_port, TELEGRAM_WEBHOOK_URL=hook)
        health = _serving(third, third_port)
        leases = health["leases"]
        assert isinstance(leases, dict) and f":{first.pid}:" in leases["telegram-polling"]
        assert f":{third.pid}:" in str(health["instance"])
        stats = run(tmp_path, "stats", database=database_target)
        assert stats.returncode == 0, stats.stderr
    finally:
        for process in started:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            first.wait()


def test_ask_with_an_unknown_language_says_which_there_are(tmp_path: Path) -> None:
    result = run(tmp_path, "ask", "come rinnovo il permesso", "--lang", "xx")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Unknown language 'xx'; choose one of: it, en")
    assert result.stdout == ""
