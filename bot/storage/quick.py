"""This module contains SQLite's quick connection: every message's few statements (a few rows
by their index each) run on the event loop's own thread, straight on the ``sqlite3``
connection, each compiled once.

Through SQLAlchemy's synchronous side, taking the pooled connection, building the execution
context and the result cost ten times what SQLite spends on such a statement: a third of a
WhatsApp webhook's CPU (#21). Here a statement is compiled by SQLAlchemy once, for the
dialect, and then each run only lines up its parameters (with the type's bind processors,
as SQLAlchemy would) and hands them to the driver. What this path does not cover (a
statement with a Python-side default, ``RETURNING``, an expanding ``IN``, ...) raises
:class:`NotQuick` before anything of it runs, and the caller runs the whole piece of work the
usual way.

The connection never waits: ``busy_timeout`` is 0, so another connection's lock refuses it
at once ("database is locked", as SQLAlchemy's ``OperationalError``); the caller then runs the
work on the database's thread, where waiting is allowed. Its errors are SQLAlchemy's, as the
usual way raises them, so that callers tell a busy or full file the same way.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, Executable, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler

log = logging.getLogger(__name__)

_T = TypeVar("_T")
#: Statements compiled and kept: every message's are a dozen; a test's built on the fly are
#: compiled again rather than kept for ever.
COMPILED_KEPT = 128
#: On SQLite, a writer takes the file's write lock at its start, not at its first write: a
#: transaction that read first could not write later (another wrote meanwhile).
BEGIN_WRITING = "BEGIN IMMEDIATE"


class Outcome(Protocol):
    """What a quick statement's work reads of its result (a ``CursorResult`` has both)."""

    @property
    def rowcount(self) -> int: ...

    def scalar(self) -> Any: ...


class Statements(Protocol):
    """Where a piece of work runs its statements: SQLAlchemy's ``Connection``, or the quick
    connection's :class:`QuickStatements`."""

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> Outcome: ...


class NotQuick(Exception):
    """The statement is not one the quick connection runs: nothing of the work was kept."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement ready for the driver."""

    sql: str
    #: Each ``?``'s parameter, with the type's bind processor if it has one.
    slots: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    #: Values the statement holds itself (a literal): used when the caller gives none.
    fixed: Mapping[str, Any]
    #: Each column's result processor (None: the driver's value as it is); empty when no
    #: column has one.
    columns: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, given: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, process in self.slots:
            value = given[name] if name in given else self.fixed[name]
            values.append(value if process is None else process(value))
        return tuple(values)

    def row(self, found: Sequence[Any]) -> tuple[Any, ...]:
        if not self.columns:
            return tuple(found)
        return tuple(
            value if process is None else process(value)
            for value, process in zip(found, self.columns, strict=True)
        )


def _compile(statement: Executable, keys: Sequence[str], dialect: Dialect) -> _Compiled:
    """``statement`` compiled as SQLAlchemy would for these parameters; :class:`NotQuick` for
    what only SQLAlchemy's execution does (defaults worked out in Python, RETURNING, ...)."""
    if not hasattr(statement, "compile"):
        raise NotQuick("not a compilable statement")
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        raise NotQuick("not positional SQL")
    binds = {name: compiled.binds[name] for name in compiled.positiontup}
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.effective_returning
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
        or any(bind.expanding or bind.callable is not None for bind in binds.values())
    ):
        raise NotQuick("it needs SQLAlchemy's execution")
    fixed = {
        name: bind.effective_value
        for name, bind in binds.items()
        if not bind.required and name not in keys
    }
    missing = {name for name in binds if name not in keys and name not in fixed}
    if missing:
        raise NotQuick(f"parameters missing: {sorted(missing)}")
    processors = compiled._bind_processors  # SQLAlchemy's own, by parameter name
    slots: list[tuple[str, Callable[[Any], Any] | None]] = []
    for name in compiled.positiontup:
        process = processors.get(name)
        if process is not None and not callable(process):
            raise NotQuick("a tuple's parameters")
        slots.append((name, process))
    columns = tuple(
        entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns
    )
    return _Compiled(compiled.string, tuple(slots), fixed, columns if any(columns) else ())


