"""This module contains the fingerprints that tie each translation to the Italian it was made from.

A translated field records a short fingerprint of the Italian text it was translated from, in a
per-topic ``translations:`` block that only the tools write (``sportello content stamp``,
``import`` and ``review``). When the Italian changes, its fingerprint changes, and every
translation still recording the old one is *stale*: the bot keeps serving it, marked as not yet
checked, until a translator brings it up to date. A translation with no fingerprint yet is taken
as current, so that nothing turns stale merely by upgrading.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: The translated fields of a topic that carry fingerprints, in the order files list them.
FIELDS = ("title", "answer")
#: Who may mark a translation as reviewed: a cultural mediator or the counter's staff.
ROLES = ("mediator", "staff")
_FINGERPRINT = re.compile(r"^[0-9a-f]{8}$")


def fingerprint(italian: str) -> str:
    """Eight hex digits of the Italian text, blind to spacing and line breaks: re-wrapping a
    paragraph or trimming a trailing space does not make nine translations stale."""
    normal = " ".join(unicodedata.normalize("NFC", italian).split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Record:
    """What the tools recorded for one language of a topic."""

    made_from: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reviewed_by: str | None = None  # one of ROLES


def read_records(
    value: Any,
    lines: Mapping[Any, int],
    line: int,
    languages: set[str],
    error: Callable[[int, str], None],
) -> dict[str, Record]:
    """The ``translations:`` block of a topic (already parsed), reporting what is malformed.

    ``lines`` gives the line of each language key, ``line`` the block's own line.
    """
    if not isinstance(value, Mapping):
        error(line, "'translations' is written by the tools: restore it or run `content stamp`")
        return {}
    records: dict[str, Record] = {}
    for code, entry in value.items():
        at = lines.get(code, line)
        if code not in languages or code == "it":
            error(at, f"unknown translated language {code!r} in 'translations'")
            continue
        if not isinstance(entry, Mapping):
            error(at, f"'translations' of {code!r} must be a mapping such as {{answer: 3fa2c1d0}}")
            continue
        made_from: dict[str, str] = {}
        reviewed_by = None
        for key, item in entry.items():
            if key in FIELDS and isinstance(item, str) and _FINGERPRINT.match(item):
                made_from[key] = item
            elif key == "reviewed_by" and item in ROLES:
                reviewed_by = str(item)
            else:
                error(
                    at,
                    f"'translations' of {code!r}: {key}: {item!r} is not something the tools "
                    f"write (fields {', '.join(FIELDS)} with 8 hex digits, reviewed_by: "
                    f"{' or '.join(ROLES)})",
                )
        records[code] = Record(MappingProxyType(made_from), reviewed_by)
    return records


def stale_fields(
    records: Mapping[str, Record], texts: Mapping[str, Mapping[str, str]]
) -> dict[str, tuple[str, ...]]:
    """Per language, the fields translated from an Italian text that has changed since.

    ``texts`` maps each field to its texts by language; a field not translated is not stale
    (it is missing), nor is one with no recorded fingerprint.
    """
    stale: dict[str, tuple[str, ...]] = {}
    today = {name: fingerprint(texts[name]["it"]) for name in FIELDS if "it" in texts.get(name, {})}
    for code, record in records.items():
        fields = tuple(
            name
            for name in FIELDS
            if name in record.made_from
            and name in today
            and code in texts[name]
            and record.made_from[name] != today[name]
        )
        if fields:
            stale[code] = fields
    return stale
