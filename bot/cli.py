"""This module contains the ``sportello`` command line: chat, serve, content check, ask."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from bot import __version__, arguments
from bot.channels import ADAPTERS
from bot.config import ConfigError, Settings
from bot.content.catalog import Catalog
from bot.content.coverage import missing_fields, missing_translations
from bot.content.identity import staff_name
from bot.content.loader import ContentError, ContentIssue, Validation, load_catalog, validate
from bot.content.quality import QualityRules, review, topics_citing
from bot.content.translation_commands import COMMANDS as TRANSLATION_COMMANDS
from bot.content.translation_commands import add_commands as add_translation_commands
from bot.content.translation_commands import run as run_translation_command
from bot.content.translations import stale_counts, stale_list
from bot.i18n import CatalogNotCompiledError
from bot.storage.db import DatabaseUnavailable
from bot.storage.records import Event

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sportello",
        description="Multilingual information and appointment bot of a help desk for immigrants "
        "(the content folder says which).",
        epilog="Configuration comes from environment variables and ./.env "
        "(see deploy/.env.example).",
    )
    parser.add_argument("--version", action="version", version=f"sportello {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser(
        "chat",
        help="talk to the bot in this terminal (no network needed)",
        description="Talk to the bot in this terminal. Type a number, an option or a question; "
        "'menu', 'back' and 'language' (in any enabled language) navigate; /quit or end of "
        "input leaves. Input may be piped: printf '1\\n1\\n' | sportello chat --lang it",
    )
    chat.add_argument(
        "--lang",
        type=arguments.words,
        metavar="CODE",
        help="start in this language instead of asking",
    )
    chat.add_argument(
        "--user",
        type=arguments.words,
        default="local",
        help="conversation id to use (default: local)",
    )

    commands.add_parser(
        "serve",
        help="run the web server (health check; channel webhooks) on HOST:PORT",
        description="Run the bot's web server on HOST:PORT with GET /healthz. Content changes "
        "are picked up without a restart.",
    )

    content = commands.add_parser("content", help="work with the content folder")
    content_commands = content.add_subparsers(
        dest="content_command", required=True, metavar="ACTION"
    )
    train = content_commands.add_parser(
        "train",
        help="train the understanding of free text on the content now, and keep it",
        description="Train the classifier that understands free text on SPORTELLO_CONTENT and "
        "keep it in SPORTELLO_CACHE_DIR, so that the next `chat` or `serve` starts at once. "
        "They train it themselves when the content changed; `make install` runs this.",
    )
    train.add_argument(
        "path", nargs="?", type=arguments.folder, help="content folder (default: SPORTELLO_CONTENT)"
    )
    check = content_commands.add_parser(
        "check",
        help="validate content and show translation coverage",
        description="Validate SPORTELLO_CONTENT: print every error with file and line (a YAML "
        "slip with the line, a caret under it and how to fix it), then every quality problem (a "
        "topic not reviewed for too long, a source that is a home page or has no 'read' date, a "
        "translation whose numbers differ from the Italian, a fee or deadline with no specific "
        "source), then the translations made from an older Italian text, then a per-language "
        "coverage table (missing, draft, stale, outdated) and the topics each language lacks. "
        "Exits 1 on errors or problems.",
    )
    check.add_argument(
        "path", nargs="?", type=arguments.folder, help="content folder (default: SPORTELLO_CONTENT)"
    )
    check.add_argument(
        "--stale-days",
        type=arguments.days_or_none,
        metavar="DAYS",
        help="a topic reviewed longer ago than this is stale "
        "(default: SPORTELLO_STALE_DAYS or 365)",
    )
    check.add_argument(
        "--law",
        type=arguments.words,
        metavar="NORM",
        help='list the topics that rest on this norm, e.g. --law "L. 187/2024" '
        '(a law also finds its articles: "D.Lgs. 286/1998" finds "D.Lgs. 286/1998 art. 29")',
    )
    add_translation_commands(content_commands)

    _add_content_new(content_commands)
    _add_operations(commands)
    _add_database(commands)

    ask = commands.add_parser(
        "ask",
        help="show how the bot understands and answers a question",
        description="Print the detected language, what the bot would do (topic, unsure, "
        "fallback or an action), the topic answered or the topics offered ('did you mean') with "
        "their scores, the nearest topic when none was close enough, and the answer. With '-' "
        "read one question per line from standard input.",
    )
    ask.add_argument(
        "question",
        type=arguments.words,
        help="the question, or '-' to read questions from standard input",
    )
    ask.add_argument("--lang", type=arguments.words, metavar="CODE", help="answer in this language")
    ask.add_argument(
        "--json", action="store_true", help="one JSON object per question, one per line"
    )
    _monitoring_commands(commands)
    return parser


def _monitoring_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``stats`` and ``report``: the counter's anonymous activity figures of a period."""
    stats = commands.add_parser(
        "stats",
        help="the counter's activity in a period: consultations, bookings, unanswered questions",
        description="Print the anonymous activity figures of a period: consultations by area, "
        "topic, language, channel and month; unique users; bookings by service and office with "
        "attendance and no-show rates; handovers; unanswered questions grouped by nearest topic.",
    )
    report = commands.add_parser(
        "report",
        help="the same figures as one self-contained HTML page with charts",
        description="Write one HTML page with charts and the tables of `sportello stats`. It "
        "holds everything inside (no scripts, fonts or links to fetch): it opens from a USB "
        "stick and prints to PDF.",
    )
    for command in (stats, report):
        command.add_argument(
            "--from",
            dest="first",
            type=arguments.day,
            metavar="YYYY-MM-DD",
            help="first day (default: the first of this month)",
        )
        command.add_argument(
            "--to",
            dest="last",
            type=arguments.day,
            metavar="YYYY-MM-DD",
            help="last day, included (default: today)",
        )
        command.add_argument(
            "--office",
            type=arguments.words,
            metavar="ID",
            help="only this office's bookings and the consultations logged there; those of no "
            "office (online, or logged without one) are left out and only counted",
        )
    stats.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.add_argument("--out", type=arguments.new_file, required=True, metavar="FILE.html")
    unanswered = commands.add_parser(
        "unanswered",
        help="questions users chose to share after the bot found no answer",
        description="List the questions users agreed to share with the counter when the bot "
        "did not understand them (nothing is kept without that consent), newest first, with "
        "their language and the nearest topic. They are deleted after SPORTELLO_RETENTION_DAYS.",
    )
    unanswered.add_argument(
        "--days",
        type=arguments.count,
        default=30,
        metavar="N",
        help="shared in the last N days (default 30)",
    )
    unanswered.add_argument("--format", choices=("table", "json"), default="table")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, so that a reader gone early is caught below
    except BrokenPipeError:
        # `sportello content check | head`: the reader has gone; nothing more to say. Point
        # stdout at /dev/null so that Python's own flush at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # reports a broken configuration itself, as one of its checks
        from bot.ops.doctor import report, run_checks

        return report(asyncio.run(run_checks()), sys.stdout)
    try:
        settings = Settings.from_env()
        # The chat and ask share the terminal with a person: only problems, unless asked for.
        quiet = args.command in ("chat", "ask") and "SPORTELLO_LOG_LEVEL" not in os.environ
        logging.basicConfig(
            level="WARNING" if quiet else settings.log_level,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if settings.log_format == "json":
            from bot.ops.logs import use_json_logs

            use_json_logs()
        # At DEBUG these log SQL values, message texts, phone numbers or the bot's token;
        # Alembic says at INFO which dialect it found each time a database is opened.
        for chatty in (
            "aiosqlite",
            "alembic",
            "telegram",
            "httpx",
            "httpcore",
            "twilio",
            "aiohttp",
            "matplotlib",
        ):
            logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
        if args.command == "backup":
            return _backup(settings, args.destination, args.keep)
        if args.command == "restore":
            return _restore(settings, args.source, args.force)
        if args.command == "db":
            return _db(settings, args.source, args.target)
        if args.command == "outbox":
            return asyncio.run(_outbox_retry(settings, args.hours, args.channel))
        if args.command == "content" and args.content_command == "new":
            return content_new(settings, args.topic_id, args.area, args.path, sys.stdout)
        if args.command == "content" and args.content_command == "train":
            return train_understanding(settings, args.path, sys.stdout)
        if args.command == "content" and args.content_command in TRANSLATION_COMMANDS:
            return run_translation_command(args, settings.content_dir, sys.stdout)
        if args.command == "content":
            return content_check(settings, args.path, args.stale_days, sys.stdout, args.law)
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.lang, args.user))
        if args.command == "ask":
            return asyncio.run(_ask(settings, args.question, args.lang, args.json))
        if args.command in ("stats", "report"):
            return _monitoring(settings, args)
        if args.command == "unanswered":
            return asyncio.run(_unanswered(settings, args.days, args.format, sys.stdout))
        sys.setswitchinterval(SERVER_SWITCH_INTERVAL)
        with asyncio.Runner(loop_factory=_server_loop_factory()) as runner:
            return runner.run(_serve(settings))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except ContentError as error:
        print(
            f"The content is invalid; run `sportello content check` for details.\n{error}",
            file=sys.stderr,
        )
        return 2
    except CatalogNotCompiledError as error:
        print(f"Interface translations are not built: {error}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _chat(settings: Settings, language: str | None, user: str) -> int:
    from bot.app import services
    from bot.channels.console import ConsoleChannel

    async with services(settings) as bot:
        if language is not None and _unknown_language(bot.content.catalog, language):
            return 2
        channel = ConsoleChannel(
            bot.engine,
            sys.stdin,
            sys.stdout,
            user_id=user,
            language=language.lower() if language else None,
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
        )
        await channel.run()
    return 0


def _unknown_language(catalog: Catalog, code: str) -> bool:
    """Say so if ``--lang`` is not an enabled language (then True)."""
    if catalog.language(code.lower()) is not None:
        return False
    codes = ", ".join(language.code for language in catalog.enabled_languages)
    print(f"Unknown language {code!r}; choose one of: {codes}", file=sys.stderr)
    return True


async def _ask(settings: Settings, question: str, language: str | None, as_json: bool) -> int:
    from bot.app import services

    questions = [line.strip() for line in sys.stdin] if question == "-" else [question]
    async with services(settings, persistent=False) as bot:
        if language is not None and _unknown_language(bot.content.catalog, language):
            return 2
        language = language.lower() if language else None
        for text in questions:
            if not text:
                continue
            answer = await bot.engine.ask(text, language)
            matches = [{"topic": m.topic, "area": m.area, "score": m.score} for m in answer.matches]
            nearest = answer.nearest
            if as_json:
                record = {
                    "lang": answer.language,
                    "intent": answer.intent,
                    "matches": matches,
                    "nearest": (
                        {"topic": nearest.topic, "area": nearest.area, "score": nearest.score}
                        if nearest
                        else None
                    ),
                    "answer": answer.text,
                }
                print(json.dumps(record, ensure_ascii=False))
                continue
            print(f"question: {text}\nlanguage: {answer.language}\nintent:   {answer.intent}")
            for match in matches:
                print(f"  {match['score']:.3f}  {match['topic']}  ({match['area']})")
            if not matches and nearest is not None:
                print(f"  nearest, too far to offer: {nearest.score:.3f}  {nearest.topic}")
            print(f"answer:\n{answer.text}\n")
    return 0


def _monitoring(settings: Settings, args: argparse.Namespace) -> int:
    """``stats`` prints the figures of a period; ``report`` writes them as an HTML page."""
    from bot.monitoring import tables
    from bot.monitoring.stats import summarise

    today = datetime.now(settings.tz).date()
    first: date = args.first or today.replace(day=1)
    last: date = args.last or today
    if last < first:
        print(f"--to ({last}) is before --from ({first})", file=sys.stderr)
        return 2
    catalog = validate(settings.content_dir).catalog
    if args.office is not None:
        if catalog is None:
            print(
                "The content is invalid, so --office cannot be checked; run `sportello content "
                "check` for details.",
                file=sys.stderr,
            )
            return 2
        offices = [office.id for office in catalog.offices]
        if args.office not in offices:
            print(
                f"Unknown office {args.office!r}; choose one of: {', '.join(offices)}",
                file=sys.stderr,
            )
            return 2
    if _no_database(settings):
        print(
            f"No database at {settings.db_path} (SPORTELLO_DB): nothing recorded.", file=sys.stderr
        )
        return 2
    events = asyncio.run(_events(settings, first, last))
    summary = summarise(events, settings.tz, first, last, args.office)
    if catalog is not None:
        summary = replace(summary, stale_translations=stale_counts(catalog))
    names = tables.Names.of_catalog(catalog)
    if args.command == "report":
        from bot.monitoring.report import render

        try:
            args.out.write_text(render(summary, names, datetime.now(settings.tz)), encoding="utf-8")
        except OSError as error:
            print(f"the report cannot be written to {args.out}: {error.strerror}", file=sys.stderr)
            return 1
        print(f"report written to {args.out}")
        return 0
    formats = {"table": tables.as_text, "csv": tables.as_csv, "json": tables.as_json}
    text = formats[args.format](summary, names)
    if args.format == "csv":  # the byte-order mark and \r\n as they are, on every system
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(text)
    return 0


async def _events(settings: Settings, first: date, last: date) -> list[Event]:
    """The monitoring events of these local days, from the database."""
    from bot.storage.db import Database
    from bot.storage.events import EventStore

    async with Database(settings.db_path) as database:
        return await EventStore(database).between(
            datetime.combine(first, time(0), settings.tz),
            datetime.combine(last + timedelta(days=1), time(0), settings.tz),
        )


#: How long a thread holds the interpreter before another may take it (Python's default: 5 ms).
#: The server's event loop shares it with the content reload's and the database's threads: with
#: 1 ms, a reply waits at most that long for its turn (p99 during a reload: 60 ms to 15 ms).
SERVER_SWITCH_INTERVAL = 0.001


def _server_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (not on Windows): webhooks cost less CPU."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _serve(settings: Settings) -> int:
    import signal

    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: with this
    # handler that ends the process with status 0, as service managers expect.
    signal.signal(signal.SIGTERM, _exit_cleanly)

    # Several `serve` on one database share the work through leases (bot.storage.leases);
    # only Telegram's long polling, which one instance alone may do, refuses a second one.
    return await _run_server(settings)


async def _run_server(settings: Settings) -> int:
    # The port first: nothing may start (nor say it serves) if another program holds it.
    listening = _listen(settings.host, settings.port)
    if listening is None:
        return 1
    with listening:
        return await _serve_on(settings, listening)


async def _serve_on(settings: Settings, listening: socket.socket) -> int:
    from bot.app import SecondPoller, services

    try:
        async with services(settings, channels=True) as bot:
            return await _serve_bot(settings, bot, listening)
    except SecondPoller as error:
        print(error, file=sys.stderr)
        return 1


async def _serve_bot(settings: Settings, bot: Services, listening: socket.socket) -> int:
    import uvicorn

    from bot.web import create_web_app

    if not bot.listening:
        log.warning(
            "no channel is configured: nobody can write to this bot (only GET /healthz "
            "answers). For Telegram set TELEGRAM_BOT_TOKEN; for WhatsApp set "
            "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM; for the web "
            "chat set WEBCHAT_ENABLED=true (see deploy/.env.example); then start it again"
        )
    config = uvicorn.Config(
        create_web_app(bot),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # In JSON, uvicorn's own lines go through the root logger's JSON handler too.
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )
    # uvicorn.Config has set its loggers up: now no query string reaches the access log.
    from bot.ops.logs import redact_access_log

    redact_access_log()
    log.info("serving on http://%s:%d (GET /healthz)", settings.host, settings.port)
    await uvicorn.Server(config).serve(sockets=[listening])
    return 0


def _listen(host: str, port: int) -> socket.socket | None:
    """The server's socket, bound; None (and one line said) if the address cannot be had."""
    # As uvicorn binds: IPv6 when the host is an IPv6 address, and SO_REUSEADDR.
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        reason = (error.strerror or str(error)).lower()
        print(
            f"cannot serve on {host}:{port}: {reason} (another program, or another "
            "`sportello serve`, may be using it); stop it or set another PORT",
            file=sys.stderr,
        )
        return None
    listening.set_inheritable(True)
    return listening


def coverage_rows(catalog: Catalog, stale_before: date) -> list[tuple[str, int, int, int, int]]:
    """Per enabled language: reviewed, draft, missing and stale topic counts."""
    rows = []
    for language in catalog.enabled_languages:
        reviewed = draft = missing = stale = 0
        for topic in catalog.topics.values():
            if missing_fields(topic, language.code):
                missing += 1
                continue
            if topic.is_draft(language.code):
                draft += 1
            else:
                reviewed += 1
            if topic.reviewed < stale_before:
                stale += 1
        rows.append((language.code, reviewed, draft, missing, stale))
    return rows


def train_understanding(settings: Settings, path: Path | None, out: TextIO) -> int:
    """``sportello content train``: the understanding trained now, not at the first question."""
    import time

    from bot.core.understanding import Understanding

    root = path or settings.content_dir
    # An invalid folder raises ContentError: reported by main.
    catalog = load_catalog(root, cache=settings.cache_dir)
    began = time.perf_counter()
    understanding = Understanding(catalog, settings.cache_dir)
    seconds = time.perf_counter() - began
    kept = f"kept in {settings.cache_dir}" if settings.cache_dir else "not kept (no cache folder)"
    print(
        f"understanding of {root} ready in {seconds:.1f} s "
        f"({len(understanding.classifier.labels)} labels), {kept}",
        file=out,
    )
    return 0


def content_check(
    settings: Settings,
    path: Path | None,
    stale_days: int | None,
    out: TextIO,
    law: str | None = None,
) -> int:
    root = path or settings.content_dir
    validation: Validation = validate(root)
    hinted: set[str] = set()
    for issue in validation.errors:
        print(f"error: {issue}", file=out)
        _show_where(root, issue, out, hinted)
    for issue in validation.warnings:
        print(f"warning: {issue}", file=out)
    if validation.catalog is None:
        print(
            f"\n{len(validation.errors)} error(s) in {root}: the bot will not load this content.",
            file=out,
        )
        return 1
    catalog = validation.catalog
    days = stale_days if stale_days is not None else settings.stale_after_days
    rules = QualityRules(today=date.today(), max_age_days=days)
    if law is not None:
        return _topics_citing(catalog, law, out)
    problems = review(root, catalog, rules)
    for issue in problems:
        print(f"problem: {issue}", file=out)
    print(
        f"content {root}: valid (version {catalog.version}), {len(catalog.topics)} topics, "
        f"{len(catalog.menus)} menus, {len(catalog.offices)} offices",
        file=out,
    )
    print(
        f"counter: {staff_name(catalog)}; areas: {', '.join(a.id for a in catalog.desk.areas)}; "
        f"services: {', '.join(catalog.services) or 'none'}; languages: "
        f"{', '.join(language.code for language in catalog.enabled_languages)}",
        file=out,
    )
    outdated = stale_list(catalog)
    if outdated:
        print(
            "\noutdated translations (the Italian changed after they were made; the bot shows "
            "them as not yet checked; they do not fail the check):",
            file=out,
        )
        for file, name, codes in outdated:
            print(f"  {file}: {name} in {', '.join(codes)}", file=out)
    behind = stale_counts(catalog)
    print(
        f"\n{'language':<10}{'reviewed':>9}{'draft':>7}{'missing':>9}{'stale':>7}{'outdated':>10}",
        file=out,
    )
    for code, reviewed, draft, missing, stale in coverage_rows(catalog, rules.reviewed_after):
        print(
            f"{code:<10}{reviewed:>9}{draft:>7}{missing:>9}{stale:>7}{behind.get(code, 0):>10}",
            file=out,
        )
    print(
        f"\nstale = reviewed more than {days} days ago (before {rules.reviewed_after.isoformat()})"
        "\noutdated = titles and answers translated from an older Italian text: "
        "`sportello content export --lang CODE` writes them for a translator",
        file=out,
    )
    _print_missing(catalog, out)
    if problems:
        print(
            f"\n{len(problems)} problem(s): the bot loads this content, but fix them before "
            "publishing it.",
            file=out,
        )
        return 1
    return 0


def content_new(
    settings: Settings, topic_id: str, area: str | None, path: Path | None, out: TextIO
) -> int:
    """``sportello content new``: a topic file to fill in, and the menu line that lists it."""
    from bot.content.loader import ID_PATTERN
    from bot.content.template import likely_area, menu_entry, topic_template

    root = path or settings.content_dir
    if not ID_PATTERN.match(topic_id):
        print(
            f"{topic_id!r} cannot be a topic id: use lowercase letters, digits and '_', "
            "starting with a letter, at most 60 (such as permit_online)",
            file=out,
        )
        return 2
    target = root / "topics" / f"{topic_id}.yaml"
    if target.exists():
        print(f"{target} exists already: choose another id, or edit that file", file=out)
        return 2
    catalog = validate(root).catalog
    if catalog is None:
        print(
            f"the content in {root} has errors: fix them first (`sportello content check`)",
            file=out,
        )
        return 1
    if topic_id in catalog.menus:
        print(f"{topic_id!r} is already the id of a menu in menu.yaml: choose another", file=out)
        return 2
    areas = [known.id for known in catalog.desk.areas]
    if area is not None and area not in areas:
        print(f"unknown area {area!r}: one of {', '.join(areas)} (desk.yaml)", file=out)
        return 2
    area = area or likely_area(catalog, topic_id)
    today = date.today().isoformat()
    target.write_text(
        topic_template(topic_id, area, catalog.enabled_languages, today, areas), encoding="utf-8"
    )
    print(f"written: {target}", file=out)
    print(
        "1. Fill in its empty fields: `sportello content check` lists each one still empty."
        + ("" if area else " Write its 'area' too."),
        file=out,
    )
    entry = menu_entry(root, catalog, topic_id, area)
    if entry is None:
        print(f"2. List {topic_id} in the 'items' of a menu in {root / 'menu.yaml'}.", file=out)
    else:
        where = "change line" if entry.replaces else "after line"
        print(
            f"2. List it in a menu: in {root / 'menu.yaml'}, menu {entry.menu!r}, {where} "
            f"{entry.line}:\n{entry.old}\n"
            + ("to:\n" if entry.replaces else "add:\n")
            + f"{entry.new}\n"
            f"   (or under 'children:' of the topic it belongs to)",
            file=out,
        )
    print("3. Run `sportello content check` until it finds nothing.", file=out)
    return 0


def _show_where(root: Path, issue: ContentIssue, out: TextIO, hinted: set[str]) -> None:
    """The line that holds a mistake, a caret under the spot, and how to fix it (a hint once:
    twenty empty translations need it said once)."""
    import unicodedata

    if issue.hint and issue.column is None and issue.hint not in hinted:
        hinted.add(issue.hint)
        print(f"  hint: {issue.hint}", file=out)
    if issue.column is None:
        return
    try:
        lines = (root / issue.file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    if 1 <= issue.line <= len(lines):
        # Tabs shown as one space, wide (Chinese) characters as two columns: the caret must
        # stand under the spot in a terminal.
        shown = lines[issue.line - 1].replace("\t", " ")
        before = shown[: issue.column]
        width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before)
        number = str(issue.line)
        print(f"  {number} | {shown}", file=out)
        print(f"  {' ' * len(number)} | {' ' * width}^", file=out)
    if issue.hint:
        print(f"  hint: {issue.hint}", file=out)


def _print_missing(catalog: Catalog, out: TextIO) -> None:
    """``content check``: which topic lacks which text in which language."""
    import textwrap

    gaps = {code: found for code, found in missing_translations(catalog).items() if found}
    if not gaps:
        return
    print(
        "\nmissing = topics without their title or answer in that language (the bot shows "
        "them in a fallback language):",
        file=out,
    )
    for code, found in gaps.items():
        named = ", ".join(str(gap) for gap in found)
        print(
            textwrap.fill(
                named, width=100, initial_indent=f"  {code:<4}", subsequent_indent=" " * 6
            ),
            file=out,
        )


def _topics_citing(catalog: Catalog, law: str, out: TextIO) -> int:
    """``content check --law``: every topic an editor must re-read when that norm changes."""
    topics = topics_citing(catalog, law)
    if not topics:
        print(f"no topic names {law!r} in its 'law:' list", file=out)
        return 0
    print(f"{len(topics)} topic(s) rest on {law!r}:", file=out)
    for topic in topics:
        norms = "; ".join(topic.law)
        print(
            f"{topic.file}: {topic.title.values['it']} (reviewed {topic.reviewed}) [{norms}]",
            file=out,
        )
    return 0


def _no_database(settings: Settings) -> bool:
    """Whether SPORTELLO_DB names a SQLite file not made yet (opening it would make an empty
    one); a PostgreSQL database is always there to ask."""
    return settings.database_file is not None and not settings.database_file.exists()


def _backup_postgresql(address: str, destination: Path, keep: int | None, tz: ZoneInfo) -> int:
    from bot.storage.backup import BackupError, backup_postgresql, prune_postgresql

    if keep is not None:
        if keep < 1 or (destination.exists() and not destination.is_dir()):
            print("--keep needs a number of at least 1 and a folder as DEST", file=sys.stderr)
            return 2
        destination.mkdir(parents=True, exist_ok=True)
    try:
        written = backup_postgresql(address, destination, tz)
    except (BackupError, OSError) as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    print(f"backup written: {written} ({written.stat().st_size} bytes, pg_dump's archive)")
    for old in prune_postgresql(destination, keep) if keep is not None else []:
        print(f"old backup removed: {old}")
    return 0


def _backup(settings: Settings, destination: Path, keep: int | None) -> int:
    from bot.storage.backup import BackupError, backup, prune

    database = settings.database_file
    if database is None:  # SPORTELLO_DB is a PostgreSQL address
        return _backup_postgresql(str(settings.db_path), destination, keep, settings.tz)
    if _same_file(destination, database):
        print(
            f"{destination} is the live database (SPORTELLO_DB) or one of its files: give "
            "another file, or a folder for the copies",
            file=sys.stderr,
        )
        return 2
    if keep is not None:
        if keep < 1 or (destination.exists() and not destination.is_dir()):
            print("--keep needs a number of at least 1 and a folder as DEST", file=sys.stderr)
            return 2
        destination.mkdir(parents=True, exist_ok=True)  # --keep: DEST is a folder
    try:
        written = backup(database, destination, settings.tz)
    except (BackupError, OSError) as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    print(f"backup written: {written} ({written.stat().st_size} bytes)")
    if keep is not None:
        for old in prune(destination, keep):
            what = "copy of a killed backup" if old.name.endswith(".partial") else "old backup"
            print(f"{what} removed: {old}")
    return 0


def _same_file(path: Path, database: Path) -> bool:
    """Whether writing ``path`` would write the database or its journal files."""
    if path.is_dir():
        return False  # a folder gets a new file named by the time
    target = path.resolve()
    return any(
        target == database.with_name(database.name + suffix).resolve()
        for suffix in ("", "-wal", "-shm", "-journal")
    )


def _restore(settings: Settings, source: Path, force: bool) -> int:
    from bot.storage.backup import BackupError, restore, restore_postgresql
    from bot.storage.db import shown

    database = settings.database_file
    if database is None:  # SPORTELLO_DB is a PostgreSQL address
        try:
            kept = restore_postgresql(source, str(settings.db_path), source.parent, force=force)
        except (BackupError, OSError) as error:
            print(f"restore refused: {error}", file=sys.stderr)
            return 1
        print(f"restored {source} to {shown(settings.db_path)}")
        print(
            f"the data it replaced is kept as {kept} (readable only by this user); delete it "
            "once the bot runs well with the restored database"
        )
        return 0
    try:
        previous = restore(source, database, force=force)
    except (BackupError, OSError) as error:
        print(f"restore refused: {error}", file=sys.stderr)
        return 1
    print(f"restored {source} to {settings.db_path}")
    print("pending migrations, if any, are applied when the bot starts")
    if previous is not None:
        print(
            f"the database it replaced is kept as {previous} (readable only by this user). It "
            "holds personal data too: once the bot runs well with the restored database "
            f"(`sportello doctor`), delete it: rm {previous}"
        )
    return 0


async def _unanswered(settings: Settings, days: int, form: str, out: TextIO) -> int:
    """``sportello unanswered``: what people asked and the content could not answer."""
    import time

    from bot.storage.db import Database
    from bot.storage.questions import SharedQuestions

    if _no_database(settings):
        print(f"there is no database at {settings.db_path} (SPORTELLO_DB)", file=sys.stderr)
        return 1
    async with Database(settings.db_path) as database:
        shared = await SharedQuestions(database, settings.retention_days).since(
            time.time() - days * 86_400
        )
    catalog = validate(settings.content_dir).catalog

    def topic_name(topic: str | None) -> str:
        if topic is None:
            return "(nessun argomento vicino)"
        return catalog.title(topic, "it") if catalog and topic in catalog.topics else topic

    if form == "json":
        for question in shared:
            record = {
                "shared_at": datetime.fromtimestamp(question.shared_at, settings.tz).isoformat(),
                "language": question.language,
                "nearest_topic": question.nearest_topic,
                "text": question.text,
            }
            print(json.dumps(record, ensure_ascii=False), file=out)
        return 0
    print(f"{len(shared)} question(s) shared in the last {days} days", file=out)
    for question in shared:
        when = datetime.fromtimestamp(question.shared_at, settings.tz).strftime("%d/%m/%Y %H:%M")
        nearest = topic_name(question.nearest_topic)
        print(f"\n{when}  [{question.language}]  vicino a: {nearest}", file=out)
        print(f"  {' '.join(question.text.split())}", file=out)
    return 0


async def _outbox_retry(settings: Settings, hours: float, channel: str | None) -> int:
    import time

    from bot.storage.db import Database
    from bot.storage.requeue import requeue_failed

    if _no_database(settings):
        print(f"there is no database at {settings.db_path} (SPORTELLO_DB)", file=sys.stderr)
        return 1
    async with Database(settings.db_path) as database:
        count = await requeue_failed(database, time.time() - hours * 3600, channel)
    print(f"{count} message(s) queued again; a running bot sends them within seconds")
    return 0


def monitoring_figures(events: Sequence[Event], tz: ZoneInfo) -> str:
    """What ``sportello stats --format json`` prints for every day that has events."""
    from bot.monitoring import tables
    from bot.monitoring.stats import summarise

    if not events:
        return ""
    days = [event.hour.astimezone(tz).date() for event in events]
    return tables.as_json(summarise(events, tz, min(days), max(days)))


def _db(settings: Settings, source: str, target: str) -> int:
    """``sportello db copy``, from an existing database only (opening makes a new one)."""
    from bot.storage.db import Database, is_postgresql

    if not is_postgresql(source) and not Path(Database(source).path).is_file():
        print(f"there is no database at {source}", file=sys.stderr)
        return 1
    return asyncio.run(db_copy(settings, source, target, sys.stdout))


async def db_copy(settings: Settings, source: str, target: str, out: TextIO) -> int:
    """A counter's data into an empty database, then checked: rows and figures."""
    from bot.storage.copy import CopyError, copy_database, every_event
    from bot.storage.db import Database, shown

    async with Database(source) as origin, Database(target) as destination:
        try:
            counts = await copy_database(origin, destination)
        except CopyError as error:
            print(f"copy refused: {error}", file=sys.stderr)
            return 1
        print(f"copied {shown(source)} to {shown(target)}", file=out)
        print(f"{'table':<22} {'source':>9} {'target':>9}", file=out)
        for count in counts:
            mark = "" if count.same else "  DIFFERENT"
            print(f"{count.table:<22} {count.source:>9} {count.target:>9}{mark}", file=out)
        same_figures = monitoring_figures(
            await every_event(origin), settings.tz
        ) == monitoring_figures(await every_event(destination), settings.tz)
    print(
        "monitoring figures (sportello stats): "
        + ("the same on both" if same_figures else "DIFFERENT"),
        file=out,
    )
    if not same_figures or not all(count.same for count in counts):
        print("the copy differs from its source: do not use it", file=sys.stderr)
        return 1
    return 0


def _add_database(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``db copy``: a counter's data from one database to another (SQLite and PostgreSQL)."""
    database = commands.add_parser("db", help="the database itself: copy it to another")
    actions = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    copy = actions.add_parser(
        "copy",
        help="copy every table into a new, empty database (SQLite to PostgreSQL, or back)",
        description="Copy every table of the database SOURCE into TARGET, which must be empty "
        "(a new SQLite file, or a new PostgreSQL database or schema: both are migrated to "
        "this program's schema first). Stop the bot first. Afterwards the rows of every table "
        "and the monitoring figures are compared on both sides; exits 1 if anything differs. "
        "Addresses: a file path or sqlite:///path/to/file, postgresql://user@host/db "
        "(?schema=NAME for a schema; the password in the address, or in PGPASSWORD or "
        "~/.pgpass).",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="SOURCE")
    copy.add_argument("--to", dest="target", required=True, metavar="TARGET")


def _add_content_new(content_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``content new``: a topic file to fill in, and the menu line that lists it."""
    new = content_commands.add_parser(
        "new",
        help="write a new topic file to fill in, and say where to list it in menu.yaml",
        description="Write topics/TOPIC_ID.yaml with every field of every enabled language "
        "(Italian first) left empty, then print the line of menu.yaml to change. `sportello "
        "content check` lists every field still empty until it is filled. Refuses an id that "
        "is already used or is not lowercase letters, digits and '_'.",
    )
    new.add_argument("topic_id", metavar="TOPIC_ID", help="the new id, such as permit_online")
    new.add_argument(
        "--area",
        metavar="AREA",
        help="what the topic is about, one of the areas in desk.yaml (default: the area of "
        "the topic whose id is most alike)",
    )
    new.add_argument(
        "path", nargs="?", type=arguments.folder, help="content folder (default: SPORTELLO_CONTENT)"
    )


def _add_operations(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands a server's administrator runs: doctor, backup, restore."""
    commands.add_parser(
        "doctor",
        help="check the installation: settings, content, database, disk, tokens, public address",
        description="Check the configuration, the content, the translations, the database and "
        "its disk, the Telegram token and webhook, the staff group (the bot is in it and may "
        "post), the Twilio account and templates, and that PUBLIC_BASE_URL reaches the bot. "
        "Prints OK, WARN or FAIL with what to do; exits 1 if anything failed.",
    )
    backup = commands.add_parser(
        "backup",
        help="copy the database safely, even while the bot runs",
        description="Copy SPORTELLO_DB to DEST with SQLite's backup API: safe while the bot "
        "runs. DEST is a file, or a folder where a file named "
        "sportello-YYYYMMDD-HHMMSS.sqlite3 is written (the local time of SPORTELLO_TIMEZONE). "
        "With --keep N, DEST is a folder (created if need be) where only the N newest copies "
        "are kept. Every copy is readable only by the user who makes it (mode 0600).",
    )
    backup.add_argument("destination", type=Path, metavar="DEST", help="a file or a folder")
    backup.add_argument(
        "--keep",
        type=arguments.count,
        metavar="N",
        help="keep only the N newest copies in the folder DEST",
    )
    restore = commands.add_parser(
        "restore",
        help="put a backup back in place of the database (stop the bot first)",
        description="Check that SRC is an intact Sportello database, then put it in place of "
        "SPORTELLO_DB; the current database is kept as SPORTELLO_DB.YYYYMMDD-HHMMSS.bak (UTC, "
        "mode 0600; a new copy at each restore; delete them once the restored database "
        "works). Refuses while the bot has the database open.",
    )
    restore.add_argument("source", type=Path, metavar="SRC", help="a backup file")
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore even if the database seems in use; only when you are sure the bot is "
        "stopped (a running bot would keep writing to the file being replaced)",
    )
    outbox = commands.add_parser("outbox", help="the queue of messages to send")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    retry = outbox_commands.add_parser(
        "retry",
        help="send again the messages given up during an outage",
        description="Put back in the queue the messages that failed for good (the platform "
        "never accepted them) in the last HOURS hours; a running bot sends them within seconds, "
        "a stopped one at its next start.",
    )
    retry.add_argument(
        "--hours", type=arguments.hours, default=24.0, help="how far back (default: 24)"
    )
    retry.add_argument(
        "--channel",
        choices=tuple(ADAPTERS),  # every channel sends through the outbox
        help="only this channel (default: all of them)",
    )
