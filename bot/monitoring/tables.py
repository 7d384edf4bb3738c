"""This module contains the statistics as tables, and their text, CSV and JSON forms.

Every output (terminal, CSV, JSON, the HTML report) prints the same tables, built here once.
Titles are in Italian: the readers are the counter and the Ufficio di Piano. Rows hold the
content's ids (areas, topics, services, offices, language codes); the terminal, CSV and HTML
forms show them as Italian names (``Names``), and JSON keeps the ids, with the names alongside,
so that figures can be joined across periods. Numbers are written the Italian way ("10,5",
"50,0%").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from babel import Locale
from babel.numbers import format_decimal, format_percent

from bot.content.catalog import Catalog
from bot.content.identity import staff_name
from bot.i18n import format_date
from bot.monitoring.stats import NONE, Summary

Value = str | int | float | None

NO_AREA = "(nessuna)"
#: The counter's name when the content is not at hand (a report of a database alone).
COUNTER = "Sportello"
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "webchat": "chat del sito web",
    "desk": "allo sportello",
    "phone": "al telefono",
}
NO_TOPIC = "(nessun argomento vicino)"
NO_LANGUAGE = "(non indicata)"
ITALIAN = Locale.parse("it")
#: What makes a spreadsheet read a cell as a formula (OWASP's "CSV injection" list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def language_name(code: str) -> str | None:
    """The Italian name of a language code Babel knows ("ar" -> "arabo"), else None."""
    name = ITALIAN.languages.get(code)
    return str(name) if name else None


def month_name(month: str) -> str:
    """ "2026-01" -> "gennaio 2026"."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return month
    return format_date(first, "it", "LLLL yyyy")


def long_date(day: date) -> str:
    """1 novembre 2026."""
    return format_date(day, "it", "d MMMM yyyy")


#: With ``--office``: the totals' row of the consultations that belong to no office.
SHARED_ROW = "consultazioni senza sede (online e non attribuite), escluse"


@dataclass(frozen=True)
class Names:
    """Italian names of the ids in the tables: the counter, areas, topics, services, offices and
    kinds of deadline from the content (ids stay as they are when the content does not know
    them, such as an area an older content had), channels and languages from this module and
    Babel."""

    topics: Mapping[str, str] = field(default_factory=dict)
    services: Mapping[str, str] = field(default_factory=dict)
    offices: Mapping[str, str] = field(default_factory=dict)
    areas: Mapping[str, str] = field(default_factory=dict)
    counter: str = COUNTER
    deadlines: Mapping[str, str] = field(default_factory=dict)  # kinds of deadline

    @classmethod
    def of_catalog(cls, catalog: Catalog | None) -> Names:
        """The Italian names of the content's counter, areas, topics, services and offices;
        none (ids stay ids) without a valid content."""
        if catalog is None:
            return cls()
        return cls(
            counter=staff_name(catalog),
            areas={area.id: area.name for area in catalog.desk.areas},
            topics={key: catalog.title(key, "it") for key in catalog.topics},
            services={
                key: catalog.localize(service.name, "it").text
                for key, service in catalog.services.items()
            },
            offices={
                office.id: catalog.localize(office.name, "it").text for office in catalog.offices
            },
            deadlines={
                key: catalog.localize(rule.title, "it").text
                for key, rule in catalog.deadlines.items()
            },
        )

    def of(self, kind: str, key: str) -> str:
        """The name of ``key``, an id of this ``kind`` (a ``Table.kinds`` entry)."""
        if kind == "area":
            return NO_AREA if key == NONE else self.areas.get(key, key)
        if kind == "topic":
            return NO_TOPIC if key == NONE else self.topics.get(key, key)
        if kind == "deadline":
            return self.deadlines.get(key) or self.topics.get(key, key)
        if kind == "language":
            return NO_LANGUAGE if key == NONE else language_name(key) or key
        if kind == "channel":
            return CHANNEL_NAMES.get(key, key)
        if kind == "service":
            return self.services.get(key, key)
        if kind == "office":
            return self.offices.get(key, key)
        if kind == "month":
            return month_name(key)
        return key


