"""Memory of one bot process: resident size after start, after the first question, after many.

What a server holds is the libraries (python-telegram-bot, httpx, numpy, twilio: about 75 MB
before any of our code), the content, the understanding's model and the language detector's
models, and what grows as users write (each language's locale data, remembered words). Run in
a fresh process, on the shipped content, with a temporary database:

    .venv/bin/python -m benchmarks.memory [--questions N]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bot.config import PROJECT_ROOT

QUESTION_FILES = (
    PROJECT_ROOT.parent / "shared" / "eval" / "questions-dev.tsv",
    PROJECT_ROOT / "benchmarks" / "questions-extra.tsv",
    PROJECT_ROOT / "benchmarks" / "questions-heldout.tsv",
)


def resident_mib() -> float:
    """The process's resident set now (``ru_maxrss`` would give only the peak)."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def questions(limit: int) -> list[str]:
    found: list[str] = []
    for path in QUESTION_FILES:
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle, delimiter="\t")
                next(reader, None)
                found.extend(row[2] for row in reader if len(row) == 3)
    return found[:limit]


async def measure(limit: int) -> None:
    print(f"python alone: {resident_mib():.0f} MiB")
    from bot.app import services
    from bot.config import Settings
    from bot.core.messages import Incoming

    print(f"after importing the bot and its libraries: {resident_mib():.0f} MiB")
    settings = Settings.from_env()
    began = time.perf_counter()
    async with services(settings, channels=False) as bot:
        print(
            f"services ready (content, understanding, database) in "
            f"{time.perf_counter() - began:.1f} s: {resident_mib():.0f} MiB"
        )
        await bot.engine.handle(
            Incoming(channel="console", user_id="first", text="come rinnovo il permesso?")
        )
        print(f"after the first question: {resident_mib():.0f} MiB")
        asked = questions(limit)
        began = time.perf_counter()
        for number, text in enumerate(asked):
            await bot.engine.handle(Incoming(channel="console", user_id=f"u{number}", text=text))
        spent = time.perf_counter() - began
        print(
            f"after {len(asked)} more questions in ten languages "
            f"({spent / max(len(asked), 1) * 1000:.1f} ms a turn): {resident_mib():.0f} MiB"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak: {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure one bot process's memory.")
    parser.add_argument(
        "--questions", type=int, default=1000, help="questions asked after the first"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SPORTELLO_DB"] = str(Path(folder) / "memory.sqlite3")
        os.environ.pop("TELEGRAM_TOKEN", None)
        asyncio.run(measure(args.questions))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
