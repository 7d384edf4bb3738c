"""This module contains the report's charts: matplotlib figures drawn as inline SVG.

No pyplot (no global state, no GUI backend): each chart is a ``Figure`` saved as SVG. Text
is drawn as paths (``svg.fonttype: path``), so the page needs no font and fetches nothing;
matplotlib's own DejaVu Sans ships inside the package. Ids inside each SVG get a prefix, so
several charts can live in one HTML page without their clip paths or glyphs colliding.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import matplotlib
from babel.numbers import format_percent
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.i18n import format_date
from bot.monitoring.stats import Summary
from bot.monitoring.tables import number

STYLE: Any = {  # Any: matplotlib types its keys as a long Literal
    "svg.fonttype": "path",
    "svg.hashsalt": "sportello",  # stable ids: the same figures give the same page
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
)
MOST_AREAS = 7  # more areas than this in the monthly chart are summed as "altre"
WIDTH = 7.0  # inches: the width of an A4 page's text


def _svg(draw: Callable[[Figure], None], prefix: str, label: str, height: float) -> str:
    """A figure drawn by ``draw`` as an inline ``<svg>`` element with prefixed ids."""
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        draw(figure)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML declaration or doctype inside HTML
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    # Scale with the page instead of a fixed size in points.
    svg = re.sub(
        r'^<svg([^>]*?) width="[^"]*" height="[^"]*"',
        rf'<svg\1 class="chart" role="img" aria-label="{label}"',
        svg,
        count=1,
    )
    return svg


def _horizontal_bars(
    figure: Figure, labels: list[str], values: list[float], percent: bool = False
) -> None:
    axes = figure.add_subplot()
    positions = range(len(labels))
    axes.barh(positions, values, color=COLOURS[0])
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()  # largest first, from the top
    for position, value in zip(positions, values, strict=True):
        text = format_percent(value, "#,##0%", locale="it") if percent else number(int(value))
        axes.annotate(
            text, (value, position), xytext=(3, 0), textcoords="offset points", va="center"
        )
    if percent:
        axes.set_xlim(0, 1.1)
        axes.xaxis.set_major_formatter(
            FuncFormatter(lambda x, _: format_percent(x, "#,##0%", locale="it"))
        )
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # people, not fractions
    axes.margins(x=0.12)


def month_label(month: str) -> str:
    """ "2026-01" -> "gen 2026": short enough for twelve months side by side, and not read
    as a day (as "gen 26" was)."""
    return format_date(date.fromisoformat(f"{month}-01"), "it", "LLL yyyy")


def months_by_area(summary: Summary, area_name: Callable[[str], str]) -> str | None:
    """Consultations per month, stacked by area (``area_name``: an area's name)."""
    if not summary.by_month:
        return None
    areas = list(summary.by_area)[:MOST_AREAS]
    months = list(summary.by_month)

    def draw(figure: Figure) -> None:
        axes = figure.add_subplot()
        bottom = [0] * len(months)
        series: list[tuple[str, list[int]]] = [
            (area_name(area), [summary.by_month_area[m].get(area, 0) for m in months])
            for area in areas
        ]
        others = [
            summary.by_month[m] - sum(summary.by_month_area[m].get(a, 0) for a in areas)
            for m in months
        ]
        if any(others):
            series.append(("altre", others))
        positions = list(range(len(months)))  # not the strings: matplotlib reads them as dates
        for index, (name, counts) in enumerate(series):
            axes.bar(positions, counts, bottom=bottom, label=name, color=COLOURS[index % 8])
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        labels = [month_label(month) for month in months]
        axes.set_xticks(positions, labels, rotation=45 if len(months) > 12 else 0)
        axes.set_ylabel("consultazioni")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        # Below the chart, so the months get the page's whole width.
        figure.legend(loc="outside lower center", ncols=3, frameon=False)

    return _svg(draw, "months", "Consultazioni per mese e area", 4.0)


def languages(summary: Summary, name: Callable[[str], str]) -> str | None:
    """Consultations per language."""
    if not summary.by_language:
        return None
    labels = [name(code) for code in summary.by_language]
    values = [float(count) for count in summary.by_language.values()]
    height = 0.9 + 0.28 * len(labels)
    return _svg(
        lambda figure: _horizontal_bars(figure, labels, values),
        "languages",
        "Consultazioni per lingua",
        height,
    )


def no_show_rates(summary: Summary, name: Callable[[str], str]) -> str | None:
    """No-show rate per service, over the appointments whose outcome was marked."""
    attended: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for row in summary.bookings:
        attended[row.service] += row.attended
        missed[row.service] += row.no_show
    services = [s for s in sorted(attended | missed) if attended[s] + missed[s]]
    if not services:
        return None
    labels = [f"{name(s)} (su {attended[s] + missed[s]})" for s in services]
    values = [missed[s] / (attended[s] + missed[s]) for s in services]
    return _svg(
        lambda figure: _horizontal_bars(figure, labels, values, percent=True),
        "noshow",
        "Tasso di assenza per servizio",
        0.9 + 0.32 * len(labels),
    )


def unanswered_topics(summary: Summary, name: Callable[[str], str]) -> str | None:
    """Questions not answered directly, per nearest topic (all languages together)."""
    totals: Counter[str] = Counter()
    for row in summary.unanswered:
        totals[row.topic] += row.total
    if not totals:
        return None
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:15]
    labels = [name(topic) for topic, _ in ranked]  # NONE's name is the tables' one
    values = [float(count) for _, count in ranked]
    return _svg(
        lambda figure: _horizontal_bars(figure, labels, values),
        "unanswered",
        "Domande senza risposta diretta per argomento più vicino",
        0.9 + 0.28 * len(labels),
    )
