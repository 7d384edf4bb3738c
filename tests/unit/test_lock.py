"""Tests of the server lock: one ``serve`` per database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.storage.lock import DatabaseInUse, ServerLock, lock_path


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    with ServerLock(database):
        with pytest.raises(DatabaseInUse) as refused:
            ServerLock(database).acquire()
        assert refused.value.pid == os.getpid()
        assert str(database) in str(refused.value) and str(os.getpid()) in str(refused.value)
    with ServerLock(database):  # released: the next server starts
        pass
    assert oct(lock_path(database).stat().st_mode & 0o777) == "0o600"


def test_another_database_is_not_locked(tmp_path: Path) -> None:
    with ServerLock(tmp_path / "a.sqlite3"), ServerLock(tmp_path / "b.sqlite3"):
        pass


def test_a_killed_server_leaves_no_lock_behind(tmp_path: Path) -> None:
    """kill -9 cannot clean up: the operating system drops the lock with the process."""
    database = tmp_path / "bot.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from bot.storage.lock import ServerLock
                ServerLock({str(database)!r}).acquire()
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(DatabaseInUse) as refused:
            ServerLock(database).acquire()
        assert refused.value.pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    with ServerLock(database):
        pass
