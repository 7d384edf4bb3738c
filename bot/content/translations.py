"""This module contains the translators' round trip: what to translate, and writing it back.

``entries`` lists, for one language, the topic fields a translator should work on (missing ones
and stale ones, or all), with the Italian and the English beside them. ``bot.content.exchange``
turns them into a PO or XLSX file and reads the file back as ``Incoming`` texts; ``plan_import``
checks those against today's Italian (a file made from an older Italian is refused whole, naming
the fields) and ``apply`` writes them into the topic files with ``YamlEditor``, so that comments
and layout stay, together with the fingerprints of the Italian they were made from. ``stamp``
and ``review`` write only the fingerprints, and who reviewed a translation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bot.content.catalog import Catalog
from bot.content.fingerprints import FIELDS, ROLES, Record, fingerprint
from bot.content.loader import MAX_TITLE_LENGTH
from bot.content.schema import Topic
from bot.content.yamledit import EditError, YamlEditor, inline_scalar
from bot.content.yamlfile import YamlDict, YamlSyntaxError, read_yaml

MISSING, STALE, CURRENT = "missing", "stale", "current"
#: Written above a ``translations:`` block the first time a tool adds one to a file.
BLOCK_NOTE = (
    "# Written by `sportello content stamp/import/review` (see content/README.md, Translating):\n"
    "# the Italian each translation was made from. Do not edit by hand.\n"
)


class TranslationError(Exception):
    """The request cannot be carried out; the message says why in plain words."""


@dataclass(frozen=True)
class Entry:
    """One field of one topic, for a translator into one language."""

    topic: str
    field: str
    italian: str
    english: str | None
    translation: str | None  # today's text in the target language, if any
    state: str  # MISSING, STALE or CURRENT

    @property
    def key(self) -> str:
        """How PO (msgctxt) and XLSX files name the field: ``topic_id/field``."""
        return f"{self.topic}/{self.field}"


@dataclass(frozen=True)
class Incoming:
    """A translation read from a file, with the fingerprint of the Italian it was made from."""

    key: str
    made_from: str
    text: str
    fuzzy: bool = False  # PO: still marked as needing work


def _texts(topic: Topic, name: str) -> Mapping[str, str]:
    return topic.title.values if name == "title" else topic.answer.values


def entries(catalog: Catalog, language: str, everything: bool = False) -> list[Entry]:
    """The fields of every topic to translate into ``language``: missing and stale ones, or
    with ``everything`` all of them, in topic-id order."""
    check_language(catalog, language)
    found = []
    for topic in sorted(catalog.topics.values(), key=lambda topic: topic.id):
        for name in FIELDS:
            texts = _texts(topic, name)
            translation = texts.get(language)
            if translation is None:
                state = MISSING
            elif name in topic.stale.get(language, ()):
                state = STALE
            else:
                state = CURRENT
            if state != CURRENT or everything:
                found.append(
                    Entry(topic.id, name, texts["it"], texts.get("en"), translation, state)
                )
    return found


def check_language(catalog: Catalog, language: str) -> None:
    codes = [known.code for known in catalog.languages if known.code != "it"]
    if language == "it":
        raise TranslationError("Italian is the original: choose the language to translate into")
    if language not in codes:
        raise TranslationError(f"unknown language {language!r}; one of: {', '.join(codes)}")


def stale_counts(catalog: Catalog) -> dict[str, int]:
    """Per enabled language but Italian, how many fields were translated from an older Italian."""
    counts = {language.code: 0 for language in catalog.enabled_languages if language.code != "it"}
    for topic in catalog.topics.values():
        for code, fields in topic.stale.items():
            if code in counts:
                counts[code] += len(fields)
    return counts


def stale_list(catalog: Catalog) -> list[tuple[str, str, tuple[str, ...]]]:
    """(topic file, field, languages) for every field with stale translations, by file."""
    rows = []
    for topic in sorted(catalog.topics.values(), key=lambda topic: topic.file):
        for name in FIELDS:
            codes = tuple(code for code, fields in topic.stale.items() if name in fields)
            if codes:
                rows.append((topic.file, name, codes))
    return rows


@dataclass
class _Change:
    """What to write into one topic file."""

    topic: Topic
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (language, field)
    records: dict[str, Record] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportPlan:
    """What an import would write, and what it counted on the way."""

    language: str
    changes: dict[str, _Change] = field(default_factory=dict)  # by topic id
    changed: list[str] = field(default_factory=list)  # keys whose text changes
    confirmed: list[str] = field(default_factory=list)  # same text, now from today's Italian
    fuzzy: list[str] = field(default_factory=list)  # still marked as needing work: skipped
    empty: int = 0


def plan_import(
    catalog: Catalog,
    language: str,
    incoming: Iterable[Incoming],
    reviewed_by: str | None = None,
) -> ImportPlan:
    """Check a translator's file against today's content; raise ``TranslationError`` naming
    every field it cannot take (made from an older Italian, unknown, too long) so that
    nothing at all is written."""
    check_language(catalog, language)
    if reviewed_by is not None and reviewed_by not in ROLES:
        raise TranslationError(f"--reviewed-by must be one of: {', '.join(ROLES)}")
    plan = ImportPlan(language)
    older: list[str] = []
    wrong: list[str] = []
    for item in incoming:
        text = _normal(item.text)
        if not text:
            plan.empty += 1
            continue
        if item.fuzzy:
            plan.fuzzy.append(item.key)
            continue
        topic_id, _, name = item.key.partition("/")
        topic = catalog.topics.get(topic_id)
        if topic is None or name not in FIELDS:
            wrong.append(f"{item.key}: no such topic field")
            continue
        italian = _texts(topic, name)["it"]
        if item.made_from != fingerprint(italian):
            older.append(item.key)
            continue
        if name == "title" and ("\n" in text or len(text) > MAX_TITLE_LENGTH):
            wrong.append(
                f"{item.key}: a title is one line of at most {MAX_TITLE_LENGTH} characters"
            )
            continue
        change = plan.changes.setdefault(topic_id, _Change(topic, records=dict(topic.translations)))
        record = change.records.get(language, Record())
        made_from = {**record.made_from, name: fingerprint(italian)}
        current = _texts(topic, name).get(language)
        if current is None or _normal(current) != text:
            change.texts[(language, name)] = text
            plan.changed.append(item.key)
        else:
            plan.confirmed.append(item.key)
        change.records[language] = Record(MappingProxyType(made_from), record.reviewed_by)
    if older:
        raise TranslationError(
            "this file was made from an older Italian text: the Italian of "
            + ", ".join(older)
            + " has changed since. Nothing was written. Export the language again and "
            "translate the new Italian."
        )
    if wrong:
        raise TranslationError("nothing was written:\n" + "\n".join(wrong))
    for change in plan.changes.values():
        record = change.records[language]
        edited = any(code == language for code, _ in change.texts)
        if reviewed_by is not None:
            change.records[language] = Record(record.made_from, reviewed_by)
            change.status[language] = "reviewed"
        elif edited:
            # A new text has not been read by anybody yet: an earlier review no longer holds.
            change.records[language] = Record(record.made_from, None)
            if change.topic.status.get(language) == "reviewed":
                change.status[language] = "draft"
    return plan


def _normal(text: str) -> str:
    """The text as the YAML will hold it: a long text's lines lose their trailing spaces
    (translation tools and word processors leave them; the file could not keep them)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def stamp(
    catalog: Catalog, topic_ids: Sequence[str] = (), language: str | None = None
) -> list[_Change]:
    """Record today's Italian for every translated field that has no fingerprint yet (once,
    after upgrading): a fingerprint already there is kept, even a stale one.

    With ``topic_ids``, an editor says they brought those topics' translations (into
    ``language``, or all) up to date by hand: their fingerprints become today's Italian's.
    """
    unknown = [topic_id for topic_id in topic_ids if topic_id not in catalog.topics]
    if unknown:
        raise TranslationError(f"unknown topic(s): {', '.join(unknown)}")
    if language is not None:
        check_language(catalog, language)
    changes = []
    for topic in sorted(catalog.topics.values(), key=lambda topic: topic.id):
        if topic_ids and topic.id not in topic_ids:
            continue
        records = dict(topic.translations)
        for code in _languages(catalog):
            made_from = dict(records[code].made_from) if code in records else {}
            for name in FIELDS:
                texts = _texts(topic, name)
                renew = bool(topic_ids) and language in (None, code)
                if code in texts and (renew or name not in made_from):
                    made_from[name] = fingerprint(texts["it"])
            if made_from:
                reviewed_by = records[code].reviewed_by if code in records else None
                records[code] = Record(MappingProxyType(made_from), reviewed_by)
        if records != dict(topic.translations):
            changes.append(_Change(topic, records=records))
    return changes


