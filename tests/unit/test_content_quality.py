"""Quality checks of valid content: stale reviews, home-page sources, numbers, laws."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.content.loader import load_catalog
from bot.content.quality import (
    QualityRules,
    fee_or_deadline,
    is_home_page,
    norm_key,
    numbers_in,
    review,
    topics_citing,
)
from tests.conftest import FIXTURE_CONTENT, REPO_CONTENT, TODAY

RULES = QualityRules(today=TODAY, max_age_days=365)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the fixture content to plant errors in."""
    copy = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems(root: Path, rules: QualityRules = RULES) -> list[str]:
    return [str(issue) for issue in review(root, load_catalog(root, today=TODAY), rules)]


def test_the_fixture_has_only_its_stale_topic() -> None:
    assert problems(FIXTURE_CONTENT) == [
        "topics/counter_hours.yaml:3: reviewed on 2025-01-10, more than 365 days ago: check the "
        "answer against its sources again and update 'reviewed'"
    ]
    lenient = QualityRules(today=TODAY, max_age_days=3650)
    assert problems(FIXTURE_CONTENT, lenient) == []


def test_a_translation_with_other_numbers_is_reported(content: Path) -> None:
    edit(content / "topics/permit_renewal.yaml", "least 60 days", "least 90 days")
    assert problems(content)[1:] == [
        "topics/permit_renewal.yaml:12: 'answer' in 'en' lacks 60 and has 90, which the Italian "
        "has not"
    ]


def test_a_translation_that_drops_a_number_is_reported(content: Path) -> None:
    edit(content / "topics/permit_renewal.yaml", "قبل 60 يومًا", "قبل شهرين")
    assert "topics/permit_renewal.yaml:15: 'answer' in 'ar' lacks 60" in problems(content)


def test_a_home_page_source_and_a_missing_read_date_are_reported(content: Path) -> None:
    edit(
        content / "topics/permit_lost.yaml",
        "url: https://www.poliziadistato.it/articolo/10619\n    title: Polizia di Stato - "
        "Permesso di soggiorno\n    read: 2026-11-20",
        "url: https://www.poliziadistato.it/\n    title: Polizia di Stato",
    )
    assert problems(content)[1:] == [
        "topics/permit_lost.yaml:15: source https://www.poliziadistato.it/ has no 'read:' date "
        "(when an editor read it)",
        "topics/permit_lost.yaml:15: source https://www.poliziadistato.it/ is a home page: cite "
        "the page that holds the fact",
    ]


def test_a_deadline_needs_a_specific_source_that_was_read(content: Path) -> None:
    edit(
        content / "topics/permit_renewal.yaml",
        "https://www.poliziadistato.it/articolo/10619",
        "https://www.poliziadistato.it",
    )
    found = problems(content)
    assert (
        "topics/permit_renewal.yaml:28: the answer states a fee or deadline ('60 giorni') but no "
        "source is a specific page with the date it was read ('read:'): cite the page that holds it"
    ) in found


def test_a_read_date_in_the_future_is_reported(content: Path) -> None:
    edit(content / "services/permit_renewal.yaml", "read: 2026-11-20", "read: 2027-01-01")
    assert "services/permit_renewal.yaml:17: 'read' date 2027-01-01 is in the future" in problems(
        content
    )


@pytest.mark.parametrize(
    ("url", "home"),
    [
        ("https://www.poliziadistato.it", True),
        ("https://www.poliziadistato.it/", True),
        ("https://integrazionemigranti.gov.it/it-it/", True),
        ("https://www.example.it/index.html", True),
        ("https://www.prefettura.interno.gov.it/it/prefetture/varese", True),
        ("https://www.prefettura.interno.gov.it/it/prefetture/varese/test-lingua", False),
        ("https://www.poliziadistato.it/articolo/10619", False),
        ("https://www.example.it/?page=permesso", False),
    ],
)
def test_home_pages(url: str, home: bool) -> None:
    assert is_home_page(url) is home


def test_numbers_are_read_in_every_script_and_links_are_ignored() -> None:
    assert numbers_in("entro 8 giorni, 150 giorni") == {8, 150}
    assert numbers_in("خلال ٨ أيام و ۱۵۰ روز") == {8, 150}  # Arabic-Indic and Persian digits
    assert numbers_in("৮ দিনের মধ্যে") == {8}  # Bengali digits
    assert numbers_in("vedi https://example.it/pagina/2024") == set()
    # "8.263,31" and "8,263.31" state the same amount.
    assert numbers_in("8.263,31 euro") == numbers_in("EUR 8,263.31") == {8, 263, 31}


def test_chinese_dates_keep_day_and_year_but_not_the_month_number() -> None:
    assert numbers_in("11 dicembre 2024") == numbers_in("2024年12月11日") == {11, 2024}
    assert numbers_in("4 ottobre") == numbers_in("10月4号") == {4}
    assert numbers_in("12个月") == {12}  # twelve months is a quantity, not a date


def test_fees_and_deadlines_in_italian() -> None:
    assert fee_or_deadline("costa 16 euro") == "16 euro"
    assert fee_or_deadline("un bollettino di EUR 30,46") == "EUR 30,46"
    assert fee_or_deadline("entro 8 giorni lavorativi dall'ingresso") == "8 giorni lavorativi"
    assert fee_or_deadline("residenza da 10 anni") == "10 anni"
    assert fee_or_deadline("chiama lo 0332 536727") is None


def test_norms_compare_whatever_the_spelling() -> None:
    assert norm_key("D.Lgs. 286/1998 art. 29") == "dlgs286/1998art29"
    assert norm_key("Decreto legislativo 286/1998") == norm_key("D.Lgs. 286/1998")
    assert norm_key("legge 187/2024") == norm_key("L. 187/2024")


def test_topics_citing_a_law_include_its_articles(content: Path) -> None:
    catalog = load_catalog(content, today=TODAY)
    assert [t.id for t in topics_citing(catalog, "D.Lgs. 286/1998")] == ["permit_renewal"]
    assert [t.id for t in topics_citing(catalog, "d.lgs 286/1998 art. 5")] == ["permit_renewal"]
    assert topics_citing(catalog, "D.Lgs. 286/19") == []  # not a prefix of another number
    assert topics_citing(catalog, "L. 187/2024") == []


def test_the_repository_content_has_no_quality_problem() -> None:
    """The gate: wrong content does not reach main. Fix the content, never this test."""
    rules = QualityRules(today=date.today(), max_age_days=365)
    catalog = load_catalog(REPO_CONTENT)
    assert [str(issue) for issue in review(REPO_CONTENT, catalog, rules)] == []
