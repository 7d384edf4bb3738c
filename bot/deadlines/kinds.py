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
from collections.abc import Mapping

from bot.content.deadline_rules import DeadlineRule
from bot.content.text import has_cjk, normalise

# A letter that joins a word: Chinese characters do not ("nulla osta申请了" holds "nulla osta").
_LETTER = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def _part(part: str) -> re.Pattern[str] | None:
    words = [
        normalise(word.rstrip("*")) + ("*" if word.endswith("*") else "") for word in part.split()
    ]
    words = [word for word in words if word.strip("*")]
    if not words:
        return None
    if has_cjk(part):
        return re.compile(re.escape("".join(word.rstrip("*") for word in words)))
    body = r"\s+".join(
        re.escape(word.rstrip("*")) + (r"\w*" if word.endswith("*") else "") for word in words
    )
    return re.compile(rf"(?<!{_LETTER}){body}(?!{_LETTER})")


@functools.lru_cache(maxsize=8192)
def _parts(phrase: str) -> tuple[re.Pattern[str] | None, ...]:
    # Compiled once per phrase: every message is checked against every rule's phrases in every
    # language, more patterns than the re module keeps, and compiling them again cost 70% of
    # a WhatsApp webhook's CPU (#21). The bound covers content many times today's.
    return tuple(_part(part) for part in phrase.split(" + "))


def _matches(phrase: str, key: str) -> int:
    """How much of ``phrase`` the message holds: its length when every part is there, else 0."""
    parts = _parts(phrase)
    if not parts or any(part is None or not part.search(key) for part in parts):
        return 0
    return len(phrase.replace("*", "").replace(" + ", " "))


def kind_of(text: str, rules: Mapping[str, DeadlineRule]) -> str | None:
    """The one rule the message names best, or None when none does or two tie."""
    return _best(text, {rule.id: rule.phrases for rule in rules.values()})


def situation_of(text: str, rules: Mapping[str, DeadlineRule]) -> str | None:
    """The one rule whose situation the message tells best ("my wife arrived yesterday"), or
    None when none does or two tie."""
    return _best(text, {rule.id: rule.situations for rule in rules.values()})


def _best(text: str, phrases: Mapping[str, Mapping[str, tuple[str, ...]]]) -> str | None:
    key = normalise(text)
    scores: dict[str, int] = {}
    for rule_id, lists in phrases.items():
        # The longest phrase found says most: "domanda di nulla osta" over "moglie".
        best = max((_matches(p, key) for group in lists.values() for p in group), default=0)
        if best:
            scores[rule_id] = best
    if not scores:
        return None
    ranked = sorted(scores.values(), reverse=True)
    if len(ranked) > 1 and ranked[0] == ranked[1]:
        return None
    return max(scores, key=lambda rule_id: scores[rule_id])
