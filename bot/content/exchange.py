"""This module contains the files translators work in: gettext PO and spreadsheets (XLSX).

PO (for Poedit, Weblate, Lokalize): one message per field, ``msgctxt`` = ``topic_id/field``,
``msgid`` = the Italian, a comment for translators with the English, ``msgstr`` = the
translation; a stale one keeps its old translation and the ``fuzzy`` flag, which translation
tools show as "needs work" and clear when the translator accepts it. XLSX (for a spreadsheet):
one row per field, with the Italian, the English, a column to fill in, the previous translation
of a stale field, and the fingerprint of the Italian the row was made from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.pofile import read_po, write_po
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font

from bot.content.fingerprints import fingerprint
from bot.content.translations import STALE, Entry, Incoming, TranslationError

FORMATS = ("po", "xlsx")
_HEADERS = ("field", "it", "en", None, "previous translation", "state", "it fingerprint")
_WIDTHS = (30, 60, 60, 60, 45, 10, 14)


def format_of(path: Path) -> str:
    """ "po" or "xlsx", from the file's name."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise TranslationError(f"{path.name}: a translation file ends in .po or .xlsx")
    return suffix


def write_po_file(entries: Sequence[Entry], language: str, version: str, path: Path) -> None:
    now = datetime.now().astimezone()
    po = PoCatalog(
        locale=language,
        project="Sportello content",
        version=version,
        charset="utf-8",
        copyright_holder="Sportello Immigrati",
        msgid_bugs_address="the counter",
        last_translator="Sportello",
        language_team=language,
        fuzzy=False,
        creation_date=now,
        revision_date=now,
    )
    po.header_comment = (
        f"# Sportello: topic titles and answers to translate into {language}.\n"
        "# Translate each entry; an entry marked fuzzy (needs work) holds the translation of an\n"
        "# older Italian text: correct it, then clear the mark. Then: sportello content import."
    )
    for entry in entries:
        notes = [f"State: {entry.state}."]
        if entry.state == STALE:
            notes.append("The Italian changed: update the translation, then clear 'fuzzy'.")
        if entry.english is not None:
            notes.append("English:")
            notes.extend(entry.english.split("\n"))
        message = po.add(
            entry.italian,
            string=entry.translation or "",
            context=entry.key,
            auto_comments=notes,
            flags=("fuzzy",) if entry.state == STALE else (),
        )
        # A "%" in the Italian makes Babel guess a Python format string; it is plain text.
        message.flags.discard("python-format")
    with path.open("wb") as handle:
        write_po(handle, po, width=0, omit_header=False)


def read_po_file(path: Path) -> tuple[str, list[Incoming]]:
    try:
        with path.open("rb") as handle:
            po = read_po(handle, abort_invalid=True)
    except Exception as error:  # Babel raises its own and plain ones for a broken file
        raise TranslationError(f"{path.name} is not a readable PO file: {error}") from None
    if po.locale is None:
        raise TranslationError(f"{path.name} does not say its language (Language: header)")
    items = []
    for message in po:
        if not message.id or not isinstance(message.id, str):
            continue
        if not isinstance(message.context, str) or not isinstance(message.string, str):
            raise TranslationError(f"{path.name}: {message.id[:40]!r} is not one of our fields")
        items.append(
            Incoming(message.context, fingerprint(message.id), message.string, message.fuzzy)
        )
    # A tool may write a regional variant ("ar_EG"): the content's languages are plain codes.
    return po.locale.language, items


def write_xlsx_file(entries: Sequence[Entry], language: str, rtl: bool, path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = language
    headers = [language if header is None else header for header in _HEADERS]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in entries:
        previous = entry.translation if entry.state == STALE else None
        current = None if entry.state == STALE else entry.translation
        row = (
            entry.key,
            entry.italian,
            entry.english,
            current,
            previous,
            entry.state,
            fingerprint(entry.italian),
        )
        sheet.append(row)
    wrap = Alignment(wrap_text=True, vertical="top")
    right_to_left = Alignment(wrap_text=True, vertical="top", readingOrder=2)
    for cells in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(cells):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a text that starts with "=" stays text, never a formula
            cell.alignment = right_to_left if rtl and index in (3, 4) else wrap
    for index, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "B2"
    book.save(path)


def read_xlsx_file(path: Path) -> tuple[str, list[Incoming]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl's own errors for a broken file
        raise TranslationError(f"{path.name} is not a readable XLSX file: {error}") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(value) if value is not None else "" for value in next(rows, ())]
        if len(header) < len(_HEADERS) or header[0] != "field" or header[6] != _HEADERS[6]:
            raise TranslationError(
                f"{path.name}: the first row must be the one `sportello content export` wrote"
            )
        language = header[3]
        items = []
        for row in rows:
            if not row or row[0] is None:
                continue
            text = "" if row[3] is None else str(row[3])
            items.append(Incoming(str(row[0]), str(row[6] or ""), text))
    finally:
        book.close()
    return language, items


def read_file(path: Path) -> tuple[str, list[Incoming]]:
    """The language and the translations of an exported file, after a translator's work."""
    if format_of(path) == "po":
        return read_po_file(path)
    return read_xlsx_file(path)
