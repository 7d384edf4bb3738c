"""This module contains the ``Catalog``: the whole validated content, read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.content.deadline_rules import DeadlineRule
from bot.content.schema import (
    Desk,
    Intent,
    Language,
    Localized,
    Menu,
    Office,
    Phrasings,
    Service,
    Topic,
)


@dataclass(frozen=True)
class Localization:
    """A text chosen for a user: in which language it came, and whether that was a fallback."""

    text: str
    language: str
    fallback: bool


@dataclass(frozen=True)
class Catalog:
    """Everything in ``content/``, validated. Never mutated: a reload builds a new one."""

    languages: tuple[Language, ...]
    default_language: str
    root: str
    menus: Mapping[str, Menu]
    topics: Mapping[str, Topic]
    offices: tuple[Office, ...]
    intents: Mapping[Intent, Mapping[str, tuple[str, ...]]]
    #: The counter: its name, its own words, the areas its topics belong to (``desk.yaml``).
    desk: Desk
    version: str = ""
    #: Groups of equivalent phrases, in any languages (``synonyms.yaml``).
    synonyms: tuple[tuple[str, ...], ...] = ()
    #: Bookable services (``services/*.yaml``), in the order the offices list them.
    services: Mapping[str, Service] = field(default_factory=lambda: MappingProxyType({}))
    #: Sample messages per topic and intent, and off-topic ones (``phrasings/*.yaml``).
    phrasings: Phrasings = field(default_factory=Phrasings)
    #: Rules that compute a user's deadlines from a date they give (``deadlines.yaml``).
    deadlines: Mapping[str, DeadlineRule] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def enabled_languages(self) -> tuple[Language, ...]:
        return tuple(language for language in self.languages if language.enabled)

    def language(self, code: str | None) -> Language | None:
        """The enabled language with this code, or ``None``."""
        for language in self.enabled_languages:
            if language.code == code:
                return language
        return None

    def is_rtl(self, code: str) -> bool:
        language = self.language(code)
        return language.rtl if language else False

    def chain(self, code: str) -> tuple[str, ...]:
        """Where to look for a text in ``code``: itself, its fallbacks, the default, Italian."""
        language = self.language(code)
        steps = [code, *(language.fallback if language else ()), self.default_language, "it"]
        return tuple(dict.fromkeys(steps))

    def localize(self, text: Localized, code: str) -> Localization:
        for step in self.chain(code):
            if step in text.values:
                return Localization(text.values[step], step, fallback=step != code)
        # Validation guarantees Italian everywhere; this is for partial test catalogs.
        first = next(iter(text.values.items()), ("", ""))
        return Localization(first[1], first[0], fallback=True)

    def title(self, node_id: str, code: str) -> str:
        node = self.node(node_id)
        return self.localize(node.title, code).text if node else node_id

    def area_name(self, area_id: str) -> str:
        """An area's Italian name; an id the content no longer declares stays as it is."""
        area = self.desk.area(area_id)
        return area.name if area is not None else area_id

    def office(self, office_id: str) -> Office | None:
        return next((office for office in self.offices if office.id == office_id), None)

    def node(self, node_id: str) -> Menu | Topic | None:
        return self.menus.get(node_id) or self.topics.get(node_id)

    def phrases(self, intent: Intent) -> Mapping[str, tuple[str, ...]]:
        return self.intents.get(intent, MappingProxyType({}))