def review(catalog: Catalog, language: str, role: str, topic_ids: Sequence[str]) -> list[_Change]:
    """Mark the translations of ``topic_ids`` into ``language`` as reviewed by ``role``
    against today's Italian: the bot stops calling them not yet checked."""
    check_language(catalog, language)
    if role not in ROLES:
        raise TranslationError(f"the role must be one of: {', '.join(ROLES)}")
    unknown = [topic_id for topic_id in topic_ids if topic_id not in catalog.topics]
    if unknown:
        raise TranslationError(f"unknown topic(s): {', '.join(unknown)}")
    untranslated = [
        topic_id for topic_id in topic_ids if language not in catalog.topics[topic_id].answer
    ]
    if untranslated:
        raise TranslationError(
            f"no {language!r} answer to review in: {', '.join(untranslated)} (import one first)"
        )
    changes = []
    for topic_id in dict.fromkeys(topic_ids):
        topic = catalog.topics[topic_id]
        made_from = {
            name: fingerprint(_texts(topic, name)["it"])
            for name in FIELDS
            if language in _texts(topic, name)
        }
        records = {**topic.translations, language: Record(MappingProxyType(made_from), role)}
        changes.append(_Change(topic, records=records, status={language: "reviewed"}))
    return changes


def _languages(catalog: Catalog) -> list[str]:
    return [language.code for language in catalog.languages if language.code != "it"]


