"""This module contains the server lock: one ``serve`` per database.

Two servers on one database would both drain the outbox (staff notices sent twice) and fight
over SQLite's write lock (drafts lost on "database is locked"). ``serve`` holds an exclusive
``flock`` on ``<database>.lock`` for as long as it runs; the operating system releases it
when the process ends, however it ends (kill -9 included), so a stale file never blocks a
restart. Commands that only read (stats, report, ask) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType


class DatabaseInUse(Exception):
    """Another process serves this database."""

    def __init__(self, database: str, pid: int | None) -> None:
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"The database {database} is already served by {holder}: stop it first "
            "(one `sportello serve` per database)."
        )
        self.database = database
        self.pid = pid


def lock_path(database: Path | str) -> Path:
    return Path(f"{database}.lock")


class ServerLock:
    """``with ServerLock(path):`` holds the database for this process, or raises
    ``DatabaseInUse`` naming the process that holds it."""

    def __init__(self, database: Path | str) -> None:
        self.database = str(database)
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.database == ":memory:":
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise DatabaseInUse(self.database, pid) from None
        except BaseException:
            os.close(fd)
            raise
        # Whose lock it is, for the message another start prints (not needed for the lock).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor releases the lock
        self._fd = None

    def __enter__(self) -> ServerLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
