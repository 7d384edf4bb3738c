"""``sportello serve`` as a process of its own, for the tests that kill it or run several: on
the test's database and the fixture content, its Telegram the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import FIXTURE_CONTENT


def serve_environment(
    target: str,
    folder: Path,
    telegram_token: str,
    telegram_api_url: str,
    staff_chat: int,
    staff_user: int,
) -> dict[str, str]:
    """What every such ``serve`` is started with: the database ``target`` (``SPORTELLO_DB``),
    the content's cache in ``folder`` (shared by the test's processes: only the first start
    trains), no daily agenda, the fake Bot API and its staff group, no rate limit on users.
    A test adds its own (the port, WhatsApp, leases...)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "SPORTELLO_DB": target,
        "SPORTELLO_CONTENT": str(FIXTURE_CONTENT),
        "SPORTELLO_CACHE_DIR": str(folder / "cache"),
        "SPORTELLO_AGENDA_HOUR": "off",
        "HOST": "127.0.0.1",
        "TELEGRAM_BOT_TOKEN": telegram_token,
        "TELEGRAM_API_URL": telegram_api_url,
        "TELEGRAM_STAFF_CHAT_ID": str(staff_chat),
        "TELEGRAM_STAFF_USER_IDS": str(staff_user),
        "TELEGRAM_RATE_LIMIT": "1000",
    }


async def start_serve(environment: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """``python -m bot serve`` with only ``environment``, in the log's folder, its output
    appended to ``log``."""
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            cwd=log.parent,
            env=environment,
            stdout=output,
            stderr=output,
        )
