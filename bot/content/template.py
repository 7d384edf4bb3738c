"""This module contains the template of a new topic, and where to list it in ``menu.yaml``.

``sportello content new`` writes the file. Every field a person must write is left empty, so
that ``sportello content check`` lists each one, at its line, until it is filled: a topic with
no date of review or no source can never reach users by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.content.catalog import Catalog
from bot.content.schema import Language
from bot.content.yamlfile import YamlDict, YamlList, YamlSyntaxError, read_yaml

# The comments say, where the editor types, what goes there (content/README.md has the rest).
_HEAD = """\
# A new topic. Fill in every empty field, then run `sportello content check`: until then it
# lists each field still empty. content/README.md explains every key.
# A translation you cannot write yet: delete its lines; the bot then shows the topic in a
# fallback language (`fallback` in languages.yaml) with one line that says so.
id: {topic_id}
area: {area}{area_comment}
reviewed:            # the date you checked the answer against its sources, like {today}
title:               # a button label: at most 60 characters
{titles}
answer:              # plain text for phones, at most about 900 characters: short
                     # paragraphs, "- " at the start of a bullet, **bold** for few words
{answers}
status:
  it: reviewed       # the other languages are drafts until someone who reads them checks
keywords:            # words and short phrases people use for this topic, in [ ]
{keywords}
questions:           # questions as people type them, in [ ], separated by commas
{questions}
sources:             # the pages that hold the answer's facts, never a site's home page
  - url:             # https://...
    title:           # publisher - page, like: Polizia di Stato - Permesso di soggiorno
    read:            # the date you read the page, like {today}
"""


def topic_template(
    topic_id: str,
    area: str | None,
    languages: Sequence[Language],
    today: str,
    areas: Sequence[str] = (),
) -> str:
    """The YAML text of a new topic: Italian first, then every other enabled language;
    ``areas``: the content's (``desk.yaml``), named beside an area left empty."""
    codes = ["it", *(language.code for language in languages if language.code != "it")]
    return _HEAD.format(
        topic_id=topic_id,
        area=area or "",
        area_comment="" if area else f"  # one of: {', '.join(areas)}",
        today=today,
        titles="\n".join(f"  {code}:" for code in codes),
        answers="\n".join(f"  {code}: |" for code in codes),
        keywords="\n".join(f"  {code}: []" for code in codes),
        questions="\n".join(f"  {code}: []" for code in codes),
    )


def likely_area(catalog: Catalog, topic_id: str) -> str | None:
    """The area of the topic whose id shares the longest start with ``topic_id``.

    ``permit_renewal_online`` is most likely about what ``permit_renewal`` is about.
    """
    words = topic_id.split("_")
    best, shared = None, 0
    for topic in sorted(catalog.topics.values(), key=lambda topic: topic.id):
        common = 0
        for mine, theirs in zip(words, topic.id.split("_"), strict=False):
            if mine != theirs:
                break
            common += 1
        if common > shared:
            best, shared = topic.area, common
    return best


@dataclass(frozen=True)
class MenuEntry:
    """Where to list a new topic: ``line`` of ``menu.yaml`` becomes ``text``."""

    menu: str
    line: int
    old: str
    new: str
    replaces: bool  # True: ``new`` replaces line ``line``; False: it goes after it


def menu_entry(root: Path, catalog: Catalog, topic_id: str, area: str | None) -> MenuEntry | None:
    """The menu that lists most topics of ``area`` (else the main one), with the new item."""
    counts = {
        menu.id: sum(
            1 for item in menu.items if item in catalog.topics and catalog.topics[item].area == area
        )
        for menu in catalog.menus.values()
    }
    menu_id = max(counts, key=lambda key: counts[key]) if counts else catalog.root
    if not counts.get(menu_id):
        menu_id = catalog.root
    path = root / "menu.yaml"
    try:
        data = read_yaml(path)
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, YamlSyntaxError):
        return None
    menus = data.get("menus") if isinstance(data, YamlDict) else None
    for menu in menus if isinstance(menus, YamlList) else []:
        if not isinstance(menu, YamlDict) or menu.get("id") != menu_id:
            continue
        items = menu.get("items")
        if not isinstance(items, YamlList) or "items" not in menu.key_lines:
            return None
        line = menu.key_lines["items"]
        old = lines[line - 1]
        if old.rstrip().endswith("]"):  # items: [a, b, c] on one line
            new = old.rstrip()[:-1].rstrip() + f", {topic_id}]"
            return MenuEntry(menu_id, line, old, new, replaces=True)
        last = items.item_lines[-1]
        indent = lines[last - 1][: len(lines[last - 1]) - len(lines[last - 1].lstrip())]
        return MenuEntry(menu_id, last, lines[last - 1], f"{indent}- {topic_id}", replaces=False)
    return None
