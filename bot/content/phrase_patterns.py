"""This module contains phrases as editors write them to be found inside a message: words found
together; ``*`` after a word lets it end any way ("arrivat*": arrivata, arrivato, arrivati);
`` + `` joins parts that must all be somewhere in the message ("moglie + arrivat*": my wife,
and an arrival). Deadlines name themselves this way (``deadlines.yaml``), and so do the signs
that someone is in danger (``intents.yaml``, ``danger``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.content.text import has_cjk, normalise

# A letter that joins a word: Chinese characters do not ("nulla osta申请了" holds "nulla osta").
_LETTER = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_WORD = re.compile(f"{_LETTER}+")  # a word, as the patterns see where words begin
# Arabic joins "and", "so" (و, ف), then "with", "for", "like" (ب, ل, ك) to the word after
# them ("وزوجي يضربني": and my husband hits me): a word in Arabic letters is found with them.
_JOINED_FIRST, _JOINED_SECOND = "وف", "بلك"
_ARABIC_JOINED = f"(?:[{_JOINED_FIRST}])?(?:[{_JOINED_SECOND}])?"


def _arabic(word: str) -> bool:
    return "\u0600" <= word[:1] <= "\u06ff"


def _words(part: str) -> list[str]:
    words = [
        normalise(word.rstrip("*")) + ("*" if word.endswith("*") else "") for word in part.split()
    ]
    return [word for word in words if word.strip("*")]


# Compiled once per part, whatever the content: a reload brings new phrases, mostly the ones
# before; compiling all of them again held the event loop for a second (#21). The bound covers
# content many times today's.
@functools.lru_cache(maxsize=8192)
def _part(part: str) -> re.Pattern[str] | None:
    words = _words(part)
    if not words:
        return None
    if has_cjk(part):
        return re.compile(re.escape("".join(word.rstrip("*") for word in words)))
    body = r"\s+".join(
        (_ARABIC_JOINED if _arabic(word) else "")
        + re.escape(word.rstrip("*"))
        + (r"\w*" if word.endswith("*") else "")
        for word in words
    )
    return re.compile(rf"(?<!{_LETTER}){body}(?!{_LETTER})")


def _needles(part: str) -> tuple[str, ...]:
    """Texts any message holding ``part`` holds: its words without their ``*``."""
    words = [word.rstrip("*") for word in _words(part)]
    return ("".join(words),) if has_cjk(part) else tuple(words)


@dataclass(frozen=True)
class Phrase:
    """One phrase, ready to be looked for; ``key`` is what it stands for (a rule, a language)."""

    key: str
    #: Every part's words, longest first: a phrase whose words are not all in the message
    #: is left before any pattern runs (most phrases, for most messages).
    needles: tuple[str, ...]
    parts: tuple[re.Pattern[str], ...]
    #: How much the phrase says: the longest found says most.
    length: int


@dataclass(frozen=True)
class Phrases:
    """Phrases ready to be looked for, indexed: a message is compared only with the phrases
    whose longest word begins the way one of its words begins (a few of a thousand signs of
    danger), and with the Chinese ones when it holds Chinese."""

    by_start: Mapping[str, tuple[Phrase, ...]]
    unspaced: tuple[Phrase, ...]  # Chinese: found anywhere, words are not separated

    def __bool__(self) -> bool:
        return bool(self.by_start or self.unspaced)


_START = 3  # the letters a phrase is filed under: its longest word's first three


def compiled(phrases: Mapping[str, Iterable[str]]) -> Phrases:
    """The phrases of each key, ready to be looked for (a phrase with no word is left out: it
    could never be found)."""
    by_start: dict[str, list[Phrase]] = {}
    unspaced: list[Phrase] = []
    for key, texts in phrases.items():
        for phrase in dict.fromkeys(texts):
            pieces = phrase.split(" + ")
            parts = [_part(piece) for piece in pieces]
            if not parts or any(part is None for part in parts):
                continue
            needles = {needle for piece in pieces for needle in _needles(piece)}
            found = Phrase(
                key,
                tuple(sorted(needles, key=len, reverse=True)),
                tuple(part for part in parts if part is not None),
                len(phrase.replace("*", "").replace(" + ", " ")),
            )
            if has_cjk(phrase):
                unspaced.append(found)
            else:  # every word of it begins a word of any message that holds it
                first = _WORD.findall(found.needles[0])
                start = first[0][:_START] if first else ""
                by_start.setdefault(start, []).append(found)
    return Phrases({start: tuple(filed) for start, filed in by_start.items()}, tuple(unspaced))


def found_in(text: str, phrases: Phrases) -> dict[str, int]:
    """Each key whose phrases the message holds, with the length of its longest one found."""
    key = normalise(text)
    starts = {""}  # "": phrases whose longest word holds no letter
    for word in _WORD.findall(key):
        for bare in _unjoined(word):
            starts.update(bare[:size] for size in range(1, _START + 1))
    candidates: dict[int, Phrase] = {}
    for start in starts:
        for phrase in phrases.by_start.get(start, ()):
            candidates[id(phrase)] = phrase
    if phrases.unspaced and has_cjk(key):
        candidates.update((id(phrase), phrase) for phrase in phrases.unspaced)
    scores: dict[str, int] = {}
    for phrase in candidates.values():
        for needle in phrase.needles:
            if needle not in key:
                break
        else:
            if phrase.length > scores.get(phrase.key, 0) and all(
                part.search(key) for part in phrase.parts
            ):
                scores[phrase.key] = phrase.length
    return scores


def _unjoined(word: str) -> list[str]:
    """The word, and the word without the Arabic particles a phrase's word may carry."""
    forms = [word]
    if word[:1] in _JOINED_FIRST:
        forms.append(word := word[1:])
    if word[:1] in _JOINED_SECOND:
        forms.append(word[1:])
    return forms
