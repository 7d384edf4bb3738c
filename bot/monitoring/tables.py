"""This module contains the statistics as tables, and their text, CSV and JSON forms.

Every output (terminal, CSV, JSON, the HTML report) prints the same tables, built here once.
Titles are in Italian: the readers are the counter and the Ufficio di Piano. Keys stay the
content's ids (areas, topics, services, offices) so that figures can be joined across periods.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from bot.monitoring.stats import NONE, Summary

Value = str | int | float | None

AREA_NAMES = {
    "permits": "Permesso di soggiorno",
    "family_reunification": "Ricongiungimento familiare",
    "a2_test": "Test di italiano A2",
    "long_term_permit": "Permesso UE lungo periodo",
    "citizenship": "Cittadinanza",
    "work": "Lavoro",
    "school": "Scuola",
    "housing": "Casa",
    "health": "Salute",
    "social_services": "Servizi sociali",
    "mediation": "Mediazione culturale",
    "counter": "Informazioni sullo sportello",
    NONE: "(nessuna)",
}
CHANNEL_NAMES = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "desk": "allo sportello",
    "phone": "al telefono",
}


def area_name(area: str) -> str:
    return AREA_NAMES.get(area, area)


@dataclass(frozen=True)
class Table:
    key: str  # a stable id: the CSV's and JSON's name for it
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    keys: int = 1  # the leading columns that name a row; the others are measures
    percent: tuple[int, ...] = ()  # columns holding rates (0..1), printed as percentages


def _counts(key: str, title: str, column: str, counts: dict[str, int]) -> Table:
    return Table(key, title, (column, "consultazioni"), tuple(counts.items()))


def tables(summary: Summary) -> list[Table]:
    """The report's tables, in reading order."""
    totals = Table(
        "totals",
        "Totali",
        ("misura", "valore"),
        (
            ("consultazioni", summary.consultations),
            ("utenti unici", summary.unique_users),
            ("domande con risposta", summary.questions.get("answered", 0)),
            ("domande incerte (argomenti proposti)", summary.questions.get("unsure", 0)),
            ("domande senza risposta", summary.questions.get("unanswered", 0)),
            ("richieste di parlare con una persona", summary.handovers_requested),
            ("richieste con risposta", summary.handovers_answered),
            ("tempo mediano di risposta (minuti)", _minutes(summary.median_response_seconds)),
        ),
    )
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
    )
    return [
        totals,
        _counts("by_area", "Consultazioni per area", "area", summary.by_area),
        _counts("by_topic", "Argomenti consultati", "argomento", summary.by_topic),
        _counts("by_language", "Consultazioni per lingua", "lingua", summary.by_language),
        _counts("by_channel", "Consultazioni per canale", "canale", summary.by_channel),
        months,
        bookings,
        unanswered,
    ]


def _rate(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def cell(value: Value, percent: bool = False) -> str:
    """A value as people read it: rates as percentages, nothing as a dash."""
    if value is None:
        return "-"
    if percent and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def cells(table: Table, row: tuple[Value, ...]) -> tuple[str, ...]:
    return tuple(cell(value, i in table.percent) for i, value in enumerate(row))


def heading(summary: Summary) -> str:
    where = f", sede {summary.office}" if summary.office else ""
    return f"Sportello Immigrati — attività dal {summary.first} al {summary.last}{where}"


def as_text(summary: Summary) -> str:
    """Aligned plain-text tables for the terminal."""
    lines = [heading(summary)]
    for table in tables(summary):
        lines += ["", table.title]
        rows = [tuple(table.columns), *(cells(table, row) for row in table.rows)]
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


def as_csv(summary: Summary) -> str:
    """One long table (table, key, measure, value): every spreadsheet can pivot it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "key", "measure", "value"])
    for table in tables(summary):
        for row in table.rows:
            key = " / ".join(str(v) for v in row[: table.keys])
            measures = zip(table.columns[table.keys :], row[table.keys :], strict=True)
            for column, value in measures:
                writer.writerow([table.key, key, column, "" if value is None else value])
    return buffer.getvalue()


def as_json(summary: Summary) -> str:
    """Every table with its columns and rows, and the period."""
    document = {
        "from": summary.first.isoformat(),
        "to": summary.last.isoformat(),
        "office": summary.office,
        "tables": {
            table.key: {
                "title": table.title,
                "columns": list(table.columns),
                "rows": [list(row) for row in table.rows],
            }
            for table in tables(summary)
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
