"""This module contains the few SQL expressions that SQLite and PostgreSQL spell differently,
as SQLAlchemy constructs compiled for each: a field of a JSON payload kept as text."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

_T = TypeVar("_T")


class _JsonField(FunctionElement[_T]):
    """A field of JSON kept in a text column, by its path of keys."""

    inherit_cache = True
    # The path is part of the statement's cache key: without it, two fields of one payload
    # would share one compiled statement (the first one's path).
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it as a list)
        *FunctionElement._traverse_internals,
        ("path", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: ColumnElement[str], *path: str) -> None:
        self.path = path
        super().__init__(column)


class json_text(_JsonField[str]):
    """A field of JSON kept in a text column, as text (None if absent): ``json_text(payload,
    "notice", "handover")``. Numbers come back as text on PostgreSQL, as numbers on SQLite:
    convert the result in Python."""

    type = Text()
    inherit_cache = True
    name = "json_text"


class json_true(_JsonField[bool]):
    """Whether a field of JSON kept in a text column is ``true``."""

    type = Boolean()
    inherit_cache = True
    name = "json_true"


def _column(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


def _sqlite_path(path: tuple[str, ...]) -> str:
    return "'$" + "".join(f".{field}" for field in path) + "'"


def _postgresql_path(path: tuple[str, ...]) -> str:
    return "'{" + ",".join(path) + "}'"


@compiles(json_text, "sqlite")
def _json_text_sqlite(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({_column(element, compiler, **kw)}, {_sqlite_path(element.path)})"


@compiles(json_text, "postgresql")
def _json_text_postgresql(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        f"(CAST({_column(element, compiler, **kw)} AS JSON) #>> {_postgresql_path(element.path)})"
    )


@compiles(json_true, "sqlite")
def _json_true_sqlite(element: json_true, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(json_extract({_column(element, compiler, **kw)}, {_sqlite_path(element.path)}) = 1)"


@compiles(json_true, "postgresql")
def _json_true_postgresql(element: json_true, compiler: SQLCompiler, **kw: Any) -> str:
    column = _column(element, compiler, **kw)
    return f"((CAST({column} AS JSON) #>> {_postgresql_path(element.path)}) = 'true')"
