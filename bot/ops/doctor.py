"""This module contains ``sportello doctor``: checks of an installation, in plain words.

Each check says OK, WARN or FAIL and, when something is wrong, what to do about it. It is
meant for the person who runs the server, not for developers: no tracebacks, no secrets (the
bot's token never appears in what is printed).
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.config import ConfigError, Settings
from bot.content.loader import validate
from bot.storage.backup import BackupError, inspect
from bot.storage.requeue import outbox_trouble

#: WhatsApp purposes that need a pre-approved template outside the 24-hour window.
TEMPLATE_PURPOSES = ("reminder", "staff_cancel", "handover")
#: Below this much free space the database may fail to write; below the second, soon.
DISK_FAIL_BYTES = 100 * 1024**2
DISK_WARN_BYTES = 1024**3
#: A message waiting longer than this means a channel cannot send.
STUCK_SECONDS = 10 * 60
#: How far back failed messages are reported (and `outbox retry --hours` suggested).
FAILED_WINDOW_HOURS = 7 * 24
RUNBOOK = "deploy/README.md"


class Status(Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, what was found, what to do."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def _ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def _warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.WARN, detail, fix)


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.FAIL, detail, fix)


class _Http:
    """A small JSON client; every answer is (status, body), every failure a short reason."""

    def __init__(self, session: aiohttp.ClientSession, secrets: list[str]) -> None:
        self.session = session
        self.secrets = [secret for secret in secrets if secret]

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text

    async def get(self, url: str, auth: tuple[str, str] | None = None) -> tuple[int, Any] | str:
        headers = {}
        if auth is not None:
            # A header of our own: aiohttp deprecates its BasicAuth helper.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            async with self.session.get(url, headers=headers, allow_redirects=False) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, body
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            reason = str(error) or type(error).__name__
            return self.clean(f"{type(error).__name__}: {reason}")


async def run_checks(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    http_seconds: float = 10.0,
) -> list[Check]:
    """Every check, in the order a person would fix things."""
    try:
        settings = Settings.from_env(environ, env_file)
    except ConfigError as error:
        return [
            _fail(
                "configuration",
                "; ".join(error.problems),
                "correct these settings in .env or the environment "
                "(each one is explained in deploy/.env.example)",
            )
        ]
    checks = [_ok("configuration", "every setting is valid")]
    checks += [_content(settings), _translations(settings), _database(settings)]
    if checks[-1].status is not Status.FAIL and settings.db_path.exists():
        checks.append(_outbox(settings))
    checks.append(_disk(settings))
    secrets = [settings.telegram_bot_token or "", settings.twilio_auth_token or ""]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_seconds)) as session:
        http = _Http(session, secrets)
        telegram, twilio, public = await asyncio.gather(
            _telegram(settings, http), _twilio(settings, http), _public_url(settings, http)
        )
    return checks + telegram + twilio + public


def report(checks: list[Check], out: TextIO) -> int:
    """Print the checks; 1 if any failed, else 0."""
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{check.status.value:<5} {check.name:<{width}}  {check.detail}", file=out)
        if check.fix:
            print(f"{'':<5} {'':<{width}}  -> {check.fix}", file=out)
    failed = sum(check.status is Status.FAIL for check in checks)
    warned = sum(check.status is Status.WARN for check in checks)
    print(
        f"\n{len(checks)} checks: {failed} failed, {warned} with a warning. "
        f"The runbook ({RUNBOOK}) explains each part.",
        file=out,
    )
    return 1 if failed else 0


# -- local checks --------------------------------------------------------------------------


def _content(settings: Settings) -> Check:
    validation = validate(settings.content_dir)
    if validation.catalog is None or validation.errors:
        first = validation.errors[0] if validation.errors else "no catalog"
        return _fail(
            "content",
            f"{len(validation.errors)} error(s) in {settings.content_dir}, first: {first}",
            "run `sportello content check` and correct the files it names (a running bot "
            "keeps its last valid content meanwhile)",
        )
    catalog = validation.catalog
    if settings.default_language and catalog.language(settings.default_language) is None:
        return _fail(
            "content",
            f"SPORTELLO_DEFAULT_LANGUAGE={settings.default_language} is not enabled",
            "enable it in languages.yaml or change SPORTELLO_DEFAULT_LANGUAGE",
        )
    return _ok(
        "content",
        f"{settings.content_dir}: {len(catalog.topics)} topics, "
        f"{len(validation.warnings)} warning(s) (see `sportello content check`)",
    )


def _translations(settings: Settings) -> Check:
    sources = sorted(settings.locales_dir.glob("*/LC_MESSAGES/messages.po"))
    missing = [po.parent.parent.name for po in sources if not po.with_suffix(".mo").is_file()]
    if not sources:
        return _fail(
            "translations",
            f"no catalogs in {settings.locales_dir}",
            "point SPORTELLO_LOCALES at the project's locales/ folder",
        )
    if missing:
        return _fail(
            "translations",
            "not compiled: " + ", ".join(missing),
            "run `make install` (or `pybabel compile -d locales`) after every update",
        )
    return _ok("translations", f"{len(sources)} languages compiled")


def _database(settings: Settings) -> Check:
    path = settings.db_path
    if not path.exists():
        folder = _existing_parent(path)
        return _warn(
            "database",
            f"{path} does not exist yet",
            f"it is created at the first start; make sure {folder} is writable by the bot's "
            "user, or restore a backup with `sportello restore`",
        )
    try:
        info = inspect(path)
    except BackupError as error:
        return _fail(
            "database",
            str(error),
            "stop the bot and restore the last good backup (`sportello restore FILE`)",
        )
    size = f"{info.size_bytes / 1024**2:.1f} MB"
    if info.pending:
        return _warn(
            "database",
            f"schema {info.schema_version}, {info.pending} migration(s) pending, {size}",
            "they are applied at the next start of the bot; take a backup first "
            "(`sportello backup FOLDER`)",
        )
    return _ok("database", f"{path}: schema {info.schema_version} (up to date), {size}")


def _outbox(settings: Settings, now: float | None = None) -> Check:
    now = time.time() if now is None else now
    trouble = outbox_trouble(settings.db_path, now - FAILED_WINDOW_HOURS * 3600)
    waiting = sum(trouble.pending.values())
    if trouble.oldest_pending_at is not None and now - trouble.oldest_pending_at > STUCK_SECONDS:
        minutes = int((now - trouble.oldest_pending_at) // 60)
        per_channel = ", ".join(f"{n} {channel}" for channel, n in sorted(trouble.pending.items()))
        return _warn(
            "outbox",
            f"{waiting} message(s) waiting ({per_channel}), the oldest for {minutes} minutes",
            "a channel cannot send: see the telegram and whatsapp checks and the bot's log; "
            "the messages go out by themselves once it can (is the bot running?)",
        )
    if trouble.failed_since:
        per_channel = ", ".join(
            f"{n} {channel}" for channel, n in sorted(trouble.failed_since.items())
        )
        return _warn(
            "outbox",
            f"messages given up in the last {FAILED_WINDOW_HOURS // 24} days: {per_channel}",
            "once the channel works again, `sportello outbox retry --hours "
            f"{FAILED_WINDOW_HOURS}` sends them again (see the log for the reason)",
        )
    return _ok("outbox", f"{waiting} message(s) waiting, none given up recently")


def _existing_parent(path: Path) -> Path:
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _disk(settings: Settings) -> Check:
    folder = _existing_parent(settings.db_path)
    usage = shutil.disk_usage(folder)
    free = f"{usage.free / 1024**3:.1f} GB free in {folder}"
    fix = "free some space (old logs, old backups) or give the server a bigger disk"
    if usage.free < DISK_FAIL_BYTES:
        return _fail("disk space", free, fix)
    if usage.free < DISK_WARN_BYTES:
        return _warn("disk space", free, fix)
    return _ok("disk space", free)


# -- remote checks -------------------------------------------------------------------------


async def _telegram(settings: Settings, http: _Http) -> list[Check]:
    token = settings.telegram_bot_token
    if not token:
        return [_ok("telegram", "off (TELEGRAM_BOT_TOKEN is not set)")]
    base = f"{settings.telegram_api_url}/bot{token}"
    answer = await http.get(f"{base}/getMe")
    if isinstance(answer, str):
        return [
            _fail(
                "telegram",
                f"cannot reach {settings.telegram_api_url}: {answer}",
                "check this server's internet access (DNS, firewall, proxy) and TELEGRAM_API_URL",
            )
        ]
    status, body = answer
    if status in (401, 404):
        return [
            _fail(
                "telegram",
                f"Telegram refused the token ({status})",
                "copy the token again from BotFather (/mybots, API Token) into "
                "TELEGRAM_BOT_TOKEN, then restart the bot",
            )
        ]
    if status != 200 or not isinstance(body, dict) or not body.get("ok"):
        return [
            _fail(
                "telegram",
                f"unexpected answer {status} from getMe",
                "try again later; see https://t.me/BotNews",
            )
        ]
    checks = [_ok("telegram", f"the token belongs to @{body['result'].get('username', '?')}")]
    checks.append(await _webhook(settings, http, base))
    if settings.telegram_staff_chat_id is None:
        checks.append(
            _warn(
                "staff group",
                "TELEGRAM_STAFF_CHAT_ID is not set: booking notices go nowhere",
                "add the bot to the staff group; it answers with the group's id to put in "
                "TELEGRAM_STAFF_CHAT_ID",
            )
        )
    return checks


async def _webhook(settings: Settings, http: _Http, base: str) -> Check:
    answer = await http.get(f"{base}/getWebhookInfo")
    if isinstance(answer, str) or answer[0] != 200 or not isinstance(answer[1], dict):
        return _warn("telegram webhook", "could not read the webhook information", "try again")
    info = answer[1].get("result") or {}
    registered = str(info.get("url") or "")
    wanted = settings.telegram_webhook_url
    if not wanted:
        if registered:
            return _warn(
                "telegram webhook",
                f"TELEGRAM_WEBHOOK_URL is unset (long polling) but Telegram sends to {registered}",
                "start the bot: it removes the webhook; if it runs, is another installation "
                "using the same token?",
            )
        return _ok("telegram webhook", "none: the bot uses long polling")
    if registered != wanted:
        return _warn(
            "telegram webhook",
            f"Telegram sends updates to {registered or 'nowhere'}, not to TELEGRAM_WEBHOOK_URL",
            "start (or restart) the bot: it registers TELEGRAM_WEBHOOK_URL; if it runs, is "
            "another installation using the same token?",
        )
    if info.get("last_error_message"):
        return _warn(
            "telegram webhook",
            f"registered, but Telegram's last delivery failed: {info['last_error_message']}",
            "check that the address reaches `sportello serve` through the reverse proxy",
        )
    pending = int(info.get("pending_update_count") or 0)
    return _ok("telegram webhook", f"registered at {wanted} ({pending} update(s) waiting)")


async def _twilio(settings: Settings, http: _Http) -> list[Check]:
    if not settings.whatsapp_enabled:
        return [_ok("whatsapp", "off (TWILIO_ACCOUNT_SID and the others are not set)")]
    sid = settings.twilio_account_sid or ""
    answer = await http.get(
        f"{settings.twilio_api_url}/2010-04-01/Accounts/{sid}.json",
        auth=(sid, settings.twilio_auth_token or ""),
    )
    if isinstance(answer, str):
        return [
            _fail(
                "whatsapp",
                f"cannot reach {settings.twilio_api_url}: {answer}",
                "check this server's internet access (DNS, firewall, proxy) and TWILIO_API_URL",
            )
        ]
    status, body = answer
    if status in (401, 403, 404):
        return [
            _fail(
                "whatsapp",
                f"Twilio refused the account SID or auth token ({status})",
                "copy both again from the Twilio console (Account info) into TWILIO_ACCOUNT_SID "
                "and TWILIO_AUTH_TOKEN, then restart the bot",
            )
        ]
    account = body if isinstance(body, dict) else {}
    if status != 200 or account.get("status") != "active":
        return [
            _fail(
                "whatsapp",
                f"the Twilio account is {account.get('status', f'unavailable ({status})')}",
                "log in to the Twilio console: the account may be suspended or out of credit",
            )
        ]
    checks = [_ok("whatsapp", f"Twilio account {account.get('friendly_name', sid)} is active")]
    missing = [p for p in TEMPLATE_PURPOSES if p not in settings.twilio_templates]
    if missing:
        names = ", ".join(f"TWILIO_TEMPLATE_{purpose.upper()}" for purpose in missing)
        checks.append(
            _warn(
                "whatsapp templates",
                f"not set: {names}",
                "without them these messages cannot reach a user who last wrote more than 24 "
                f"hours ago (staff are told instead); see {RUNBOOK}",
            )
        )
    else:
        checks.append(_ok("whatsapp templates", "every purpose has a template"))
    return checks


async def _public_url(settings: Settings, http: _Http) -> list[Check]:
    base = settings.public_base_url
    if not base:
        if settings.whatsapp_enabled:
            return [
                _warn(
                    "public address",
                    "PUBLIC_BASE_URL is not set",
                    "set it to the https address of this server: Twilio's signatures are "
                    "checked against it behind a reverse proxy",
                )
            ]
        return [_ok("public address", "not set (not needed for long polling)")]
    answer = await http.get(f"{base}/healthz")
    fix = (
        "check that the domain points at this server, that the reverse proxy (Caddy) runs and "
        "ports 80 and 443 are open, and that `sportello serve` runs (some networks cannot "
        "reach their own public address from inside: then try from outside)"
    )
    if isinstance(answer, str):
        return [_fail("public address", f"{base}/healthz cannot be reached: {answer}", fix)]
    status, body = answer
    state = body.get("status") if isinstance(body, dict) else None
    if status != 200 or state != "ok":
        return [_fail("public address", f"{base}/healthz answered {status} ({state})", fix)]
    return [_ok("public address", f"{base}/healthz answers ok")]
