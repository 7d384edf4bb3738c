"""This module contains ``sportello doctor``: checks of an installation, in plain words.

Each check says OK, WARN or FAIL and, when something is wrong, what to do about it. It is
meant for the person who runs the server, not for developers: no tracebacks, no secrets (the
bot's token never appears in what is printed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import aiohttp

from bot.config import ConfigError, Settings
from bot.ops import local_checks, remote_checks
from bot.ops.checks import RUNBOOK, Check, Status, fail, ok, warn

__all__ = ["Check", "Status", "report", "run_checks"]


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
            fail(
                "configuration",
                "; ".join(error.problems),
                "correct these settings in .env or the environment "
                "(each one is explained in deploy/.env.example)",
            )
        ]
    checks = [ok("configuration", "every setting is valid")]
    checks += [local_checks.content(settings), local_checks.translations(settings)]
    address, path = settings.database_address, settings.database_file
    if address is not None:
        checks.append(await local_checks.database_server(address))
    else:
        checks.append(local_checks.database(settings))
    if checks[-1].status is not Status.FAIL and (path is None or path.exists()):
        checks.append(await local_checks.outbox(settings))
        checks.append(await local_checks.instances(settings))
    checks.append(local_checks.disk(settings))
    if (
        not settings.telegram_bot_token
        and not settings.whatsapp_enabled
        and not settings.webchat_enabled
    ):
        checks.append(
            warn(
                "channels",
                "no Telegram, WhatsApp or web chat configured: only the terminal chat works",
                "set TELEGRAM_BOT_TOKEN, or the TWILIO_ settings for WhatsApp, or "
                f"WEBCHAT_ENABLED=true, then start the bot ({RUNBOOK}, sections 1 and 3)",
            )
        )
    secrets = [settings.telegram_bot_token or "", settings.twilio_auth_token or ""]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_seconds)) as session:
        http = remote_checks.JsonClient(session, secrets)
        telegram, twilio, public = await asyncio.gather(
            remote_checks.telegram(settings, http),
            remote_checks.twilio(settings, http),
            remote_checks.public_url(settings, http),
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
