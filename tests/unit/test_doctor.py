"""``sportello doctor`` against fake Telegram and Twilio servers and a real /healthz."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from socket import gethostname

import pytest

from bot.app import services
from bot.config import Settings
from bot.ops import local_checks
from bot.ops.doctor import Check, Status, report, run_checks
from bot.storage.db import Database, latest_version, postgresql_version
from bot.storage.migrations import MIGRATIONS
from bot.web import create_web_app
from tests.auxil.databases import drop_target, new_target, on_postgresql
from tests.auxil.fake_telegram import BOT_ID, BOT_USERNAME, FakeTelegram, free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.conftest import FIXTURE_CONTENT, LOCALES

TEMPLATE = "HX" + "0" * 32
WEBHOOK = "https://sportello.example.org/telegram"
STAFF_CHAT = -1001234567890


@dataclass
class World:
    """The fake outside world, and the environment of a well-configured installation."""

    telegram: FakeTelegram
    twilio: FakeTwilio
    env: dict[str, str]

    async def checks(self, **changes: str) -> dict[str, Check]:
        environment = {key: value for key, value in {**self.env, **changes}.items() if value}
        found = await run_checks(environment, env_file=None, http_seconds=5)
        return {check.name: check for check in found}


@pytest.fixture
async def world(tmp_path: Path, database_target: str) -> AsyncIterator[World]:
    telegram, twilio = FakeTelegram(), FakeTwilio()
    telegram.webhook_url = WEBHOOK
    telegram.chats[STAFF_CHAT] = "administrator"
    database = database_target
    settings = Settings(db_path=database, content_dir=FIXTURE_CONTENT, locales_dir=LOCALES)
    async with (
        serve(telegram.app()) as telegram_url,
        serve(twilio.app()) as twilio_url,
        services(settings) as bot,
        serve(create_web_app(bot)) as public_url,
    ):
        yield World(
            telegram,
            twilio,
            {
                "SPORTELLO_DB": database,
                "SPORTELLO_CONTENT": str(FIXTURE_CONTENT),
                "SPORTELLO_LOCALES": str(LOCALES),
                "PUBLIC_BASE_URL": public_url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram_url,
                "TELEGRAM_WEBHOOK_URL": WEBHOOK,
                "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_WHATSAPP_FROM": SENDER,
                "TWILIO_API_URL": twilio_url,
                "TWILIO_TEMPLATE_REMINDER": TEMPLATE,
                "TWILIO_TEMPLATE_STAFF_CANCEL": TEMPLATE,
                "TWILIO_TEMPLATE_HANDOVER": TEMPLATE,
                "TWILIO_TEMPLATE_REQUEST_PROPOSAL": TEMPLATE,
                "TWILIO_TEMPLATE_REQUEST_DECLINED": TEMPLATE,
                "TWILIO_TEMPLATE_DEADLINE": TEMPLATE,
            },
        )


def _printed(checks: dict[str, Check]) -> tuple[int, str]:
    out = io.StringIO()
    return report(list(checks.values()), out), out.getvalue()


async def test_a_good_installation_passes(world: World) -> None:
    checks = await world.checks()
    expected = {
        "configuration",
        "content",
        "translations",
        "database",
        "outbox",
        "instances",
        "disk space",
        "telegram",
        "telegram webhook",
        "staff group",
        "whatsapp",
        "whatsapp templates",
        "public address",
    }
    assert set(checks) == expected
    not_ok = {
        name: check.detail
        for name, check in checks.items()
        if check.status is not Status.OK and name != "disk space"  # the test machine's disk
    }
    assert not_ok == {}
    # The running bot's own lease, read from its database whichever the backend.
    assert checks["instances"].detail.startswith(f"1 running ({gethostname()} pid {os.getpid()});")
    assert checks["outbox"].detail == "0 message(s) waiting, none given up recently"
    assert BOT_USERNAME in checks["telegram"].detail
    assert "active" in checks["whatsapp"].detail
    code, text = _printed(checks)
    assert code == 0
    assert text.startswith("OK    configuration")
    assert "0 failed" in text


async def test_a_bad_telegram_token_fails_without_showing_the_token(world: World) -> None:
    bad = "999999:this-token-is-wrong"
    checks = await world.checks(TELEGRAM_BOT_TOKEN=bad)
    assert checks["telegram"].status is Status.FAIL
    assert "refused the token (401)" in checks["telegram"].detail
    assert "BotFather" in checks["telegram"].fix
    assert "telegram webhook" not in checks
    code, text = _printed(checks)
    assert code == 1
    assert bad not in text


async def test_an_unreachable_telegram_api_is_explained(world: World) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    checks = await world.checks(TELEGRAM_API_URL=nowhere)
    assert checks["telegram"].status is Status.FAIL
    assert f"cannot reach {nowhere}" in checks["telegram"].detail
    assert world.env["TELEGRAM_BOT_TOKEN"] not in checks["telegram"].detail


async def test_webhook_problems_are_warnings(world: World) -> None:
    world.telegram.webhook_url = "https://old.example.org/telegram"
    checks = await world.checks()
    assert checks["telegram webhook"].status is Status.WARN
    assert "not to TELEGRAM_WEBHOOK_URL" in checks["telegram webhook"].detail
    world.telegram.webhook_url = WEBHOOK
    world.telegram.webhook_error = "Connection refused"
    checks = await world.checks()
    assert checks["telegram webhook"].status is Status.WARN
    assert "Connection refused" in checks["telegram webhook"].detail
    world.telegram.webhook_error = ""
    checks = await world.checks(TELEGRAM_WEBHOOK_URL="")  # long polling, a webhook left over
    assert checks["telegram webhook"].status is Status.WARN
    assert "long polling" in checks["telegram webhook"].detail


async def test_a_staff_group_the_bot_cannot_post_to_fails(world: World) -> None:
    checks = await world.checks()
    assert checks["staff group"].status is Status.OK
    assert '"Sportello staff" (administrator)' in checks["staff group"].detail
    elsewhere = "-1009999999999"  # a typo, or the id of a group the bot never joined
    checks = await world.checks(TELEGRAM_STAFF_CHAT_ID=elsewhere)
    group = checks["staff group"]
    assert group.status is Status.FAIL
    assert elsewhere in group.detail and "chat not found" in group.detail
    assert "TELEGRAM_STAFF_CHAT_ID" in group.fix
    code, text = _printed(checks)
    assert code == 1 and world.env["TELEGRAM_BOT_TOKEN"] not in text
    world.telegram.chats[STAFF_CHAT] = "restricted"  # muted by an administrator
    group = (await world.checks())["staff group"]
    assert group.status is Status.FAIL and "may not send messages" in group.detail
    world.telegram.chats[STAFF_CHAT] = "kicked"
    group = (await world.checks())["staff group"]
    assert group.status is Status.FAIL and "no longer in the group" in group.detail
    world.telegram.chats[STAFF_CHAT] = "member"
    assert (await world.checks())["staff group"].status is Status.OK
    assert world.telegram.calls_to("getChatMember")[-1].params["user_id"] == BOT_ID


async def test_missing_staff_group_and_templates_are_warnings(world: World) -> None:
    checks = await world.checks(TELEGRAM_STAFF_CHAT_ID="", TWILIO_TEMPLATE_HANDOVER="")
    assert checks["staff group"].status is Status.WARN
    assert checks["whatsapp templates"].status is Status.WARN
    assert "TWILIO_TEMPLATE_HANDOVER" in checks["whatsapp templates"].detail
    assert _printed(checks)[0] == 0  # warnings alone do not fail


async def test_bad_twilio_credentials_and_a_suspended_account_fail(world: World) -> None:
    checks = await world.checks(TWILIO_AUTH_TOKEN="wrong-token")
    assert checks["whatsapp"].status is Status.FAIL
    assert "refused the account SID or auth token (401)" in checks["whatsapp"].detail
    world.twilio.account_status = "suspended"
    checks = await world.checks()
    assert checks["whatsapp"].status is Status.FAIL
    assert "suspended" in checks["whatsapp"].detail


async def test_an_unreachable_public_address_fails(world: World) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    checks = await world.checks(PUBLIC_BASE_URL=nowhere)
    assert checks["public address"].status is Status.FAIL
    assert "cannot be reached" in checks["public address"].detail
    assert "Caddy" in checks["public address"].fix
    assert _printed(checks)[0] == 1


async def test_missing_or_broken_content_fails(world: World, tmp_path: Path) -> None:
    checks = await world.checks(SPORTELLO_CONTENT=str(tmp_path / "nowhere"))
    assert list(checks) == ["configuration"]
    assert checks["configuration"].status is Status.FAIL
    assert "SPORTELLO_CONTENT is not a folder" in checks["configuration"].detail
    empty = tmp_path / "empty"
    empty.mkdir()
    checks = await world.checks(SPORTELLO_CONTENT=str(empty))
    assert checks["content"].status is Status.FAIL
    assert "sportello content check" in checks["content"].fix


@pytest.mark.sqlite_only
async def test_database_states(world: World, tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "bot.sqlite3"
    checks = await world.checks(SPORTELLO_DB=str(fresh))
    assert checks["database"].status is Status.WARN
    assert "created at the first start" in checks["database"].fix
    older = tmp_path / "older.sqlite3"  # as a program that knew two migrations left it
    connection = sqlite3.connect(older)
    for _number, _name, script in MIGRATIONS[:2]:
        connection.executescript(script)
    connection.execute("PRAGMA user_version = 2")
    connection.close()
    checks = await world.checks(SPORTELLO_DB=str(older))
    assert checks["database"].status is Status.WARN
    assert "migration(s) pending" in checks["database"].detail
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    checks = await world.checks(SPORTELLO_DB=str(broken))
    assert checks["database"].status is Status.FAIL
    assert "sportello restore" in checks["database"].fix


async def test_a_postgresql_database_is_read_never_changed_nor_its_password_shown(
    tmp_path: Path,
) -> None:
    async def checks(address: str) -> dict[str, Check]:
        environment = {
            "SPORTELLO_DB": address,
            "SPORTELLO_CONTENT": str(FIXTURE_CONTENT),
            "SPORTELLO_LOCALES": str(LOCALES),
        }
        return {check.name: check for check in await run_checks(environment, env_file=None)}

    unreachable = await checks("postgresql://sportello:s3cret@127.0.0.1:1/sportello")
    assert unreachable["database"].status is Status.FAIL
    assert "postgresql://sportello:***@127.0.0.1:1/sportello" in unreachable["database"].detail
    assert "cannot be reached" in unreachable["database"].detail
    assert "psql" in unreachable["database"].fix
    assert "outbox" not in unreachable
    assert "PostgreSQL server" in unreachable["disk space"].detail
    assert "s3cret" not in _printed(unreachable)[1]
    if not on_postgresql():
        return
    target = new_target(tmp_path)
    try:
        empty = await checks(target)
        assert empty["database"].status is Status.WARN
        assert "no tables yet" in empty["database"].detail
        assert empty["outbox"].detail == "0 message(s) waiting, none given up recently"
        assert empty["instances"].detail == "no `sportello serve` runs on this database now"
        assert await postgresql_version(target) == 0  # the doctor made none
        async with Database(target):
            pass  # migrated, as a bot's start does
        migrated = await checks(target)
        assert migrated["database"].status is Status.OK
        expected = f"schema {latest_version()} (up to date), reachable"
        assert expected in migrated["database"].detail
        assert migrated["outbox"].status is Status.OK
        assert migrated["instances"].status is Status.OK
    finally:
        drop_target(target)


async def test_nothing_configured_is_fine_for_the_terminal_chat(tmp_path: Path) -> None:
    checks = await run_checks(
        {"SPORTELLO_DB": str(tmp_path / "bot.sqlite3"), "SPORTELLO_CONTENT": str(FIXTURE_CONTENT)},
        env_file=None,
    )
    by_name = {check.name: check for check in checks}
    assert by_name["telegram"].status is Status.OK and "off" in by_name["telegram"].detail
    assert by_name["whatsapp"].status is Status.OK and "off" in by_name["whatsapp"].detail
    assert by_name["public address"].status is Status.OK
    channels = by_name["channels"]
    assert channels.status is Status.WARN
    assert channels.detail == (
        "no Telegram, WhatsApp or web chat configured: only the terminal chat works"
    )
    assert "TELEGRAM_BOT_TOKEN" in channels.fix and "WEBCHAT_ENABLED" in channels.fix
    assert report(checks, io.StringIO()) == 0  # a warning: the terminal chat is an installation
    webchat_only = await run_checks(
        {
            "SPORTELLO_DB": str(tmp_path / "bot.sqlite3"),
            "SPORTELLO_CONTENT": str(FIXTURE_CONTENT),
            "WEBCHAT_ENABLED": "true",
        },
        env_file=None,
    )
    assert "channels" not in {check.name for check in webchat_only}


async def test_one_channel_is_enough_for_no_channel_warning(world: World) -> None:
    for off in ({"TELEGRAM_BOT_TOKEN": ""}, {"TWILIO_ACCOUNT_SID": ""}):
        checks = await world.checks(**off)
        assert "channels" not in checks, off


async def test_a_public_address_that_redirects_or_reports_a_problem_fails(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, RedirectResponse
    from starlette.routing import Route

    async def moved(request: object) -> RedirectResponse:
        return RedirectResponse("https://elsewhere.example.org/healthz", status_code=308)

    async def degraded(request: object) -> JSONResponse:
        return JSONResponse({"status": "degraded"}, status_code=503)

    app = Starlette(routes=[Route("/a/healthz", moved), Route("/b/healthz", degraded)])
    async with serve(app) as url:
        base = {"SPORTELLO_DB": str(tmp_path / "bot.sqlite3")}
        for path, expected in (("/a", "redirects elsewhere (308)"), ("/b", "reports a problem")):
            checks = await run_checks({**base, "PUBLIC_BASE_URL": url + path}, env_file=None)
            public = {check.name: check for check in checks}["public address"]
            assert public.status is Status.FAIL and expected in public.detail


def _settings(database: Path) -> Settings:
    return Settings(db_path=database, content_dir=FIXTURE_CONTENT, locales_dir=LOCALES)


@pytest.mark.parametrize(
    ("free", "status"),
    [(50 * 1024**2, Status.FAIL), (500 * 1024**2, Status.WARN), (20 * 1024**3, Status.OK)],
)
def test_disk_space_where_the_database_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int, status: Status
) -> None:
    asked: list[Path] = []

    def usage(path: Path) -> shutil._ntuple_diskusage:
        asked.append(Path(path))
        return shutil._ntuple_diskusage(100 * 1024**3, 100 * 1024**3 - free, free)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    check = local_checks.disk(_settings(tmp_path / "data" / "bot.sqlite3"))
    assert check.status is status, check
    assert asked == [tmp_path]  # the database's file system (its folder is not made yet)
    if status is not Status.OK:
        assert "free some space" in check.fix


def test_little_room_for_a_big_database_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "bot.sqlite3"
    with database.open("wb") as file:
        file.truncate(3 * 1024**2)  # sparse: a "3 MB" database
    free = 5 * 1024**2

    def usage(path: Path) -> shutil._ntuple_diskusage:
        return shutil._ntuple_diskusage(100 * 1024**3, 100 * 1024**3 - free, free)

    monkeypatch.setattr(local_checks, "DISK_FAIL_BYTES", 1)
    monkeypatch.setattr(local_checks, "DISK_WARN_BYTES", 2)
    monkeypatch.setattr(shutil, "disk_usage", usage)
    check = local_checks.disk(_settings(database))
    assert check.status is Status.WARN and "less than twice the database (3 MB)" in check.detail


def test_a_database_the_user_may_not_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "bot.sqlite3"
    sqlite3.connect(database).close()
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    check = local_checks.database(_settings(database))
    assert check.status is Status.FAIL
    assert f"may not write {tmp_path}" in check.detail and "chown" in check.fix


def test_a_folder_in_place_of_the_database_fails(tmp_path: Path) -> None:
    (tmp_path / "bot.sqlite3").mkdir()
    check = local_checks.database(_settings(tmp_path / "bot.sqlite3"))
    assert check.status is Status.FAIL and "is a folder" in check.detail
