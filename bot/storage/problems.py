"""This module contains what can be wrong with the database file itself, in plain words.

It reads SQLite's errors without importing sqlite3 (by their result code, else their
message), so that the workers' loops may use it without depending on the database driver.
"""

from __future__ import annotations

FULL = "the disk is full"
DAMAGED = "the file is damaged"
NOT_A_DATABASE = "it is not a SQLite database"
DISK_ERROR = "the disk cannot be read or written (I/O error)"
UNREADABLE = "the file cannot be opened"
READ_ONLY = "the file is read-only"
#: SQLite's primary result codes that mean the file itself is the trouble (sqlite3.h).
_PROBLEM_CODES = {
    3: UNREADABLE,  # SQLITE_PERM
    8: READ_ONLY,  # SQLITE_READONLY
    10: DISK_ERROR,  # SQLITE_IOERR
    11: DAMAGED,  # SQLITE_CORRUPT
    13: FULL,  # SQLITE_FULL
    14: UNREADABLE,  # SQLITE_CANTOPEN
    26: NOT_A_DATABASE,  # SQLITE_NOTADB
}
#: The same problems by SQLite's messages (an error raised by hand carries no code).
_PROBLEM_MESSAGES = {
    "database or disk is full": FULL,
    "database disk image is malformed": DAMAGED,
    "file is not a database": NOT_A_DATABASE,
    "disk i/o error": DISK_ERROR,
    "unable to open database file": UNREADABLE,
    "attempt to write a readonly database": READ_ONLY,
}
_RESTORE = "stop the bot and put the last good backup back with `sportello restore FILE`"
_ADVICE = {
    FULL: "free some space on its disk (old logs, old backups); `sportello doctor` shows how much",
    DAMAGED: _RESTORE,
    NOT_A_DATABASE: f"check that SPORTELLO_DB names the bot's database; if it does, {_RESTORE}",
    DISK_ERROR: f"check the disk (the system log says more); if the file was harmed, {_RESTORE}",
    READ_ONLY: "give the bot's user write permission on the file and its folder (chown)",
}
_OTHER_ADVICE = (
    "check that SPORTELLO_DB names a file (not a folder) that the bot's user may read and "
    "write, in a folder it may write to"
)


def storage_problem(error: BaseException) -> str | None:
    """What is wrong with the database file itself, in plain words; None for other errors
    (a broken constraint, a busy database, a bug)."""
    if isinstance(error, PermissionError):
        return UNREADABLE
    # SQLAlchemy wraps the driver's error: the driver's own says what happened.
    original = getattr(error, "orig", None)
    if isinstance(original, BaseException):
        error = original
    if not any(kind.__module__ == "sqlite3" for kind in type(error).__mro__):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _PROBLEM_CODES:
        return _PROBLEM_CODES[code & 0xFF]
    return _PROBLEM_MESSAGES.get(str(error).strip().lower())


def advice(problem: str) -> str:
    """What an administrator does about a problem named by :func:`storage_problem`."""
    return next(
        (text for known, text in _ADVICE.items() if problem.startswith(known)), _OTHER_ADVICE
    )
