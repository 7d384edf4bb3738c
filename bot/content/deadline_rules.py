"""This module contains the deadline rules of ``content/deadlines.yaml``: what they are, and how
the loader reads them.

One rule per kind of deadline: the event the user gives (a permit's expiry, a family member's
entry into Italy), the dates computed from it ("60 days before", "8 days after"), the topic
that explains it, the reminders offered, its texts, sources and ``reviewed`` date. Editors
change them when the law changes; ``sportello content check`` reports mistakes at their line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from bot.content.schema import Localized, Source
from bot.content.yamlfile import YamlDict, YamlList

if TYPE_CHECKING:
    from bot.content.loader import _FileReader

Unit = Literal["days", "working days", "months"]
Direction = Literal["before", "after"]

_OFFSET = re.compile(r"^(?:(\d{1,4}) (days?|working days?|months?) (before|after)|on the day)$")
MAX_TEXT = 400  # a date's sentence: one line of the answer, not a second answer


@dataclass(frozen=True)
class Offset:
    """How far a date lies from the event: "60 days before", "8 days after", "on the day"."""

    count: int = 0
    unit: Unit = "days"
    direction: Direction = "after"

    @classmethod
    def parse(cls, text: str) -> Offset | None:
        """The offset an editor wrote, or None when it is not one of the forms above."""
        match = _OFFSET.match(" ".join(text.lower().split()))
        if match is None:
            return None
        if match.group(1) is None:
            return cls()
        unit = match.group(2).rstrip("s") + "s"
        direction = match.group(3)
        return cls(int(match.group(1)), unit, direction)  # type: ignore[arg-type]

    @property
    def signed(self) -> int:
        """The count, negative before the event."""
        return -self.count if self.direction == "before" else self.count

    def __str__(self) -> str:
        if self.count == 0:
            return "on the day"
        return f"{self.count} {self.unit} {self.direction}"


@dataclass(frozen=True)
class RuleDate:
    """One date a rule computes from the event, and how the answer says it."""

    id: str
    offset: Offset
    text: Localized  # "Ask for the renewal by {date}."
    passed: Localized | None = None  # said instead once the date is before today


@dataclass(frozen=True)
class DeadlineRule:
    """A kind of deadline: from the user's date, their dates, with the content behind them."""

    id: str
    topic: str  # the topic that explains the rule: its answer is what the dates rest on
    reviewed: date
    title: Localized  # the button: "Permit renewal"
    question: Localized  # asks for the event's date: "When does your permit expire?"
    dates: tuple[RuleDate, ...]
    sources: tuple[Source, ...]
    remind: tuple[Offset, ...] = ()  # reminders offered, from the event
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: What someone living the event writes without a date ("my wife arrived yesterday", "I
    #: failed the A2 test"): such a message starts the dialogue at this deadline's question.
    situations: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    note: Localized | None = None  # always said: where to verify what the rule cannot say
    late_after: str | None = None  # once this date has passed ...
    late_topic: str | None = None  # ... what this topic says about being late is shown
    next: str | None = None  # the deadline that follows this one (after renewal: the anagrafe)
    line: int = 0

    def date(self, date_id: str) -> RuleDate | None:
        return next((item for item in self.dates if item.id == date_id), None)


RULE_KEYS = ("id", "topic", "reviewed", "title", "question", "dates", "sources")
RULE_OPTIONAL = ("remind", "phrases", "situations", "note", "late_after", "late_topic", "next")


def read_rules(
    reader: _FileReader,
    languages: set[str],
    today: date,
    topics: set[str],
    url_list: Callable[[YamlDict, str], list[Source]],
) -> dict[str, DeadlineRule]:
    """``deadlines.yaml``: every rule, or the errors at their lines. ``topics``: the topic ids
    a rule may name (with those whose own file has errors, reported there)."""
    data = reader.mapping(reader.load(), 1, "deadlines.yaml", ("deadlines",), ())
    if data is None:
        return {}
    entries = data.get("deadlines")
    if not isinstance(entries, YamlList):
        reader.error(
            data.key_lines.get("deadlines", data.line),
            "'deadlines' must be a list of rules, each starting with - id: ...",
        )
        return {}
    rules: dict[str, DeadlineRule] = {}
    for entry, line in zip(entries, entries.item_lines, strict=True):
        rule = _read_rule(reader, entry, line, languages, today, topics, url_list)
        if rule is None:
            continue
        if rule.id in rules:
            reader.error(line, f"duplicate deadline id {rule.id!r}")
            continue
        rules[rule.id] = rule
    for rule in rules.values():
        if rule.next is not None and rule.next not in rules:
            reader.error(rule.line, f"deadline {rule.id!r}: 'next' names no deadline {rule.next!r}")
    return rules


def _read_rule(
    reader: _FileReader,
    entry: object,
    line: int,
    languages: set[str],
    today: date,
    topics: set[str],
    url_list: Callable[[YamlDict, str], list[Source]],
) -> DeadlineRule | None:
    data = reader.mapping(entry, line, "a deadline", RULE_KEYS, RULE_OPTIONAL)
    if data is None:
        return None
    errors = len(reader.validation.errors)
    rule_id = reader.identifier(data, "id", "deadline")
    topic = reader.identifier(data, "topic", "deadline")
    late_topic = reader.identifier(data, "late_topic", "deadline") if "late_topic" in data else None
    for key, named in (("topic", topic), ("late_topic", late_topic)):
        if named is not None and named not in topics:
            reader.error(data.key_lines[key], f"{key} {named!r} is not a topic (topics/)")
    next_rule = reader.identifier(data, "next", "deadline") if "next" in data else None
    reviewed = _reviewed(reader, data, today)
    title = reader.localized(data, "title", "deadline", languages, 60)
    question = reader.localized(data, "question", "deadline", languages, MAX_TEXT)
    note = reader.localized(data, "note", "deadline", languages, MAX_TEXT)
    phrases = reader.phrase_lists(data, "phrases", languages)
    situations = reader.phrase_lists(data, "situations", languages)
    dates = _read_dates(reader, data, languages)
    remind = _read_offsets(reader, data, "remind")
    late_after = reader.identifier(data, "late_after", "deadline") if "late_after" in data else None
    if late_after is not None and late_after not in {item.id for item in dates}:
        reader.error(data.key_lines["late_after"], f"'late_after' names no date {late_after!r}")
    if ("late_after" in data) != ("late_topic" in data):
        reader.error(data.line, "'late_after' and 'late_topic' go together: write both or neither")
    sources = url_list(data, "sources")
    if (
        rule_id is None
        or topic is None
        or reviewed is None
        or title is None
        or question is None
        or len(reader.validation.errors) > errors
    ):
        return None  # reported: a missing key by ``mapping``, the others where they were read
    return DeadlineRule(
        id=rule_id,
        topic=topic,
        reviewed=reviewed,
        title=title,
        question=question,
        dates=tuple(dates),
        sources=tuple(sources),
        remind=tuple(remind),
        phrases=phrases,
        situations=situations,
        note=note,
        late_after=late_after,
        late_topic=late_topic,
        next=next_rule,
        line=data.line,
    )


def _reviewed(reader: _FileReader, data: YamlDict, today: date) -> date | None:
    value = data.get("reviewed")
    if "reviewed" not in data:
        return None
    if isinstance(value, date) and not isinstance(value, str):
        if value > today:
            reader.error(data.key_lines["reviewed"], f"'reviewed' date {value} is in the future")
            return None
        return value
    reader.error(
        data.key_lines["reviewed"],
        f"'reviewed' must be the date you checked the rule against its sources, like "
        f"2026-11-30, got {value!r}",
    )
    return None


def _offset(reader: _FileReader, text: object, line: int, what: str) -> Offset | None:
    offset = Offset.parse(text) if isinstance(text, str) else None
    if offset is None:
        reader.error(
            line,
            f"{what} {text!r} is not a distance from the event",
            "write it like '60 days before', '8 days after', '10 working days after', "
            "'6 months before' or 'on the day'",
        )
    return offset


def _read_offsets(reader: _FileReader, data: YamlDict, key: str) -> list[Offset]:
    if key not in data:
        return []
    value = data[key]
    if not isinstance(value, YamlList):
        reader.error(
            data.key_lines[key], f"{key!r} must be a list such as [90 days before, 60 days before]"
        )
        return []
    offsets = []
    for item, line in zip(value, value.item_lines, strict=True):
        offset = _offset(reader, item, line, f"{key!r}:")
        if offset is not None:
            offsets.append(offset)
    return offsets


def _read_dates(reader: _FileReader, data: YamlDict, languages: set[str]) -> list[RuleDate]:
    value = data.get("dates")
    if "dates" not in data:
        return []
    if not isinstance(value, YamlList) or not value:
        reader.error(
            data.key_lines["dates"], "'dates' must be a non-empty list of - id:, when:, text:"
        )
        return []
    dates: list[RuleDate] = []
    for item, line in zip(value, value.item_lines, strict=True):
        entry = reader.mapping(item, line, "a date", ("id", "when", "text"), ("passed",))
        if entry is None:
            continue
        date_id = reader.identifier(entry, "id", "date")
        when = entry.get("when")
        offset = (
            _offset(reader, when, entry.key_lines["when"], "'when':") if "when" in entry else None
        )
        text = reader.localized(entry, "text", "date", languages, MAX_TEXT)
        passed = reader.localized(entry, "passed", "date", languages, MAX_TEXT)
        for localized, key in ((text, "text"), (passed, "passed")):
            for code, words in (localized.values if localized else {}).items():
                if "{date}" not in words:
                    reader.error(
                        entry[key].key_lines[code],
                        f"{key!r} in {code!r} must say where the date goes: {{date}}",
                    )
        if date_id in {item.id for item in dates}:
            reader.error(line, f"duplicate date id {date_id!r}")
        elif date_id and offset and text:
            dates.append(RuleDate(date_id, offset, text, passed))
    return dates