class QuickResult:
    """A quick statement's result, read whole (a few rows): its rows and its row count."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rowcount: int, rows: list[tuple[Any, ...]]) -> None:
        self.rowcount = rowcount
        self.rows = rows

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None


class QuickStatements:
    """The quick connection as a piece of work sees it: ``execute``, as on a ``Connection``."""

    __slots__ = ("_driver", "_quick")

    def __init__(self, quick: QuickConnection, driver: sqlite3.Connection) -> None:
        self._quick = quick
        self._driver = driver

    def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, /
    ) -> QuickResult:
        given = parameters or {}
        compiled = self._quick.compiled(statement, given)
        values = compiled.parameters(given)
        try:
            cursor = self._driver.execute(compiled.sql, values)
            rows = [compiled.row(found) for found in cursor.fetchall()]
        except sqlite3.Error as error:
            raise _wrapped(compiled.sql, values, error) from error
        return QuickResult(cursor.rowcount, rows)


class QuickConnection:
    """One ``sqlite3`` connection, opened through ``engine`` (its pool's ``connect`` events
    apply to it, as a test's page limit does), held for the process's life. Used on one
    thread, one piece of work at a time, never across an ``await``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: PoolProxiedConnection | None = None
        # A statement's compiled form, or why it is not quick: a statement refused once is not
        # compiled again at every message.
        self._compiled: OrderedDict[
            tuple[int, tuple[str, ...]], tuple[Executable, _Compiled | NotQuick]
        ] = OrderedDict()

    @property
    def engine(self) -> Engine:
        return self._engine

    def compiled(self, statement: Executable, given: Mapping[str, Any]) -> _Compiled:
        key = (id(statement), tuple(given))
        kept = self._compiled.get(key)
        if kept is not None and kept[0] is statement:
            outcome = kept[1]
        else:
            try:
                outcome = _compile(statement, tuple(given), self._engine.dialect)
            except NotQuick as refusal:
                log.info("a statement runs the usual way (%s): %s", refusal, statement)
                outcome = refusal
            # The statement is kept with its outcome: its id names no other statement while
            # it is kept.
            self._compiled[key] = (statement, outcome)
            if len(self._compiled) > COMPILED_KEPT:
                self._compiled.popitem(last=False)
        if isinstance(outcome, NotQuick):
            raise outcome
        return outcome

    def _driver(self) -> sqlite3.Connection:
        if self._held is None:
            self._held = self._engine.raw_connection()
        driver = self._held.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver

    def run(self, work: Callable[[QuickStatements], _T], transaction: bool) -> _T:
        """``work`` in a writer's transaction (committed at the end, rolled back on any error,
        :class:`NotQuick` included), or alone in autocommit."""
        if self._engine.dispatch.before_cursor_execute:
            # Someone listens to the engine's statements (a test's full disk, a tracer): they
            # see them only through SQLAlchemy.
            raise NotQuick("the engine's statements are listened to")
        driver = self._driver()
        statements = QuickStatements(self, driver)
        if not transaction:
            return work(statements)
        _run_driver_sql(driver, BEGIN_WRITING)
        try:
            result = work(statements)
            _run_driver_sql(driver, "COMMIT")
        except BaseException:
            if driver.in_transaction:
                driver.rollback()
            raise
        return result

    def close(self) -> None:
        """Close the connection; the next piece of work opens it again (through the engine's
        pool, its ``connect`` events with it)."""
        if self._held is not None:
            self._held.close()
            self._held = None
        self._engine.dispose()


def _run_driver_sql(driver: sqlite3.Connection, sql: str) -> None:
    try:
        driver.execute(sql)
    except sqlite3.Error as error:
        raise _wrapped(sql, (), error) from error


def _wrapped(sql: str, values: tuple[Any, ...], error: sqlite3.Error) -> exc.StatementError:
    """The driver's error as SQLAlchemy raises it (``OperationalError`` for a busy or full
    file, ``IntegrityError``, ...)."""
    # Without the parameters: they hold users' data, and errors are logged.
    return exc.DBAPIError.instance(sql, values, error, sqlite3.Error, hide_parameters=True)
