"""This module contains which deadline a message is about: the rules whose phrases it holds
("scade", "moglie + arrivat*", "nulla osta"), from ``content/deadlines.yaml``; and which one a
message without a date lives through: the rules whose situations it holds ("bocciat* + test").

Phrases are written as ``bot.content.phrase_patterns`` reads them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from bot.content.deadline_rules import DeadlineRule
from bot.content.phrase_patterns import Phrases, compiled, found_in

# The rules' phrases, compiled once per content: every message is checked against every rule's
# phrases in every language, and compiling them again cost 70% of a WhatsApp webhook's CPU
# (#21); checking them one by one, 0.6 ms. Kept by the rules' identity (a catalog's own
# mapping), a few contents at a time (a reload, the one before).
_TABLES: OrderedDict[int, tuple[Mapping[str, DeadlineRule], Phrases, Phrases]]
_TABLES = OrderedDict()
_KEPT_TABLES = 4
_TABLES_LOCK = threading.Lock()


def _tables(rules: Mapping[str, DeadlineRule]) -> tuple[Phrases, Phrases]:
    """The rules' phrases and situations, compiled."""
    kept = _TABLES.get(id(rules))
    if kept is not None and kept[0] is rules:
        return kept[1], kept[2]
    phrases = _compiled({rule.id: rule.phrases for rule in rules.values()})
    situations = _compiled({rule.id: rule.situations for rule in rules.values()})
    with _TABLES_LOCK:  # a thread may compile them too (prepare)
        _TABLES[id(rules)] = (rules, phrases, situations)
        while len(_TABLES) > _KEPT_TABLES:
            _TABLES.popitem(last=False)
    return phrases, situations


def prepare(rules: Mapping[str, DeadlineRule]) -> None:
    """Compile the rules' phrases now (in a thread, before the first message needs them)."""
    _tables(rules)


def kind_of(text: str, rules: Mapping[str, DeadlineRule]) -> str | None:
    """The one rule the message names best, or None when none does or two tie."""
    return _best(text, _tables(rules)[0])


def situation_of(text: str, rules: Mapping[str, DeadlineRule]) -> str | None:
    """The one rule whose situation the message tells best ("my wife arrived yesterday"), or
    None when none does or two tie."""
    return _best(text, _tables(rules)[1])


def _compiled(lists: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Phrases:
    """Each rule's phrases in every language."""
    return compiled(
        {
            rule: [p for group in by_language.values() for p in group]
            for rule, by_language in lists.items()
        }
    )


def _best(text: str, phrases: Phrases) -> str | None:
    # The longest phrase found says most: "domanda di nulla osta" over "moglie".
    scores = found_in(text, phrases)
    if not scores:
        return None
    ranked = sorted(scores.values(), reverse=True)
    if len(ranked) > 1 and ranked[0] == ranked[1]:
        return None
    return max(scores, key=lambda rule_id: scores[rule_id])
