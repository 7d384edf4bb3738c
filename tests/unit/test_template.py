"""The template of a new topic, and where it goes in the menus."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.content.catalog import Catalog
from bot.content.template import likely_area, menu_entry, topic_template
from tests.conftest import FIXTURE_CONTENT


def test_the_template_has_italian_first_then_every_enabled_language(catalog: Catalog) -> None:
    text = topic_template("permit_online", "permits", catalog.enabled_languages, "2026-11-30")
    data = yaml.safe_load(text)
    assert list(data["title"]) == ["it", "en", "fr", "ar"]  # de is disabled
    assert list(data["answer"]) == list(data["keywords"]) == list(data["questions"])
    assert data["reviewed"] is None and data["sources"] == [
        {"url": None, "title": None, "read": None}
    ]
    assert data["id"] == "permit_online" and data["area"] == "permits"


def test_without_an_area_the_template_lists_them(catalog: Catalog) -> None:
    areas = [area.id for area in catalog.desk.areas]
    text = topic_template("bus_pass", None, catalog.enabled_languages, "2026-11-30", areas)
    assert "area:   # one of: permits, family_reunification," in text


def test_the_area_of_the_topic_whose_id_is_most_alike(catalog: Catalog) -> None:
    assert likely_area(catalog, "permit_renewal_online") == "permits"
    assert likely_area(catalog, "counter_closures") == "counter"
    assert likely_area(catalog, "bus_pass") is None


def test_the_menu_that_lists_most_topics_of_the_area(catalog: Catalog) -> None:
    entry = menu_entry(FIXTURE_CONTENT, catalog, "permit_online", "permits")
    assert entry is not None and entry.replaces
    assert (entry.menu, entry.line) == ("menu_permits", 9)
    assert entry.new == "    items: [permit_renewal, permit_lost, permit_online]"
    main = menu_entry(FIXTURE_CONTENT, catalog, "bus_pass", None)
    assert main is not None and main.menu == "main"


def test_a_menu_written_as_a_list_of_lines_gets_a_line(
    catalog: Catalog, content_copy: Path
) -> None:
    menu = content_copy / "menu.yaml"
    text = menu.read_text(encoding="utf-8")
    menu.write_text(
        text.replace(
            "    items: [permit_renewal, permit_lost]",
            "    items:\n      - permit_renewal\n      - permit_lost",
        ),
        encoding="utf-8",
    )
    entry = menu_entry(content_copy, catalog, "permit_online", "permits")
    assert entry is not None and not entry.replaces
    assert (entry.line, entry.new) == (11, "      - permit_online")
