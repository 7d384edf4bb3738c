"""This module contains what ``sportello doctor`` reports: checks that say OK, WARN or FAIL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

#: Where every check's subject is explained at length.
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


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.FAIL, detail, fix)
