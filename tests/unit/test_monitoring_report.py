"""The report's charts and page, as text: self-contained SVG, no fonts, no links."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from bot.monitoring import charts
from bot.monitoring.report import render
from bot.monitoring.stats import Summary, summarise
from tests.auxil.events import pseudonymous_events

ROME = ZoneInfo("Europe/Rome")


def quarter() -> Summary:
    return summarise(pseudonymous_events(), ROME, date(2026, 1, 1), date(2026, 3, 31))


def test_charts_draw_text_as_paths_with_their_own_ids() -> None:
    svg = charts.months_by_area(quarter())
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
    strip = re.compile(r"Generato il [0-9: -]+")
    assert strip.sub("", first) == strip.sub("", second)


def test_an_empty_period_says_so_instead_of_drawing() -> None:
    page = render(summarise([], ROME, date(2026, 1, 1), date(2026, 1, 31)))
    assert page.count("Nessun dato nel periodo.") == 4
    assert "<svg" not in page
