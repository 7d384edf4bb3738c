"""This module contains which deadline a message is about: the rules whose phrases it holds
("scade", "moglie + arrivat*", "nulla osta"), from ``content/deadlines.yaml``; and which one a
message without a date lives through: the rules whose situations it holds ("bocciat* + test").

A phrase is words found together in the message; ``*`` after a word lets it end any way
("arrivat*": arrivata, arrivato, arrivati); `` + `` joins parts that must all be somewhere in
the message ("moglie + arrivat*": my wife, and an arrival).
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from bot.content.deadline_rules import DeadlineRule
from bot.content.text import has_cjk, normalise

# A letter that joins a word: Chinese characters do not ("nulla osta申请了" holds "nulla osta").
_LETTER = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def _words(part: str) -> list[str]:
    words = [
        normalise(word.rstrip("*")) + ("*" if word.endswith("*") else "") for word in part.split()
    ]
    return [word for word in words if word.strip("*")]


# Compiled once per part, whatever the content: a reload brings a new rules mapping, whose
# phrases are mostly the ones before; compiling all of them again held the event loop for a
# second (#21). The bound covers content many times today's.
@functools.lru_cache(maxsize=8192)
def _part(part: str) -> re.Pattern[str] | None:
    words = _words(part)
    if not words:
        return None
    if has_cjk(part):
        return re.compile(re.escape("".join(word.rstrip("*") for word in words)))
    body = r"\s+".join(
        re.escape(word.rstrip("*")) + (r"\w*" if word.endswith("*") else "") for word in words
    )
    return re.compile(rf"(?<!{_LETTER}){body}(?!{_LETTER})")


def _needles(part: str) -> tuple[str, ...]:
    """Texts any message holding ``part`` holds: its words without their ``*``."""
    words = [word.rstrip("*") for word in _words(part)]
    return ("".join(words),) if has_cjk(part) else tuple(words)


@dataclass(frozen=True)
class _Phrase:
    rule: str
    #: Every part's words, longest first: a phrase whose words are not all in the message
    #: is left before any pattern runs (most phrases, for most messages).
    needles: tuple[str, ...]
    parts: tuple[re.Pattern[str], ...]
    #: How much the phrase says: the longest found wins.
    length: int


def _compiled(phrases: Mapping[str, Mapping[str, tuple[str, ...]]]) -> tuple[_Phrase, ...]:
    found: list[_Phrase] = []
    for rule_id, lists in phrases.items():
        for phrase in dict.fromkeys(p for group in lists.values() for p in group):
            texts = phrase.split(" + ")
            parts = [_part(text) for text in texts]
            if not parts or any(part is None for part in parts):
                continue  # a part with no word: the phrase can never be found
            needles = {needle for text in texts for needle in _needles(text)}
            found.append(
                _Phrase(
                    rule_id,
                    tuple(sorted(needles, key=len, reverse=True)),
                    tuple(part for part in parts if part is not None),
                    len(phrase.replace("*", "").replace(" + ", " ")),
                )
            )
    return tuple(found)


# The rules' phrases, compiled once per content: every message is checked against every rule's
# phrases in every language, and compiling them again cost 70% of a WhatsApp webhook's CPU
# (#21); checking them one by one, 0.6 ms. Kept by the rules' identity (a catalog's own
# mapping), a few contents at a time (a reload, the one before).
_TABLES: OrderedDict[
    int, tuple[Mapping[str, DeadlineRule], tuple[_Phrase, ...], tuple[_Phrase, ...]]
]
_TABLES = OrderedDict()
_KEPT_TABLES = 4
_TABLES_LOCK = threading.Lock()


def _tables(rules: Mapping[str, DeadlineRule]) -> tuple[tuple[_Phrase, ...], tuple[_Phrase, ...]]:
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


def _best(text: str, phrases: tuple[_Phrase, ...]) -> str | None:
    key = normalise(text)
    scores: dict[str, int] = {}
    for phrase in phrases:
        for needle in phrase.needles:
            if needle not in key:
                break
        else:
            # The longest phrase found says most: "domanda di nulla osta" over "moglie".
            if phrase.length > scores.get(phrase.rule, 0) and all(
                part.search(key) for part in phrase.parts
            ):
                scores[phrase.rule] = phrase.length
    if not scores:
        return None
    ranked = sorted(scores.values(), reverse=True)
    if len(ranked) > 1 and ranked[0] == ranked[1]:
        return None
    return max(scores, key=lambda rule_id: scores[rule_id])
