"""The HTML report in a real browser (Debian's chromium, headless, driven by playwright).

It must render its four charts and its tables, print to PDF, and ask for nothing but the file
itself. A screenshot and the PDF are left in ``tests/artifacts/`` for people to look at.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content.loader import validate
from bot.monitoring.report import render
from bot.monitoring.stats import summarise
from bot.monitoring.tables import Names
from tests.auxil.browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, needs_chromium
from tests.auxil.events import pseudonymous_events
from tests.conftest import REPO_CONTENT

pytestmark = needs_chromium


@pytest.fixture
def report(tmp_path: Path) -> Path:
    summary = summarise(
        pseudonymous_events(), ZoneInfo("Europe/Rome"), date(2026, 1, 1), date(2026, 3, 31)
    )
    path = tmp_path / "report.html"
    # The repository's content names topics, services and offices, as `sportello report` does.
    names = Names.of_catalog(validate(REPO_CONTENT).catalog)
    path.write_text(render(summary, names), encoding="utf-8")
    return path


def test_the_report_renders_offline_with_its_charts(report: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    page_url = report.as_uri()
    requested: list[str] = []

    def only_the_file(route: Route) -> None:
        # Anything else is recorded and refused: the browser must not reach the network even
        # if the page tried (the test's socket guard does not cover a browser process).
        if route.request.url == page_url:
            route.continue_()
        else:
            route.abort()

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.on("request", lambda request: requested.append(request.url))
            page.route("**/*", only_the_file)
            page.goto(page_url, wait_until="load")
            assert page.title() == (
                "Sportello Immigrati di Luino e Cittiglio — attività dal 1 gennaio 2026 al 31 "
                "marzo 2026"
            )
            charts = page.locator("svg.chart")
            assert charts.count() == 4
            for index in range(4):
                box = charts.nth(index).bounding_box()
                assert box is not None and box["width"] > 400 and box["height"] > 100
            assert page.locator("figure p.note").count() == 0  # every chart had data
            assert page.locator("table").count() == 9  # the deadline reminders' too
            assert page.locator("script, link, img, iframe, object").count() == 0
            first_cells = page.locator("table").first.locator("td").all_inner_texts()
            assert first_cells[:4] == ["consultazioni", "10", "utenti unici", "7"]
            bookings = page.locator("table").nth(6).locator("td").all_inner_texts()
            assert bookings[:2] == [
                "Prenotazione test di italiano A2",
                "Sportello Immigrati - Distretto di Cittiglio",
            ]
            assert bookings[7:9] == ["100,0%", "0,0%"]
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True)
            (ARTIFACTS / "report.pdf").write_bytes(pdf)
        finally:
            browser.close()
    assert requested == [page_url]
    assert pdf.startswith(b"%PDF")
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_the_request_log_would_catch_a_fetch(tmp_path: Path) -> None:
    """The check above is not vacuous: a page that fetches something is caught."""
    from playwright.sync_api import Route, sync_playwright

    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.invalid/logo.png"></body></html>',
        encoding="utf-8",
    )
    requested: list[str] = []

    def refuse(route: Route) -> None:
        if route.request.url == page.as_uri():
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            tab = browser.new_page()
            tab.on("request", lambda request: requested.append(request.url))
            tab.route("**/*", refuse)
            tab.goto(page.as_uri(), wait_until="load")
        finally:
            browser.close()
    assert "https://example.invalid/logo.png" in requested
