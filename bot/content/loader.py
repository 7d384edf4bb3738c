"""This module contains the loader: ``content/`` on disk to a validated ``Catalog``.

Every problem is reported with its file and line, all at once, so an editor fixes a file in
one pass. Nothing half-valid is ever returned.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from bot.content.catalog import Catalog
from bot.content.checklist_reader import read_checklist
from bot.content.deadline_rules import DeadlineRule, read_rules
from bot.content.fingerprints import Record, read_records, stale_fields
from bot.content.read_cache import ReadCache, languages_context
from bot.content.schema import (
    TAUGHT_INTENTS,
    TOPIC_INTENTS,
    TRANSLATION_STATUSES,
    Action,
    Area,
    Desk,
    Intent,
    Language,
    Link,
    Localized,
    Menu,
    Office,
    OfficeBooking,
    OfficeRequests,
    Phrasings,
    Service,
    Source,
    Topic,
)
from bot.content.yaml_errors import dash_in_value, explain
from bot.content.yamlfile import YamlDict, YamlList, YamlSyntaxError, as_date, read_yaml

T = TypeVar("T")

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")  # "go:" + id fits Telegram's 64 bytes
MAX_TITLE_LENGTH = 60
MAX_ANSWER_LENGTH = 900
MAX_NAME_LENGTH = 100  # a name said in sentences: the welcome, the descriptions
MAX_DESCRIPTION_LENGTH = 512  # Telegram's limit of a bot's description
MAX_SHORT_DESCRIPTION_LENGTH = 120  # and of its short description


@dataclass(frozen=True, order=True)
class ContentIssue:
    """One problem in the content, where an editor can find it."""

    file: str
    line: int
    message: str
    #: Where on the line (0-based), when it is known: the CLI points at it.
    column: int | None = field(default=None, compare=False)
    #: How to fix it, in words, for the commonest YAML mistakes.
    hint: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(Exception):
    """The content is invalid; ``issues`` lists every error."""

    def __init__(self, issues: list[ContentIssue]) -> None:
        self.issues = sorted(issues)
        shown = "\n".join(str(issue) for issue in self.issues[:20])
        more = f"\n... and {len(self.issues) - 20} more" if len(self.issues) > 20 else ""
        super().__init__(f"{len(self.issues)} content error(s):\n{shown}{more}")


@dataclass
class Validation:
    """What loading found: the catalog (when valid), errors and warnings."""

    catalog: Catalog | None = None
    errors: list[ContentIssue] = field(default_factory=list)
    warnings: list[ContentIssue] = field(default_factory=list)


def _stripped_texts(value: Any) -> tuple[str, ...] | None:
    """The texts of a list, stripped; None unless ``value`` is a list of non-empty texts.
    (The phrasings hold most of the content's texts: one pass in C over each list.)"""
    if not isinstance(value, YamlList):
        return None
    try:
        texts = tuple(map(str.strip, value))
    except TypeError:  # an item that is not a text
        return None
    return texts if all(texts) else None


def _name_in(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` as the errors name it (as ``relative_to`` would give it,
    from the parts each path already holds: a hundredfold content has 6,000 files)."""
    top, parts = root.parts, path.parts
    if parts[: len(top)] != top:
        return str(path)
    return "/".join(parts[len(top) :]) or "."


def _sorted_paths(paths: Iterable[Path]) -> list[Path]:
    """``sorted(paths)``, the same order, by the paths' parts: without a call of Python's
    ``PurePath.__lt__`` for each comparison."""
    return sorted(paths, key=lambda path: path.parts)


class _FileReader:
    """Reads one file's fields, collecting errors with their line instead of stopping."""

    def __init__(self, root: Path, path: Path, validation: Validation) -> None:
        self.name = _name_in(root, path)
        self.validation = validation
        self.path = path
        self.unreadable = False

    def error(self, line: int, message: str, hint: str | None = None) -> None:
        self.validation.errors.append(ContentIssue(self.name, line, message, hint=hint))

    def warning(self, line: int, message: str) -> None:
        self.validation.warnings.append(ContentIssue(self.name, line, message))

    def load(self) -> Any:
        try:
            return read_yaml(self.path)
        except YamlSyntaxError as error:
            self.error(error.line, f"invalid YAML: {error.message}")
        except OSError as error:
            self.error(1, f"cannot read the file: {error.strerror}")
        self.unreadable = True
        return None

    def mapping(
        self, value: Any, line: int, what: str, required: Iterable[str], optional: Iterable[str]
    ) -> YamlDict | None:
        if not isinstance(value, YamlDict):
            if not self.unreadable:  # already reported, with the line that broke it
                self.error(line, f"{what} must be a mapping of keys to values")
            return None
        required, optional = tuple(required), tuple(optional)
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join(sorted((*required, *optional)))
                self.error(
                    value.key_lines[key], f"unknown key {key!r} in {what} (allowed: {allowed})"
                )
        for key in required:
            if key not in value:
                self.error(value.line, f"{what} is missing the required key {key!r}")
        return value

    def string(self, data: YamlDict, key: str, what: str, required: bool = True) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            # YAML reads 0332536727 as an octal number: the text would be wrong. Ask for quotes.
            self.error(data.key_lines[key], f"{what} {key!r} looks like a number: put it in quotes")
            return None
        if not isinstance(value, str) or not value.strip():
            if required or value is not None:
                self.error(data.key_lines[key], f"{what} {key!r} must be a non-empty text")
            return None
        return value.strip()

    def boolean(self, data: YamlDict, key: str, default: bool) -> bool:
        if key not in data:
            return default
        if not isinstance(data[key], bool):
            self.error(data.key_lines[key], f"{key!r} must be true or false")
            return default
        return bool(data[key])

    def identifier(self, data: YamlDict, key: str, what: str) -> str | None:
        value = self.string(data, key, what)
        if value is not None and not ID_PATTERN.match(value):
            self.error(
                data.key_lines[key],
                f"{what} id {value!r} must be lowercase letters, digits and '_', "
                "starting with a letter",
            )
            return None
        return value

    def id_list(self, data: YamlDict, key: str, what: str) -> list[tuple[str, int]]:
        value = data.get(key)
        if key not in data:
            return []
        if not isinstance(value, YamlList):
            self.error(data.key_lines[key], f"{what} {key!r} must be a list of ids")
            return []
        result = []
        for item, line in zip(value, value.item_lines, strict=True):
            if not isinstance(item, str) or not ID_PATTERN.match(item):
                self.error(line, f"{item!r} in {key!r} is not a valid id")
            else:
                result.append((item, line))
        return result

    def localized(
        self,
        data: YamlDict,
        key: str,
        what: str,
        languages: set[str],
        max_length: int | None = None,
    ) -> Localized | None:
        if key not in data:
            return None
        value = data[key]
        line = data.key_lines[key]
        if not isinstance(value, YamlDict):
            self.error(line, f"{what} {key!r} must map language codes to texts, e.g. it: ...")
            return None
        texts: dict[str, str] = {}
        for code, text in value.items():
            text_line = value.key_lines[code]
            if code not in languages:
                self.error(text_line, f"unknown language {code!r} in {key!r}")
                continue
            if not isinstance(text, str) or not text.strip():
                self.error(
                    text_line,
                    f"empty {key!r} in {code!r}",
                    None
                    if code == "it"
                    else "write the text, or delete the line: the bot then shows this text in "
                    "a fallback language (languages.yaml)",
                )
                continue
            if max_length is not None and len(text.strip()) > max_length:
                self.error(
                    text_line,
                    f"{key!r} in {code!r} is {len(text.strip())} characters; at most {max_length}",
                )
            texts[code] = text.strip()
        if "it" not in value:
            self.error(line, f"{what} {key!r} has no Italian text ('it'), the last fallback")
        return Localized(MappingProxyType(texts))

    def phrase_lists(
        self, data: YamlDict, key: str, languages: Iterable[str], what: str = "language"
    ) -> MappingProxyType[str, tuple[str, ...]]:
        """``key``: a mapping of languages (or of other ids: ``what``) to lists of phrases."""
        # A set is kept as it is: it may be _AnyLanguage, which holds every code.
        known = languages if isinstance(languages, set) else set(languages)
        value = data.get(key)
        if key not in data:
            return MappingProxyType({})
        if not isinstance(value, YamlDict):
            self.error(data.key_lines[key], f"{key!r} must map language codes to lists of phrases")
            return MappingProxyType({})
        result: dict[str, tuple[str, ...]] = {}
        for code, phrases in value.items():
            line = value.key_lines[code]
            if code not in known:
                self.error(line, f"unknown {what} {code!r} in {key!r}")
                continue
            texts = _stripped_texts(phrases)
            if texts is None:
                self.error(line, f"{key!r} in {code!r} must be a list of non-empty texts")
                continue
            result[code] = texts
        return MappingProxyType(result)


def _read_languages(root: Path, validation: Validation) -> tuple[list[Language], str | None]:
    reader = _FileReader(root, root / "languages.yaml", validation)
    data = reader.mapping(reader.load(), 1, "languages.yaml", ("languages",), ("default",))
    if data is None:
        return [], None
    entries = data.get("languages")
    if not isinstance(entries, YamlList) or not entries:
        reader.error(
            data.key_lines.get("languages", data.line), "'languages' must be a non-empty list"
        )
        return [], None
    languages: list[Language] = []
    lines: dict[str, int] = {}
    for entry, line in zip(entries, entries.item_lines, strict=True):
        item = reader.mapping(
            entry, line, "a language", ("code", "name", "english"), ("rtl", "fallback", "enabled")
        )
        if item is None:
            continue
        code = reader.string(item, "code", "language")
        if code is None:
            continue
        if not re.fullmatch(r"[a-z]{2,3}", code):
            reader.error(
                item.key_lines["code"], f"language code {code!r} must be 2 or 3 lowercase letters"
            )
            continue
        if code in lines:
            reader.error(line, f"language {code!r} is listed twice (first on line {lines[code]})")
            continue
        lines[code] = line
        fallback = item.get("fallback", [])
        if not isinstance(fallback, list) or not all(isinstance(f, str) for f in fallback):
            reader.error(
                item.key_lines.get("fallback", line), "'fallback' must be a list of language codes"
            )
            fallback = []
        languages.append(
            Language(
                code=code,
                name=reader.string(item, "name", "language") or code,
                english=reader.string(item, "english", "language") or code,
                rtl=reader.boolean(item, "rtl", False),
                fallback=tuple(fallback),
                enabled=reader.boolean(item, "enabled", True),
            )
        )
    known = set(lines)
    for language in languages:
        for step in language.fallback:
            if step not in known or step == language.code:
                reader.error(
                    lines[language.code],
                    f"language {language.code!r} falls back to unknown {step!r}",
                )
    if "it" not in known:
        reader.error(
            data.line, "Italian ('it') must be listed: it is the last fallback of every text"
        )
    default = data.get("default", "it")
    enabled = {language.code for language in languages if language.enabled}
    if not isinstance(default, str):
        reader.error(data.key_lines["default"], "'default' must be a language code such as it")
        return languages, None
    if default not in enabled:
        reader.error(
            data.key_lines.get("default", data.line), f"default language {default!r} is not enabled"
        )
    return languages, default


class _Anything(set[str]):
    """Every id, while the file that declares them cannot be read: its errors are reported
    there, and each file that uses an id would be blamed for one that may well be right."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class _Known:
    """What a topic or an office may name that other files declare: the areas of
    ``desk.yaml`` and the services of ``services/`` (each file's name is a service's id)."""

    areas: Collection[str]
    services: Collection[str]


def _is_service(reader: _FileReader, line: int, service: object, known: Collection[str]) -> bool:
    """Whether ``service`` is one of the content's services; if not, the error says which are."""
    if service in known:
        return True
    listed = ", ".join(sorted(known)) or "none"
    reader.error(
        line,
        f"unknown service {service!r}: there is no services/{service}.yaml "
        f"(the services are: {listed})",
    )
    return False


def _read_desk(
    root: Path, validation: Validation, languages: set[str], enabled: Collection[str]
) -> Desk | None:
    """``desk.yaml``: the counter's name and own words, and the areas of its topics."""
    path = root / "desk.yaml"
    reader = _FileReader(root, path, validation)
    if not path.is_file():
        reader.error(
            0,
            "desk.yaml is missing: it names the counter and lists the areas of its topics "
            "(see content/README.md)",
        )
        return None
    data = reader.mapping(
        reader.load(),
        1,
        "desk.yaml",
        ("name", "areas"),
        ("welcome", "description", "short_description"),
    )
    if data is None:
        return None
    name = reader.localized(data, "name", "desk", languages, MAX_NAME_LENGTH)
    texts = {
        key: reader.localized(data, key, "desk", languages, limit)
        for key, limit in (
            ("welcome", None),
            ("description", MAX_DESCRIPTION_LENGTH),
            ("short_description", MAX_SHORT_DESCRIPTION_LENGTH),
        )
    }
    for key, text in texts.items():
        lacking = [code for code in enabled if text is None or code not in text]
        if lacking:
            reader.warning(
                data.key_lines.get(key, data.line),
                f"'{key}' has no text in {', '.join(lacking)}: those users read a plain "
                "sentence with the counter's name instead",
            )
    areas = _read_areas(reader, data)
    if name is None or not areas:
        return None
    return Desk(
        name=name,
        areas=areas,
        **{key: text for key, text in texts.items() if text is not None},
    )


def _read_areas(reader: _FileReader, data: YamlDict) -> tuple[Area, ...]:
    """``areas:`` what topics are about, with the Italian names reports and staff read."""
    entries = data.get("areas")
    if "areas" not in data:
        return ()
    if not isinstance(entries, YamlList) or not entries:
        reader.error(data.key_lines["areas"], "'areas' must be a non-empty list of - id: ...")
        return ()
    areas: list[Area] = []
    claimed: dict[str, str] = {}  # a word staff may type -> the area it names
    for entry, line in zip(entries, entries.item_lines, strict=True):
        item = reader.mapping(entry, line, "an area", ("id", "name"), ("words",))
        if item is None:
            continue
        area_id = reader.identifier(item, "id", "area")
        name = reader.string(item, "name", "area")
        words = item.get("words", [])
        if not isinstance(words, list) or not all(
            isinstance(word, str) and word.strip() and len(word.split()) == 1 for word in words
        ):
            reader.error(
                item.key_lines.get("words", line),
                "'words' must be a list of single words, such as [permesso, permessi]",
            )
            words = []
        if area_id is None or name is None:
            continue
        if area_id in claimed:
            reader.error(line, f"area {area_id!r} is listed twice, or is another area's word")
            continue
        lowered = tuple(dict.fromkeys(str(word).strip().lower() for word in words))
        for word in (area_id, *lowered):
            if claimed.get(word, area_id) != area_id:
                reader.error(
                    item.key_lines.get("words", line),
                    f"{word!r} already names the area {claimed[word]!r}: a word names one area",
                )
            claimed.setdefault(word, area_id)
        areas.append(Area(area_id, name, tuple(w for w in lowered if w != area_id)))
    return tuple(areas)


@dataclass
class _Node:
    """Where a menu or topic was defined, and what it points to, for cross-checks."""

    file: _FileReader
    line: int
    references: list[tuple[str, int]]


def _read_menus(
    root: Path, validation: Validation, languages: set[str], nodes: dict[str, _Node]
) -> tuple[str | None, dict[str, Menu]]:
    reader = _FileReader(root, root / "menu.yaml", validation)
    data = reader.mapping(reader.load(), 1, "menu.yaml", ("root", "menus"), ())
    menus: dict[str, Menu] = {}
    if data is None:
        return None, menus
    root_id = reader.identifier(data, "root", "root menu")
    entries = data.get("menus")
    if not isinstance(entries, YamlList):
        reader.error(data.key_lines.get("menus", data.line), "'menus' must be a list of menus")
        return root_id, menus
    for entry, line in zip(entries, entries.item_lines, strict=True):
        item = reader.mapping(entry, line, "a menu", ("id", "title", "items"), ("text",))
        if item is None:
            continue
        menu_id = reader.identifier(item, "id", "menu")
        title = reader.localized(item, "title", "menu", languages, MAX_TITLE_LENGTH)
        items = reader.id_list(item, "items", "menu")
        if "items" in item and not items:
            reader.error(item.key_lines["items"], "a menu needs at least one item")
        if menu_id is None or title is None:
            continue
        if _claim(nodes, menu_id, reader, line):
            menus[menu_id] = Menu(
                id=menu_id,
                title=title,
                items=tuple(item_id for item_id, _ in items),
                text=reader.localized(item, "text", "menu", languages),
            )
            nodes[menu_id].references = items
    if root_id is not None and root_id not in menus:
        reader.error(data.key_lines["root"], f"root menu {root_id!r} is not defined in 'menus'")
    return root_id, menus


def _claim(nodes: dict[str, _Node], node_id: str, reader: _FileReader, line: int) -> bool:
    if node_id in nodes:
        first = nodes[node_id]
        reader.error(
            line, f"duplicate id {node_id!r} (already used at {first.file.name}:{first.line})"
        )
        return False
    nodes[node_id] = _Node(reader, line, [])
    return True


@dataclass(frozen=True)
class _TopicRead:
    """What reading one topic file found, before it claims its id among the others: the
    loader's cache keeps it by the file's bytes (bot/content/read_cache.py)."""

    topic: Topic | None
    line: int
    children: list[tuple[str, int]]
    errors: list[ContentIssue]
    warnings: list[ContentIssue]
    #: Whether its review date was after the day it was read: the reading holds for another
    #: day only when that is still so.
    future: bool
    reviewed: date | None

    def holds_on(self, today: date) -> bool:
        return self.future == (self.reviewed is not None and self.reviewed > today)


def _read_topic_file(
    root: Path, path: Path, languages: set[str], today: date, known: _Known
) -> _TopicRead:
    """One topic file on its own: its errors and warnings collected apart, in order."""
    found = Validation()
    read = _read_topic(root, path, found, languages, today, known)
    topic, line, children, reviewed = read if read is not None else (None, 0, [], None)
    if read is None:
        reviewed = _reviewed_of(root, path)
    return _TopicRead(
        topic,
        line,
        children,
        found.errors,
        found.warnings,
        reviewed is not None and reviewed > today,
        reviewed,
    )


def _reviewed_of(root: Path, path: Path) -> date | None:
    """A topic's review date, as far as it can be read (for a file with errors)."""
    try:
        data = read_yaml(path)
    except (YamlSyntaxError, OSError):
        return None
    return as_date(data.get("reviewed")) if isinstance(data, YamlDict) else None


def _read_topic(
    root: Path,
    path: Path,
    validation: Validation,
    languages: set[str],
    today: date,
    known: _Known,
) -> tuple[Topic, int, list[tuple[str, int]], date] | None:
    """The topic, the line it starts on and its children, and its review date; None when it
    has errors (reported to ``validation``)."""
    reader = _FileReader(root, path, validation)
    data = reader.mapping(
        reader.load(),
        1,
        "a topic",
        ("id", "area", "reviewed", "title", "answer", "sources"),
        (
            "status",
            "keywords",
            "questions",
            "links",
            "children",
            "actions",
            "law",
            "intent",
            "translations",
        ),
    )
    if data is None:
        return None
    topic_id = reader.identifier(data, "id", "topic")
    if topic_id is not None and topic_id != path.stem:
        reader.error(
            data.key_lines["id"], f"topic id {topic_id!r} must equal the file name {path.stem!r}"
        )
    area = reader.string(data, "area", "topic")
    if area is not None and area not in known.areas:
        reader.error(
            data.key_lines["area"],
            f"unknown area {area!r} (one of: {', '.join(known.areas)})",
            "use an area listed in desk.yaml, or add it there",
        )
    reviewed = as_date(data.get("reviewed"))
    if "reviewed" in data and reviewed is None:
        reader.error(
            data.key_lines["reviewed"],
            "'reviewed' is empty: write the date you checked the answer against its sources, "
            "like 2026-11-20"
            if data["reviewed"] is None
            else f"'reviewed' must be a date like 2026-11-20, got {data['reviewed']!r}",
        )
    elif reviewed is not None and reviewed > today:
        reader.error(data.key_lines["reviewed"], f"'reviewed' date {reviewed} is in the future")
    title = reader.localized(data, "title", "topic", languages, MAX_TITLE_LENGTH)
    answer = reader.localized(data, "answer", "topic", languages)
    if answer is not None:
        for code, text in answer.values.items():
            if len(text) > MAX_ANSWER_LENGTH:
                reader.warning(
                    data["answer"].key_lines[code],
                    f"answer in {code!r} is {len(text)} characters; "
                    f"keep it under {MAX_ANSWER_LENGTH} "
                    "(split it into sub-topics)",
                )
    status = _read_status(reader, data, answer)
    translations = _read_translations(reader, data, languages)
    sources = _read_url_list(
        reader, data, "sources", lambda item: _source(reader, item), required=True
    )
    links = _read_url_list(reader, data, "links", lambda item: _link(reader, item, languages))
    children = reader.id_list(data, "children", "topic")
    actions = _read_actions(reader, data, known.services)
    law = _read_law(reader, data)
    intent = None
    if "intent" in data:
        taught = {intent.value: intent for intent in TOPIC_INTENTS}
        intent = taught.get(data["intent"]) if isinstance(data["intent"], str) else None
        if intent is None:
            reader.error(
                data.key_lines["intent"],
                f"'intent' must be one of: {', '.join(sorted(taught))}, got {data['intent']!r}",
            )
    if (
        topic_id is None
        or area is None
        or area not in known.areas
        or reviewed is None
        or title is None
        or answer is None
    ):
        return None
    topic = Topic(
        id=topic_id,
        area=area,
        reviewed=reviewed,
        title=title,
        answer=answer,
        sources=tuple(sources),
        status=MappingProxyType(status),
        keywords=reader.phrase_lists(data, "keywords", languages),
        questions=reader.phrase_lists(data, "questions", languages),
        links=tuple(links),
        children=tuple(child for child, _ in children),
        actions=tuple(actions),
        law=law,
        intent=intent,
        file=reader.name,
        translations=MappingProxyType(translations),
        stale=MappingProxyType(
            stale_fields(translations, {"title": title.values, "answer": answer.values})
        ),
    )
    return topic, data.line, children, reviewed


def _read_translations(
    reader: _FileReader, data: YamlDict, languages: set[str]
) -> dict[str, Record]:
    """``translations:``, written by the tools: which Italian each translation was made from."""
    if "translations" not in data:
        return {}
    value = data["translations"]
    lines = value.key_lines if isinstance(value, YamlDict) else {}
    return read_records(value, lines, data.key_lines["translations"], languages, reader.error)


def _read_law(reader: _FileReader, data: YamlDict) -> tuple[str, ...]:
    """``law:`` the norms a topic rests on, so an editor can find every topic a change touches."""
    value = data.get("law")
    if "law" not in data:
        return ()
    if not isinstance(value, YamlList) or not all(
        isinstance(norm, str) and norm.strip() for norm in value
    ):
        reader.error(
            data.key_lines["law"],
            "'law' must be a list of norms, such as - D.Lgs. 286/1998 art. 29",
        )
        return ()
    return tuple(" ".join(norm.split()) for norm in value)


def _read_status(reader: _FileReader, data: YamlDict, answer: Localized | None) -> dict[str, str]:
    value = data.get("status")
    if "status" not in data:
        return {}
    if not isinstance(value, YamlDict):
        reader.error(
            data.key_lines["status"], "'status' must map language codes to reviewed or draft"
        )
        return {}
    status: dict[str, str] = {}
    for code, state in value.items():
        line = value.key_lines[code]
        if state not in TRANSLATION_STATUSES:
            reader.error(line, f"status of {code!r} must be 'reviewed' or 'draft', got {state!r}")
        elif answer is not None and code not in answer.values:
            reader.error(line, f"status given for {code!r}, which has no answer")
        else:
            status[code] = state
    return status


def _read_url_list(
    reader: _FileReader,
    data: YamlDict,
    key: str,
    build: Callable[[YamlDict], T | None],
    required: bool = False,
) -> list[T]:
    value = data.get(key)
    if key not in data:
        return []
    if not isinstance(value, YamlList) or (required and not value):
        reader.error(data.key_lines[key], f"{key!r} must be a non-empty list of - url: ... entries")
        return []
    result = []
    for item, line in zip(value, value.item_lines, strict=True):
        if not isinstance(item, YamlDict):
            reader.error(line, f"each entry of {key!r} must be a mapping with 'url'")
            continue
        url = reader.string(item, "url", key[:-1])
        if url is not None and not re.match(r"^https?://[^\s/]+\.[^\s]+$", url):
            reader.error(item.key_lines["url"], f"{url!r} is not a web address (https://...)")
            continue
        built = build(item)
        if built is not None:
            result.append(built)
    return result


def _source(reader: _FileReader, item: YamlDict) -> Source | None:
    data = reader.mapping(item, item.line, "a source", ("url", "title"), ("read",))
    url, title = reader.string(item, "url", "source"), reader.string(item, "title", "source")
    read = as_date(item.get("read"))
    if "read" in item and read is None:
        reader.error(
            item.key_lines["read"],
            "'read' is empty: write the date you read the page, like 2026-11-30"
            if item["read"] is None
            else f"'read' must be the date the page was read, like 2026-11-30, "
            f"got {item['read']!r}",
        )
    return Source(url, title, read) if data is not None and url and title else None


def _link(reader: _FileReader, item: YamlDict, languages: set[str]) -> Link | None:
    data = reader.mapping(item, item.line, "a link", ("url", "label"), ())
    url = reader.string(item, "url", "link")
    label = reader.localized(item, "label", "link", languages, MAX_TITLE_LENGTH)
    return Link(url, label) if data is not None and url and label else None


def _read_actions(reader: _FileReader, data: YamlDict, services: Collection[str]) -> list[Action]:
    value = data.get("actions")
    if "actions" not in data:
        return []
    if not isinstance(value, YamlList):
        reader.error(
            data.key_lines["actions"], "'actions' must be a list such as - book: permit_renewal"
        )
        return []
    actions = []
    for item, line in zip(value, value.item_lines, strict=True):
        if not isinstance(item, YamlDict) or len(item) != 1:
            reader.error(
                line,
                "each action is one of '- book: <service>', '- checklist: <service>' "
                "(or true: the user chooses), '- dates: <deadline>' or '- human: true'",
            )
            continue
        kind, argument = next(iter(item.items()))
        if kind == "book":
            if not _is_service(reader, line, argument, services):
                continue
            actions.append(Action("book", argument))
        elif kind == "human" and argument is True:
            actions.append(Action("human"))
        elif kind == "dates" and isinstance(argument, str) and argument.strip():
            actions.append(Action("dates", argument.strip()))  # a deadline rule: checked later
        elif kind == "checklist" and argument is True:
            actions.append(Action("checklist"))
        elif kind == "checklist":
            if _is_service(reader, line, argument, services):
                actions.append(Action("checklist", argument))
        else:
            reader.error(
                line,
                f"unknown action {kind!r}: use '- book: <service>', '- checklist: <service>', "
                "'- dates: <deadline>' or '- human: true'",
            )
    return actions


def _read_offices(
    root: Path, validation: Validation, languages: set[str], services: Collection[str]
) -> list[Office]:
    reader = _FileReader(root, root / "offices.yaml", validation)
    data = reader.mapping(reader.load(), 1, "offices.yaml", ("offices",), ())
    if data is None:
        return []
    entries = data.get("offices")
    if not isinstance(entries, YamlList) or not entries:
        reader.error(data.key_lines.get("offices", data.line), "'offices' must be a non-empty list")
        return []
    offices: list[Office] = []
    for entry, line in zip(entries, entries.item_lines, strict=True):
        item = reader.mapping(
            entry,
            line,
            "an office",
            ("id", "name", "address"),
            ("phone", "email", "hours", "confirmed", "booking", "requests"),
        )
        if item is None:
            continue
        office_id = reader.identifier(item, "id", "office")
        name = reader.localized(item, "name", "office", languages)
        address = reader.string(item, "address", "office")
        if office_id is None or name is None or address is None:
            continue
        if any(office.id == office_id for office in offices):
            reader.error(line, f"duplicate office id {office_id!r}")
            continue
        offices.append(
            Office(
                id=office_id,
                name=name,
                address=address,
                phone=reader.string(item, "phone", "office", required=False),
                email=reader.string(item, "email", "office", required=False),
                hours=reader.localized(item, "hours", "office", languages),
                confirmed=reader.boolean(item, "confirmed", True),
                booking=(booking := _read_office_booking(reader, item, services)),
                requests=_read_office_requests(reader, item, booking, services),
            )
        )
    return offices


def _read_province(reader: _FileReader, data: YamlDict, what: str) -> str | None:
    """An office's province ("VA"): its patron day is a public holiday there."""
    province = reader.string(data, "province", what, required=False)
    if province is not None and province not in provinces():
        reader.error(
            data.key_lines["province"],
            f"unknown province {province!r}: use the two-letter code of an Italian province, "
            "such as VA",
        )
        return None
    return province


@functools.cache
def provinces() -> frozenset[str]:
    """Italian province codes ("VA") the holiday calendar knows a patron day for."""
    import holidays  # here: the loader's workers read no office, and need not import it

    known = holidays.country_holidays("IT").subdivisions
    return frozenset(code for code in known if len(code) == 2 and code.isupper())


_TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _read_office_booking(
    reader: _FileReader, office: YamlDict, known: Collection[str]
) -> OfficeBooking | None:
    """An office's ``booking:`` block; without one the office takes no bookings online."""
    if "booking" not in office:
        return None
    data = reader.mapping(
        office["booking"],
        office.key_lines["booking"],
        "'booking'",
        ("code", "services", "weekly"),
        (
            "slot_minutes",
            "capacity",
            "horizon_days",
            "notice_hours",
            "max_active",
            "closed",
            "province",
        ),
    )
    if data is None:
        return None
    code = reader.string(data, "code", "booking")
    if code is not None and not re.fullmatch(r"[A-Z]{2}", code):
        reader.error(data.key_lines["code"], "'code' must be two capital letters, such as LU")
    services = reader.id_list(data, "services", "booking")
    for service, line in services:
        _is_service(reader, line, service, known)
    weekly: dict[str, tuple[tuple[str, str], ...]] = {}
    table = data.get("weekly")
    if isinstance(table, YamlDict):
        for day, ranges in table.items():
            line = table.key_lines[day]
            if day not in WEEKDAY_KEYS:
                reader.error(line, f"unknown weekday {day!r} (one of: {', '.join(WEEKDAY_KEYS)})")
                continue
            periods = []
            for text in ranges if isinstance(ranges, list) else [ranges]:
                match = _TIME_RANGE.match(str(text).strip())
                if match is None or match.group(1, 2) >= match.group(3, 4):
                    reader.error(line, f"{text!r} is not an opening time like 09:00-12:30")
                    continue
                start, end = str(text).strip().split("-")
                periods.append((start, end))
            weekly[day] = tuple(periods)
    elif "weekly" in data:
        reader.error(
            data.key_lines["weekly"], "'weekly' maps weekdays to times, e.g. mon: [09:00-12:30]"
        )
    numbers: dict[str, float] = {}
    for key, default, low, high in (
        ("slot_minutes", 30, 5, 240),
        ("capacity", 1, 1, 50),
        ("horizon_days", 30, 1, 365),
        ("notice_hours", 2, 0, 240),
        ("max_active", 2, 1, 20),
    ):
        value = data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            reader.error(
                data.key_lines.get(key, data.line), f"{key!r} must be a number from {low} to {high}"
            )
            value = default
        numbers[key] = value
    closed: set[date] = set()
    entries = data.get("closed", [])
    for entry, line in zip(entries, getattr(entries, "item_lines", []), strict=False):
        if isinstance(entry, YamlDict) and set(entry) == {"from", "to"}:
            first, last = as_date(entry["from"]), as_date(entry["to"])
            if first is None or last is None or first > last:
                reader.error(line, "a closed range needs 'from' and 'to' dates, from before to")
                continue
            closed.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        elif (day := as_date(entry)) is not None:
            closed.add(day)
        else:
            reader.error(line, f"{entry!r} is not a date (2026-12-24) or a range (from:, to:)")
    province = _read_province(reader, data, "booking")
    if code is None or not weekly:
        return None
    return OfficeBooking(
        code=code,
        services=tuple(service for service, _ in services),
        weekly=MappingProxyType(weekly),
        slot_minutes=int(numbers["slot_minutes"]),
        capacity=int(numbers["capacity"]),
        horizon_days=int(numbers["horizon_days"]),
        notice_hours=float(numbers["notice_hours"]),
        max_active=int(numbers["max_active"]),
        closed=frozenset(closed),
        province=province,
    )


def _read_office_requests(
    reader: _FileReader, office: YamlDict, booking: OfficeBooking | None, known: Collection[str]
) -> OfficeRequests | None:
    """An office's ``requests:`` block: services it gives appointments for on request."""
    if "requests" not in office:
        return None
    data = reader.mapping(
        office["requests"],
        office.key_lines["requests"],
        "'requests'",
        ("code", "services"),
        ("remind_after_hours", "staff_hours", "max_active", "province"),
    )
    if data is None:
        return None
    code = reader.string(data, "code", "requests")
    if code is not None and not re.fullmatch(r"[A-Z]{2}", code):
        reader.error(data.key_lines["code"], "'code' must be two capital letters, such as LU")
        code = None
    services = reader.id_list(data, "services", "requests")
    if "services" in data and not services:
        reader.error(data.key_lines["services"], "'services' must list at least one service")
    for service, line in services:
        if not _is_service(reader, line, service, known):
            continue
        if booking is not None and service in booking.services:
            reader.error(
                line,
                f"{service!r} is booked by slots in 'booking': an office takes a service one "
                "way, by slots or by request",
            )
    numbers: dict[str, int] = {}
    for key, default, low, high in (("remind_after_hours", 8, 1, 80), ("max_active", 2, 1, 20)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            reader.error(
                data.key_lines.get(key, data.line),
                f"{key!r} must be a whole number from {low} to {high}",
            )
            value = default
        numbers[key] = value
    staff_hours = ("09:00", "17:00")
    if "staff_hours" in data:
        match = _TIME_RANGE.match(str(data["staff_hours"]).strip())
        if match is None or match.group(1, 2) >= match.group(3, 4):
            reader.error(
                data.key_lines["staff_hours"],
                f"{data['staff_hours']!r} is not a span of the day like 09:00-17:00",
            )
        else:
            start, end = str(data["staff_hours"]).strip().split("-")
            staff_hours = (start, end)
    province = _read_province(reader, data, "requests")
    if code is None or not services:
        return None
    return OfficeRequests(
        code=code,
        services=tuple(service for service, _ in services if service in known),
        remind_after_hours=numbers["remind_after_hours"],
        staff_hours=staff_hours,
        max_active=numbers["max_active"],
        province=province,
    )


def _read_services(
    root: Path, validation: Validation, languages: set[str], enabled: Iterable[str] = ()
) -> dict[str, Service]:
    """``services/*.yaml``: what the counter books appointments for (``enabled``: the
    languages a ``checklist:`` must be written in)."""
    services: dict[str, Service] = {}
    for path in sorted((root / "services").glob("*.yaml")):
        reader = _FileReader(root, path, validation)
        data = reader.mapping(
            reader.load(),
            1,
            "a service",
            ("id", "minutes", "name", "documents", "sources"),
            ("status", "checklist"),
        )
        if data is None:
            continue
        service_id = reader.identifier(data, "id", "service")
        if service_id is not None and service_id != path.stem:
            reader.error(
                data.key_lines["id"],
                f"service id {service_id!r} must equal the file name {path.stem!r}",
            )
        minutes = data.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 240:
            reader.error(
                data.key_lines.get("minutes", data.line),
                "'minutes' must be a whole number from 5 to 240",
            )
        name = reader.localized(data, "name", "service", languages, MAX_TITLE_LENGTH)
        documents = reader.localized(data, "documents", "service", languages)
        status = _read_status(reader, data, documents)
        sources = _read_url_list(
            reader, data, "sources", functools.partial(_source, reader), required=True
        )
        checklist = read_checklist(
            reader,
            data,
            languages,
            enabled,
            functools.partial(
                _read_url_list,
                reader,
                key="sources",
                build=functools.partial(_source, reader),
                required=True,
            ),
        )
        if service_id is None or name is None or documents is None or not isinstance(minutes, int):
            continue
        services[service_id] = Service(
            service_id,
            minutes,
            name,
            documents,
            tuple(sources),
            MappingProxyType(status),
            checklist,
        )
    return services


def _in_offices_order(services: dict[str, Service], offices: list[Office]) -> dict[str, Service]:
    """The services in the order the offices list them (the order users choose from), then
    those no office offers yet."""
    listed = [
        service
        for office in offices
        for block in (office.booking, office.requests)
        if block is not None
        for service in block.services
    ]
    order = [*dict.fromkeys(service for service in listed if service in services), *services]
    return {service: services[service] for service in dict.fromkeys(order)}


def _read_intents(
    root: Path, validation: Validation, languages: set[str], topics: Mapping[str, Topic]
) -> dict[Intent, MappingProxyType[str, tuple[str, ...]]]:
    reader = _FileReader(root, root / "intents.yaml", validation)
    data = reader.mapping(reader.load(), 1, "intents.yaml", ("intents",), ())
    if data is None:
        return {}
    entries = data.get("intents")
    if not isinstance(entries, YamlDict):
        reader.error(
            data.key_lines.get("intents", data.line), "'intents' must map intent names to phrases"
        )
        return {}
    known = {intent.value for intent in Intent}
    intents: dict[Intent, MappingProxyType[str, tuple[str, ...]]] = {}
    for name in entries:
        if name not in known:
            reader.error(
                entries.key_lines[name],
                f"unknown intent {name!r} (one of: {', '.join(sorted(known))})",
            )
            continue
        intents[Intent(name)] = reader.phrase_lists(entries, name, languages)
    # A counter without deadline rules offers neither dialogue: nothing to say about them.
    unused = (
        set() if (root / "deadlines.yaml").exists() else {Intent.DEADLINES, Intent.MY_REMINDERS}
    )
    # The signs of danger lead to the topic that stands for them: without one, they do nothing.
    helping = [topic.id for topic in topics.values() if topic.intent is Intent.DANGER]
    if len(helping) > 1:
        reader.warning(
            entries.key_lines.get(Intent.DANGER.value, entries.line),
            f"the topics {', '.join(helping)} all have 'intent: danger': only {helping[0]} "
            "answers the signs of danger",
        )
    if not helping:
        unused.add(Intent.DANGER)
        if Intent.DANGER in intents:
            reader.warning(
                entries.key_lines[Intent.DANGER.value],
                "the phrases of 'danger' lead to the topic with 'intent: danger', and no topic "
                "has it: they do nothing",
            )
    for intent in Intent:
        if intent not in intents and intent not in unused:
            reader.warning(entries.line, f"intent {intent.value!r} has no phrases")
    return intents


def _read_synonyms(root: Path, validation: Validation) -> tuple[tuple[str, ...], ...]:
    """``synonyms.yaml`` (optional): groups of phrases that mean the same, in any language."""
    path = root / "synonyms.yaml"
    if not path.exists():
        return ()
    reader = _FileReader(root, path, validation)
    data = reader.mapping(reader.load(), 1, "synonyms.yaml", ("synonyms",), ())
    if data is None:
        return ()
    groups = data.get("synonyms")
    if not isinstance(groups, YamlList):
        reader.error(
            data.key_lines.get("synonyms", data.line), "'synonyms' must be a list of groups"
        )
        return ()
    result: list[tuple[str, ...]] = []
    for group, line in zip(groups, groups.item_lines, strict=True):
        if (
            not isinstance(group, list)
            or len(group) < 2
            or not all(isinstance(phrase, str) and phrase.strip() for phrase in group)
        ):
            reader.error(line, "each synonym group is a list of at least two non-empty phrases")
            continue
        result.append(tuple(phrase.strip() for phrase in group))
    return tuple(result)


@dataclass(frozen=True)
class _PhrasingsRead:
    """What reading one phrasings file found, before its topic ids are checked against the
    topics that loaded: the loader's cache keeps it by the file's bytes.

    ``steps``, in the file's order: an error found (a ``ContentIssue``), or a topic's entry
    ``(topic id, line, its phrases or None when they are not a list of texts)``."""

    code: str | None
    steps: list[ContentIssue | tuple[Any, int, tuple[str, ...] | None]]
    intents: list[tuple[Intent, tuple[str, ...]]]
    off_topic: tuple[str, ...]


def _read_phrasings_file(root: Path, path: Path, languages: set[str]) -> _PhrasingsRead:
    found = Validation()
    steps: list[ContentIssue | tuple[Any, int, tuple[str, ...] | None]] = []
    intents: list[tuple[Intent, tuple[str, ...]]] = []

    def done(code: str | None = None, off_topic: tuple[str, ...] = ()) -> _PhrasingsRead:
        steps.extend(found.errors)
        found.errors.clear()
        return _PhrasingsRead(code, steps, intents, off_topic)

    reader = _FileReader(root, path, found)
    data = reader.mapping(
        reader.load(), 1, "a phrasings file", ("language",), ("topics", "intents", "off_topic")
    )
    if data is None:
        return done()
    code = reader.string(data, "language", "phrasings file")
    if code is not None and code not in languages:
        reader.error(data.key_lines["language"], f"unknown language {code!r}")
        return done()
    if code is not None and code != path.stem:
        reader.error(
            data.key_lines["language"],
            f"language {code!r} must equal the file name {path.stem!r}",
        )
        return done()
    if code is None:
        return done()
    table = data.get("topics")
    if "topics" in data and not isinstance(table, YamlDict):
        reader.error(data.key_lines["topics"], "'topics' must map topic ids to lists of phrases")
    elif isinstance(table, YamlDict):
        for key, phrases in table.items():
            steps.extend(found.errors)
            found.errors.clear()
            steps.append((key, table.key_lines[key], _stripped_texts(phrases)))
    taught = {intent.value: intent for intent in TAUGHT_INTENTS}
    table = data.get("intents")
    what = "intent that phrasings can teach"
    if "intents" in data and not isinstance(table, YamlDict):
        reader.error(
            data.key_lines["intents"], f"'intents' must map {what} ids to lists of phrases"
        )
    elif "intents" in data:
        for key, phrases in reader.phrase_lists(data, "intents", set(taught), what).items():
            intents.append((taught[key], phrases))
    off_topic: tuple[str, ...] = ()
    if "off_topic" in data:
        texts = _stripped_texts(data["off_topic"])
        if texts is None:
            reader.error(
                data.key_lines["off_topic"], "'off_topic' must be a list of non-empty texts"
            )
        else:
            off_topic = texts
    return done(code, off_topic)


def _read_phrasings(
    root: Path,
    validation: Validation,
    languages: set[str],
    topics: dict[str, Topic],
    unloaded: set[str],
    cache: ReadCache,
    context: str,
) -> Phrasings:
    """``phrasings/<language>.yaml`` (optional): sample messages as people of that language write
    them, for the topics, the taught intents and off-topic small talk. Phrasings of a topic
    whose file has errors (``unloaded``) are left out, and not reported."""
    # One file per language (its name is the code): each topic's texts in a language come from
    # one file.
    by_topic: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    by_intent: dict[Intent, dict[str, tuple[str, ...]]] = defaultdict(dict)
    off_topic: dict[str, tuple[str, ...]] = {}
    for path in sorted((root / "phrasings").glob("*.yaml")):
        read = cache.reading(
            f"phrasings/{path.name}",
            path,
            context,
            functools.partial(_read_phrasings_file, root, path, languages),
            lambda found: isinstance(found, _PhrasingsRead),
        )
        name = f"phrasings/{path.name}"
        for step in read.steps:
            if isinstance(step, ContentIssue):
                validation.errors.append(step)
                continue
            key, line, phrases = step
            if key not in topics and key not in unloaded:
                validation.errors.append(
                    ContentIssue(name, line, f"unknown topic {key!r} in 'topics'")
                )
            elif phrases is None:
                validation.errors.append(
                    ContentIssue(
                        name, line, f"'topics' in {key!r} must be a list of non-empty texts"
                    )
                )
            elif key not in unloaded and read.code is not None:
                by_topic[key][read.code] = phrases
        for intent, phrases in read.intents:
            if read.code is not None:
                by_intent[intent][read.code] = phrases
        if read.code is not None and read.off_topic:
            off_topic[read.code] = read.off_topic
    return Phrasings(
        topics=MappingProxyType({key: MappingProxyType(by) for key, by in by_topic.items()}),
        intents=MappingProxyType({key: MappingProxyType(by) for key, by in by_intent.items()}),
        off_topic=MappingProxyType(off_topic),
    )


def _read_deadlines(
    root: Path, validation: Validation, languages: set[str], today: date, topics: set[str]
) -> dict[str, DeadlineRule]:
    """``deadlines.yaml`` (optional): the rules that compute a user's dates."""
    path = root / "deadlines.yaml"
    if not path.exists():
        return {}
    reader = _FileReader(root, path, validation)

    def sources(data: YamlDict, key: str) -> list[Source]:
        return _read_url_list(reader, data, key, functools.partial(_source, reader), required=True)

    return read_rules(reader, languages, today, topics, sources)


def _check_references(
    root_id: str | None,
    topics: dict[str, Topic],
    menus: dict[str, Menu],
    nodes: dict[str, _Node],
    unloaded: set[str],
) -> None:
    """Dangling ids and unreachable nodes; ``unloaded``: topics whose file has errors."""
    for node_id, node in nodes.items():
        for target, line in node.references:
            if target in unloaded:
                continue  # the topic's own file is reported: naming it here too misleads
            if target not in nodes:
                node.file.error(line, f"{node_id!r} refers to {target!r}, which does not exist")
            elif node_id in topics and target not in topics:
                node.file.error(
                    line, f"children of topic {node_id!r} must be topics; {target!r} is a menu"
                )
    if root_id is None or root_id not in menus or unloaded:
        # A topic that did not load may be the one that links others (its children): which
        # topics are unreachable is known only once every topic file loads.
        return
    reachable: set[str] = set()
    waiting = [root_id]
    while waiting:
        current = waiting.pop()
        if current in reachable or current not in nodes:
            continue
        reachable.add(current)
        waiting.extend(target for target, _ in nodes[current].references)
    for node_id in sorted(set(nodes) - reachable):
        node = nodes[node_id]
        node.file.error(node.line, f"{node_id!r} cannot be reached from the root menu {root_id!r}")


def _check_checklist_actions(
    topics: dict[str, Topic], services: dict[str, Service], nodes: dict[str, _Node]
) -> None:
    """A topic's ``- checklist: <service>`` button needs that service to have a checklist (a
    service whose file has errors is reported there)."""
    for topic in topics.values():
        for action in topic.actions:
            service = services.get(action.service or "")
            if action.kind != "checklist" or service is None or service.checklist is not None:
                continue
            node = nodes[topic.id]
            node.file.error(
                _line_holding(node.file.path, f"checklist: {service.id}", node.line),
                f"the action 'checklist: {service.id}' needs a 'checklist:' in "
                f"services/{service.id}.yaml (or use '- checklist: true')",
            )


def _check_dates_actions(
    topics: dict[str, Topic], deadlines: Mapping[str, DeadlineRule], nodes: dict[str, _Node]
) -> None:
    """A topic's ``- dates: <deadline>`` button needs that deadline in ``deadlines.yaml``.
    Without deadlines at all (the file is optional, or has errors reported there) the buttons
    are simply not shown."""
    if not deadlines:
        return
    for topic in topics.values():
        for action in topic.actions:
            if action.kind != "dates" or action.service in deadlines:
                continue
            node = nodes[topic.id]
            node.file.error(
                _line_holding(node.file.path, f"dates: {action.service}", node.line),
                f"the action 'dates: {action.service}' names no deadline of deadlines.yaml",
            )


def _line_holding(path: Path, text: str, default: int) -> int:
    """The first line of a file holding ``text``: where to point at a mistake."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return default
    return next((n for n, line in enumerate(lines, 1) if text in line), default)


class _AnyLanguage(set[str]):
    """Every language code, while ``languages.yaml`` cannot be read."""

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str)


def _explained(root: Path, issues: list[ContentIssue]) -> list[ContentIssue]:
    """Errors in plain words, at the line that holds the mistake, with a hint to fix it.

    YAML's own messages name the parser's state ("mapping values are not allowed here") and
    an unclosed quote where the text it swallowed ends; a list item without its space
    ("-D.Lgs.") is valid YAML and shows as a field that is not a list, on the key's line.
    """
    texts: dict[str, str | None] = {}
    result: list[ContentIssue] = []
    for issue in issues:
        if issue.file not in texts:
            try:
                texts[issue.file] = (root / issue.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError, ValueError):
                texts[issue.file] = None
        text = texts[issue.file]
        if issue in result:  # a field checked twice (an empty url: as a link, as a source)
            continue
        if text is None:
            result.append(issue)
            continue
        if issue.message.startswith("invalid YAML:"):
            mistake = explain(text)
        else:
            mistake = dash_in_value(text, issue.line)
        if mistake is None:
            result.append(issue)
            continue
        explained = ContentIssue(
            issue.file, mistake.line, mistake.message, mistake.column, mistake.hint
        )
        if explained not in result:  # several fields may point at the same dash
            result.append(explained)
    return result


def _fingerprint(root: Path, files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in _sorted_paths(files):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def content_files(root: Path) -> list[Path]:
    """Every file that makes up the content, for change detection and fingerprints."""
    names = (
        "languages.yaml",
        "desk.yaml",
        "menu.yaml",
        "offices.yaml",
        "intents.yaml",
        "synonyms.yaml",
        "deadlines.yaml",
    )
    fixed = [root / name for name in names]
    return (
        fixed
        + _sorted_paths((root / "topics").glob("*.yaml"))
        + sorted((root / "services").glob("*.yaml"))
        + sorted((root / "phrasings").glob("*.yaml"))
    )


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector paused while the content is read. Reading makes hundreds of
    thousands of mappings and lists that all live on: the collector would look through them
    again and again as they pile up (a third of the loading time) to find no garbage. Any
    cycle left meanwhile, here or in another thread, is collected once it runs again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate(root: Path, today: date | None = None, cache: Path | None = None) -> Validation:
    """Load ``root`` and report every error and warning; ``catalog`` is set only when valid.

    ``cache``: a folder where what each file gave is kept by its content hash, so that the
    next load reads again only the files that changed (bot/content/read_cache.py)."""
    files = ReadCache(cache, root)
    with _cycle_collection_paused():
        validation = _validate(root, today, files)
    files.save()
    return validation


def _validate(root: Path, today: date | None, cache: ReadCache) -> Validation:
    validation = Validation()
    today = today or date.today()
    if not root.is_dir():
        validation.errors.append(ContentIssue(str(root), 0, "the content folder does not exist"))
        return validation
    errors_before = len(validation.errors)
    languages, default = _read_languages(root, validation)
    codes = {language.code for language in languages}
    if len(validation.errors) > errors_before:
        # languages.yaml is reported; without it every text of every file would be blamed
        # for a language that may well be right.
        codes = _AnyLanguage(codes)
    enabled = [language.code for language in languages if language.enabled]
    errors_before = len(validation.errors)
    desk = _read_desk(root, validation, codes, enabled)
    known = _Known(
        areas=[area.id for area in desk.areas] if desk is not None else _Anything(),
        services=sorted(path.stem for path in (root / "services").glob("*.yaml")),
    )
    if desk is None and len(validation.errors) == errors_before:
        validation.errors.append(ContentIssue("desk.yaml", 1, "desk.yaml lists no area"))
    nodes: dict[str, _Node] = {}
    root_id, menus = _read_menus(root, validation, codes, nodes)
    topics: dict[str, Topic] = {}
    topic_files = _sorted_paths((root / "topics").glob("*.yaml"))
    if not topic_files:
        validation.errors.append(ContentIssue("topics/", 0, "there are no topics (topics/*.yaml)"))
    unloaded: set[str] = set()
    # A topic is checked against the languages, and the areas and services other files
    # declare: a reading holds while all three are the same.
    context = "|".join(
        (
            "*" if isinstance(codes, _AnyLanguage) else languages_context(codes),
            "*" if isinstance(known.areas, _Anything) else ",".join(sorted(known.areas)),
            ",".join(sorted(known.services)),
        )
    )
    for path in topic_files:
        read = cache.reading(
            f"topics/{path.name}",
            path,
            context,
            functools.partial(_read_topic_file, root, path, codes, today, known),
            lambda found: isinstance(found, _TopicRead) and found.holds_on(today),
        )
        validation.errors.extend(read.errors)
        validation.warnings.extend(read.warnings)
        topic = read.topic
        if topic is not None and _claim(
            nodes, topic.id, _FileReader(root, path, validation), read.line
        ):
            nodes[topic.id].references = read.children
            topics[topic.id] = topic
        else:
            unloaded.add(path.stem)
    offices = _read_offices(root, validation, codes, known.services)
    intents = _read_intents(root, validation, codes, topics)
    synonyms = _read_synonyms(root, validation)
    services = _in_offices_order(
        _read_services(
            root, validation, codes, [language.code for language in languages if language.enabled]
        ),
        offices,
    )
    phrasings = _read_phrasings(root, validation, codes, topics, unloaded, cache, context)
    deadlines = _read_deadlines(root, validation, codes, today, {*topics, *unloaded})
    _check_references(root_id, topics, menus, nodes, unloaded)
    _check_checklist_actions(topics, services, nodes)
    _check_dates_actions(topics, deadlines, nodes)
    validation.errors = _explained(root, validation.errors)
    if validation.errors or root_id is None or default is None or desk is None:
        return validation
    validation.catalog = Catalog(
        languages=tuple(languages),
        default_language=default,
        root=root_id,
        menus=MappingProxyType(menus),
        topics=MappingProxyType(topics),
        offices=tuple(offices),
        intents=MappingProxyType(intents),
        desk=desk,
        version=_fingerprint(root, content_files(root)),
        synonyms=synonyms,
        services=MappingProxyType(services),
        phrasings=phrasings,
        deadlines=MappingProxyType(deadlines),
    )
    return validation


def load_catalog(root: Path, today: date | None = None, cache: Path | None = None) -> Catalog:
    """Load and validate ``root``; raise :class:`ContentError` listing every error."""
    validation = validate(root, today, cache)
    if validation.catalog is None:
        raise ContentError(validation.errors)
    return validation.catalog
