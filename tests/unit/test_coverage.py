"""What each language lacks, named by topic and field."""

from __future__ import annotations

from pathlib import Path

from bot.content.catalog import Catalog
from bot.content.coverage import Gap, missing_translations
from bot.content.loader import load_catalog
from tests.conftest import TODAY


def test_each_language_names_its_topics_and_fields_without_text(catalog: Catalog) -> None:
    gaps = missing_translations(catalog)
    assert list(gaps) == ["it", "en", "fr", "ar"]  # enabled languages, in the file's order
    assert gaps["it"] == gaps["en"] == []
    assert gaps["ar"] == [
        Gap("counter_hours", "topics/counter_hours.yaml", ("title", "answer")),
        Gap("permit_lost", "topics/permit_lost.yaml", ("title", "answer")),
    ]
    assert [gap.topic for gap in gaps["fr"]] == ["counter_hours", "permit_lost", "permit_renewal"]
    assert str(gaps["ar"][0]) == "counter_hours (title, answer)"


def test_a_title_translated_without_its_answer_is_named_with_its_field(
    content_copy: Path,
) -> None:
    path = content_copy / "topics" / "permit_lost.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title:\n", "title:\n  fr: Titre perdu\n", 1), encoding="utf-8")
    gaps = missing_translations(load_catalog(content_copy, today=TODAY))
    assert Gap("permit_lost", "topics/permit_lost.yaml", ("answer",)) in gaps["fr"]
