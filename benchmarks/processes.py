"""This module contains what the benchmarks that start processes of their own share: a
process's CPU time from /proc, and running a measurement in a scratch folder that goes away
whatever ends it (Linux only)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, so far; NaN once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _interrupted(number: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_in_scratch_folder(
    measurement: Callable[[Path], Coroutine[Any, Any, None]], prefix: str
) -> None:
    """Run ``measurement(folder)`` on uvloop, as serve and uvicorn run (the generator's own
    cost stays small), then remove the folder; SIGTERM ends it as Ctrl-C does, so that the
    measurement's ``finally`` stops the processes it started."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(measurement(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