def render(root: Path, catalog: Catalog, changes: Iterable[_Change]) -> dict[Path, str]:
    """The new text of every topic file the changes touch (nothing written yet)."""
    order = [language.code for language in catalog.languages]
    result = {}
    for change in changes:
        path = root / change.topic.file
        original = path.read_text(encoding="utf-8")
        editor = YamlEditor(original)
        for (code, name), text in change.texts.items():
            mapping = editor.mapping(name)
            if mapping is None:
                raise EditError(f"{change.topic.file} has no {name!r}")
            editor.set(mapping, code, text, order, block=name == "answer")
        if change.status:
            status = editor.mapping("status")
            if status is None:
                pairs = ", ".join(f"{code}: {state}" for code, state in change.status.items())
                editor.replace_node("status", f"status: {{{pairs}}}\n", after="answer")
            else:
                for code, state in change.status.items():
                    editor.set(status, code, state, order)
        if change.records != dict(change.topic.translations):
            block = _records_block(change.records, order)
            note = "" if editor.value("translations") is not None else BLOCK_NOTE
            editor.replace_node("translations", note + block)
        text = editor.result()
        _verify(path, text, change)
        result[path] = text
    return result


def _records_block(records: Mapping[str, Record], order: Sequence[str]) -> str:
    lines = ["translations:\n"]
    rank = {code: i for i, code in enumerate(order)}
    for code in sorted(records, key=lambda code: rank.get(code, len(order))):
        record = records[code]
        pairs = [
            f"{name}: {inline_scalar(record.made_from[name], flow=True)}"
            for name in FIELDS
            if name in record.made_from
        ]
        if record.reviewed_by is not None:
            pairs.append(f"reviewed_by: {record.reviewed_by}")
        if pairs:
            lines.append(f"  {code}: {{{', '.join(pairs)}}}\n")
    return "".join(lines) if len(lines) > 1 else ""


def _verify(path: Path, text: str, change: _Change) -> None:
    """Read the edited text back: every value must be what was meant, or nothing is written."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / path.name
        probe.write_text(text, encoding="utf-8")
        try:
            data = read_yaml(probe)
        except YamlSyntaxError as error:
            raise EditError(
                f"{path.name}: the edit would break the file ({error.message})"
            ) from None
    if not isinstance(data, YamlDict):
        raise EditError(f"{path.name}: the edit would break the file")
    for (code, name), meant in change.texts.items():
        written = data.get(name, {}).get(code)
        if not isinstance(written, str) or written.strip() != meant:
            raise EditError(f"{path.name}: {name} in {code} would not read back as written")


def write(files: Mapping[Path, str]) -> None:
    """Replace each file whole (a new file renamed over the old one): never half written."""
    for path, text in files.items():
        temporary = path.with_name(f".{path.name}.new")
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
