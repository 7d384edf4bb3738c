"""The report's charts and page, as text: self-contained SVG, no fonts, no links."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.monitoring import charts
from bot.monitoring.report import render
from bot.monitoring.stats import Summary, summarise
from bot.monitoring.tables import Names
from tests.auxil.events import pseudonymous_events

ROME = ZoneInfo("Europe/Rome")
NAMES = Names(
    topics={"permit_lost": "Permesso perso o rubato", "permit_renewal": "Rinnovo del permesso"},
    services={"permit_renewal": "Rinnovo del permesso", "a2_test": "Test di italiano A2"},
    offices={"luino": "Sportello di Luino", "cittiglio": "Sportello di Cittiglio"},
    areas={
        "permits": "Permesso di soggiorno",
        "citizenship": "Cittadinanza",
        "family_reunification": "Ricongiungimento familiare",
    },
    counter="Sportello Immigrati",
)


def quarter() -> Summary:
    return summarise(pseudonymous_events(), ROME, date(2026, 1, 1), date(2026, 3, 31))


def test_charts_draw_text_as_paths_with_their_own_ids() -> None:
    svg = charts.months_by_area(quarter(), str)
    assert svg is not None
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert "<text" not in svg  # glyphs are paths: no font needed to show them
    assert "@font-face" not in svg and "<metadata" not in svg
    ids = re.findall(r'id="([^"]+)"', svg)
    assert ids and all(i.startswith("months-") for i in ids)
    references = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert references and all(r.startswith("months-") for r in references)
    assert set(re.findall(r"https?://[^\"' ]+", svg)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


def test_the_same_figures_draw_the_same_page_but_for_its_date() -> None:
    first, second = render(quarter()), render(quarter())
    strip = re.compile(r"Generato il [^.]+\.")
    assert strip.sub("", first) == strip.sub("", second)


def test_an_empty_period_says_so_instead_of_drawing() -> None:
    page = render(summarise([], ROME, date(2026, 1, 1), date(2026, 1, 31)))
    assert page.count("Nessun dato nel periodo.") == 4
    assert "<svg" not in page


def test_the_page_speaks_italian_with_names_not_ids() -> None:
    page = render(quarter(), NAMES, datetime(2026, 4, 2, 9, 30, tzinfo=ROME))
    title = "Sportello Immigrati — attività dal 1 gennaio 2026 al 31 marzo 2026"
    assert f"<title>{title}</title>" in page and f"<h1>{title}</h1>" in page
    assert "Generato il 2 aprile 2026 alle 09:30." in page
    bookings = page[page.index('id="bookings"') : page.index('id="unanswered"')]
    assert "<td>Rinnovo del permesso</td><td>Sportello di Luino</td>" in bookings
    assert "<td>Test di italiano A2</td><td>Sportello di Cittiglio</td>" in bookings
    assert '<td class="n">100,0%</td><td class="n">0,0%</td>' in bookings
    assert '<td class="n">50,0%</td>' in bookings
    assert "luino" not in bookings and "permit_renewal" not in bookings
    unanswered = page[page.index('id="unanswered"') :]
    assert "<td>(nessun argomento vicino)</td><td>(nessuna)</td><td>francese</td>" in unanswered
    assert "<td>-</td>" not in unanswered
    assert '<td class="n">10,0</td>' in page  # the median response time, in minutes
    months = page[page.index('id="by_month"') : page.index('id="bookings"')]
    assert "<td>gennaio 2026</td><td>Permesso di soggiorno</td>" in months


def test_one_office_page_says_what_it_holds() -> None:
    summary = summarise(pseudonymous_events(), ROME, date(2026, 1, 1), date(2026, 3, 31), "luino")
    page = render(summary, NAMES)
    assert "<h1>Sportello Immigrati — attività dal 1 gennaio 2026 al 31 marzo 2026, sede " in page
    assert '<p class="note office">Solo gli appuntamenti di questa sede' in page


def test_charts_label_with_the_tables_names(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[list[str]] = []
    original = charts._horizontal_bars

    def record(figure: Any, labels: list[str], values: list[float], percent: bool = False) -> None:
        drawn.append(labels)
        original(figure, labels, values, percent)

    monkeypatch.setattr(charts, "_horizontal_bars", record)
    render(quarter(), NAMES)
    languages, no_show, unanswered = drawn
    assert languages[:2] == ["arabo", "francese"]
    assert no_show == ["Test di italiano A2 (su 1)", "Rinnovo del permesso (su 2)"]
    assert unanswered == ["(nessun argomento vicino)", "Permesso perso o rubato"]  # 2 each


def test_months_read_as_months() -> None:
    assert charts.month_label("2026-11") == "nov 2026"
    assert charts.month_label("2026-01") == "gen 2026"