@dataclass(frozen=True)
class Table:
    key: str  # a stable id: the CSV's and JSON's name for it
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    keys: int = 1  # the leading columns that name a row; the others are measures
    percent: tuple[int, ...] = ()  # columns holding rates (0..1), printed as percentages
    kinds: tuple[str, ...] = ("text",)  # what the key columns hold: "area", "topic", ...

    def named(self, row: tuple[Value, ...], names: Names) -> tuple[Value, ...]:
        """The row with its key columns' ids replaced by their names."""
        return tuple(
            names.of(self.kinds[i], str(value)) if i < len(self.kinds) else value
            for i, value in enumerate(row)
        )


def _counts(key: str, title: str, column: str, kind: str, counts: dict[str, int]) -> Table:
    return Table(key, title, (column, "consultazioni"), tuple(counts.items()), kinds=(kind,))


def tables(summary: Summary) -> list[Table]:
    """The report's tables, in reading order."""
    totals_rows: list[tuple[Value, ...]] = [
        ("consultazioni", summary.consultations),
        ("utenti unici", summary.unique_users),
        ("domande con risposta", summary.questions.get("answered", 0)),
        ("domande incerte (argomenti proposti)", summary.questions.get("unsure", 0)),
        ("domande senza risposta", summary.questions.get("unanswered", 0)),
        ("richieste di parlare con una persona", summary.handovers_requested),
        ("richieste con risposta", summary.handovers_answered),
        ("tempo mediano di risposta (minuti)", _minutes(summary.median_response_seconds)),
        ("promemoria di scadenze impostati", sum(row.set for row in summary.deadlines)),
        ("promemoria di scadenze inviati", sum(row.sent for row in summary.deadlines)),
    ]
    if summary.office is not None:
        totals_rows.insert(1, (SHARED_ROW, summary.shared))
    totals = Table("totals", "Totali", ("misura", "valore"), tuple(totals_rows))
    months = Table(
        "by_month",
        "Consultazioni per mese e area",
        ("mese", "area", "consultazioni"),
        tuple(
            (month, area, count)
            for month, areas in summary.by_month_area.items()
            for area, count in areas.items()
        ),
        keys=2,
        kinds=("month", "area"),
    )
    bookings = Table(
        "bookings",
        "Appuntamenti per servizio e sede",
        (
            "servizio",
            "sede",
            "prenotati",
            "spostati",
            "annullati",
            "presenti",
            "assenti",
            "tasso di presenza",
            "tasso di assenza",
        ),
        tuple(
            (
                row.service,
                row.office,
                row.made,
                row.moved,
                row.cancelled,
                row.attended,
                row.no_show,
                _rate(row.attendance_rate),
                _rate(row.no_show_rate),
            )
            for row in summary.bookings
        ),
        keys=2,
        percent=(7, 8),
        kinds=("service", "office"),
    )
    deadlines = Table(
        "deadlines",
        "Promemoria di scadenze per mese e tipo (senza date né persone)",
        ("mese", "scadenza", "impostati", "inviati"),
        tuple((row.month, row.kind, row.set, row.sent) for row in summary.deadlines),
        keys=2,
        kinds=("month", "deadline"),
    )
    unanswered = Table(
        "unanswered",
        "Domande senza risposta diretta, per argomento più vicino e lingua",
        ("argomento più vicino", "area", "lingua", "incerte", "senza risposta", "totale"),
        tuple(
            (row.topic, row.area, row.language, row.unsure, row.unanswered, row.total)
            for row in summary.unanswered
        ),
        keys=3,
        kinds=("topic", "area", "language"),
    )
    found = [
        totals,
        _counts("by_area", "Consultazioni per area", "area", "area", summary.by_area),
        _counts("by_topic", "Argomenti consultati", "argomento", "topic", summary.by_topic),
        _counts(
            "by_language", "Consultazioni per lingua", "lingua", "language", summary.by_language
        ),
        _counts("by_channel", "Consultazioni per canale", "canale", "channel", summary.by_channel),
        months,
        bookings,
        deadlines,
        unanswered,
    ]
    if not summary.stale_translations:  # no content to count in (it did not load)
        return found
    stale = Table(
        "stale_translations",
        "Traduzioni da aggiornare (l'italiano è cambiato dopo la traduzione), per lingua",
        ("lingua", "titoli e risposte"),
        tuple(summary.stale_translations.items()),
        kinds=("language",),
    )
    return [*found, stale]


