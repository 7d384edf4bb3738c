"""This module contains what each language lacks: the topics and fields not yet translated.

``sportello content check`` counts them per language and names them, so a mediator knows
which texts to write ("permit_lost: answer in ur"), not only that one is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.content.schema import Topic

#: The texts of a topic that every language needs: the button label and the answer.
TRANSLATED_FIELDS = ("title", "answer")


@dataclass(frozen=True)
class Gap:
    """A topic that lacks ``fields`` in one language."""

    topic: str
    file: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.topic} ({', '.join(self.fields)})"


def missing_fields(topic: Topic, language: str) -> tuple[str, ...]:
    """The fields of ``topic`` that have no text in ``language`` (shown in another one)."""
    texts = {"title": topic.title, "answer": topic.answer}
    return tuple(name for name in TRANSLATED_FIELDS if language not in texts[name])


def missing_translations(catalog: Catalog) -> dict[str, list[Gap]]:
    """Per enabled language (in the order of ``languages.yaml``), its topics with missing texts."""
    gaps: dict[str, list[Gap]] = {}
    for language in catalog.enabled_languages:
        gaps[language.code] = [
            Gap(topic.id, topic.file, fields)
            for topic in sorted(catalog.topics.values(), key=lambda topic: topic.id)
            if (fields := missing_fields(topic, language.code))
        ]
    return gaps