def _rate(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def number(value: float, grouping: bool = True) -> str:
    """A count or a measure the Italian way: "1.234", "10,5" (no grouping: "1234")."""
    if isinstance(value, int):
        return format_decimal(value, "#,##0" if grouping else "0", locale="it")
    return format_decimal(value, "#,##0.0" if grouping else "0.0", locale="it")


def percent(value: float) -> str:
    """A rate (0..1) as an Italian percentage: "50,0%"."""
    return format_percent(value, "#,##0.0%", locale="it")


def cell(value: Value, percent_: bool = False, grouping: bool = True) -> str:
    """A value as people read it: rates as percentages, nothing as a dash."""
    if value is None:
        return "-"
    if percent_ and isinstance(value, int | float):
        return percent(value)
    if isinstance(value, int | float):
        return number(value, grouping)
    return str(value)


def cells(
    table: Table, row: tuple[Value, ...], names: Names | None = None, grouping: bool = True
) -> tuple[str, ...]:
    """A row as text, its ids as names (with ``names``)."""
    shown = table.named(row, names) if names is not None else row
    return tuple(cell(value, i in table.percent, grouping) for i, value in enumerate(shown))


def heading(summary: Summary, names: Names | None = None) -> str:
    names = names or Names()
    where = ""
    if summary.office:
        where = f", sede {names.of('office', summary.office)}"
    return (
        f"{names.counter} — attività dal {long_date(summary.first)} "
        f"al {long_date(summary.last)}{where}"
    )


def office_note(summary: Summary) -> str | None:
    """With an office, what its figures hold and what they leave out."""
    if summary.office is None:
        return None
    return (
        "Solo gli appuntamenti di questa sede e le consultazioni registrate in questa sede. "
        f"Le consultazioni che non appartengono a nessuna sede ({number(summary.shared)}: quelle "
        "online e quelle registrate senza sede) sono escluse: sono nei totali dell'intero "
        "sportello, così le cifre delle sedi e quelle senza sede si sommano senza contare nulla "
        "due volte."
    )


def as_text(summary: Summary, names: Names | None = None) -> str:
    """Aligned plain-text tables for the terminal."""
    names = names or Names()
    lines = [heading(summary, names)]
    if (note := office_note(summary)) is not None:
        lines.append(note)
    for table in tables(summary):
        lines += ["", table.title]
        rows = [tuple(table.columns), *(cells(table, row, names) for row in table.rows)]
        if not table.rows:
            lines.append("  (nessun dato)")
            continue
        widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns))]
        for row in rows:
            padded = [
                text.rjust(width) if i >= table.keys else text.ljust(width)
                for i, (text, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  " + "  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"


def spreadsheet_cell(text: str) -> str:
    """A text for a CSV cell that a spreadsheet shows and never runs: one that would start a
    formula (a name typed as ``=HYPERLINK(...)``, a phone ``+39...``) gets a leading ``'``
    (OWASP's advice); everything else, and the rest of the cell, stays as it was."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def as_csv(summary: Summary, names: Names | None = None) -> str:
    """The tables for an Italian spreadsheet: ``;`` between fields, a byte-order mark so that
    Excel reads UTF-8, decimal commas and percentages ("10,5", "50,0%"), no thousands
    separator, an empty field for no value. First the heading (and the office's note), then
    one section per table: an empty line, its title, a header row, its rows."""
    names = names or Names()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(heading(summary, names))])
    if (note := office_note(summary)) is not None:
        writer.writerow([spreadsheet_cell(note)])
    for table in tables(summary):
        writer.writerow([])
        writer.writerow([spreadsheet_cell(table.title)])
        writer.writerow(spreadsheet_cell(column) for column in table.columns)
        for row in table.rows:
            texts = cells(table, row, names, grouping=False)
            writer.writerow(
                "" if value is None else text if _is_number(value) else spreadsheet_cell(text)
                for value, text in zip(row, texts, strict=True)
            )
    return buffer.getvalue()


def _is_number(value: Value) -> bool:
    """Our own figures ("-2", "10,5") are numbers for the spreadsheet, never formulas."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_json(summary: Summary, names: Names | None = None) -> str:
    """Every table with its columns and rows (ids, numbers as numbers), the rows' names
    alongside (``names``: the key columns as the other forms show them), and the period."""
    names = names or Names()
    document = {
        "from": summary.first.isoformat(),
        "to": summary.last.isoformat(),
        "office": summary.office,
        "office_note": office_note(summary),
        "tables": {
            table.key: {
                "title": table.title,
                "columns": list(table.columns),
                "rows": [list(row) for row in table.rows],
                "names": [list(table.named(row, names)[: table.keys]) for row in table.rows],
            }
            for table in tables(summary)
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
