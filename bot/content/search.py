"""This module contains the topic search: a field-weighted, typo-tolerant ranking.

Every topic's titles, keywords, sample questions and answers, in every language (so that an
Italian word inside an English sentence still counts), become terms in an inverted index:
the words themselves, their Snowball stems where a stemmer exists for the text's language,
and, through the content's synonym groups, the words of equivalent phrases. A query word
matches a term exactly, by stem, by a shared long prefix, or with one typo; a topic's score
is the share of the query's information (inverse document frequency) that it covers, weighted
by where the match was found. Scores run from 0 to 1.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

from bot.content.catalog import Catalog
from bot.content.text import normalise, tokens

# How much a word found in each field tells about the topic (1.0 = certain).
FIELD_WEIGHTS = {"title": 1.0, "keywords": 0.9, "questions": 0.6, "answer": 0.25}
SYNONYM_WEIGHT = 0.8  # a word that only a synonym brought in
STEM_MATCH = 0.9
PREFIX_MATCH = 0.8  # "rinnova" for "rinnovo", in languages without a stemmer
TYPO_MATCH = 0.7  # one letter missing, extra, or different ("permeso", "soggiono")
STEM_MARK = "\u00a7"  # keeps stems apart from words in the index

STEMMERS = {"it": "italian", "en": "english", "fr": "french", "es": "spanish", "ar": "arabic"}


STRONG = 0.5  # a match in a title, keyword or sample question, not only in an answer
STRONG_SHARE_OF_TOPICS = 4  # ... of a word used by at most a quarter of the topics ("di", "the")


@dataclass(frozen=True)
class Match:
    """A topic found for a query.

    ``score`` is the share of the query's information the topic covers; ``strong`` counts the
    telling query words found in its title, keywords or sample questions.
    """

    topic: str
    area: str
    score: float
    strong: int = 0


@lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str | None:
    algorithm = STEMMERS.get(language)
    if algorithm is None or len(word) < 4:
        return None
    stemmed: str = _stemmer(algorithm).stemWord(word)
    return STEM_MARK + stemmed


@cache
def _stemmer(algorithm: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(algorithm)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class SearchIndex:
    """An index of one catalog; build a new one when the catalog changes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        postings: dict[str, dict[str, float]] = defaultdict(dict)
        synonyms = [
            (normalise(phrase), group)
            for group in catalog.synonyms
            for phrase in group
            if normalise(phrase)
        ]
        for topic in catalog.topics.values():
            fields: list[tuple[str, str, str]] = [
                *(("title", code, text) for code, text in topic.title.values.items()),
                *(("answer", code, text) for code, text in topic.answer.values.items()),
                *(("keywords", code, p) for code, group in topic.keywords.items() for p in group),
                *(("questions", code, p) for code, group in topic.questions.items() for p in group),
            ]
            for field, code, text in fields:
                weight = FIELD_WEIGHTS[field]
                self._add(postings, topic.id, tokens(text), code, weight)
                padded = f" {normalise(text)} "
                for phrase, group in synonyms:
                    if f" {phrase} " in padded:
                        for other in group:
                            self._add(
                                postings, topic.id, tokens(other), None, weight * SYNONYM_WEIGHT
                            )
        self._postings = dict(postings)
        total = max(len(catalog.topics), 1)
        self._idf = {term: math.log(1 + total / len(topics)) for term, topics in postings.items()}
        # A word no topic uses is informative: it says the question may be about something else.
        self._unknown_idf = math.log(1 + total) * 0.6
        self._strong_idf = math.log(1 + min(total, STRONG_SHARE_OF_TOPICS))
        self._by_prefix: dict[str, set[str]] = defaultdict(set)
        self._by_deletion: dict[str, set[str]] = defaultdict(set)
        for term in self._postings:
            if term.startswith(STEM_MARK):
                continue
            if len(term) >= 5:
                self._by_prefix[term[:4]].add(term)
            if len(term) >= 4:
                for deleted in _deletions(term):
                    self._by_deletion[deleted].add(term)

    @staticmethod
    def _add(
        postings: dict[str, dict[str, float]],
        topic_id: str,
        words: Iterable[str],
        language: str | None,
        weight: float,
    ) -> None:
        for word in words:
            terms = [word]
            for code in (language,) if language else STEMMERS:
                stemmed = stem(word, code)
                if stemmed is not None:
                    terms.append(stemmed)
            for term in terms:
                if postings[term].get(topic_id, 0.0) < weight:
                    postings[term][topic_id] = weight

    def _variants(self, word: str) -> dict[str, float]:
        """Index terms ``word`` may stand for, each with how sure that reading is."""
        found: dict[str, float] = {}
        if word in self._postings:
            found[word] = 1.0
        for code in STEMMERS:
            stemmed = stem(word, code)
            if stemmed is not None and stemmed in self._postings:
                found[stemmed] = max(found.get(stemmed, 0.0), STEM_MATCH)
        if len(word) >= 5:
            for candidate in self._by_prefix.get(word[:4], ()):
                shared = _common_prefix_length(word, candidate)
                if candidate != word and shared >= max(5, min(len(word), len(candidate)) - 1):
                    found[candidate] = max(found.get(candidate, 0.0), PREFIX_MATCH)
        if word not in self._postings and len(word) >= 5:
            # One edit away: the word with a letter deleted, or a word of ours with one deleted.
            candidates = set(self._by_deletion.get(word, ()))
            for deleted in _deletions(word):
                if deleted in self._postings:
                    candidates.add(deleted)
                candidates.update(self._by_deletion.get(deleted, ()))
            for candidate in candidates:
                found[candidate] = max(found.get(candidate, 0.0), TYPO_MATCH)
        return found

    def search(self, query: str, limit: int = 3) -> list[Match]:
        """The best topics for ``query``, best first, with scores between 0 and 1."""
        words = list(dict.fromkeys(tokens(query)))[:64]
        if not words:
            return []
        covered: dict[str, float] = defaultdict(float)
        strong: dict[str, int] = defaultdict(int)
        total = 0.0
        for word in words:
            variants = self._variants(word)
            importance = max((self._idf[term] for term in variants), default=self._unknown_idf)
            total += importance
            best: dict[str, float] = {}
            for term, certainty in variants.items():
                for topic_id, weight in self._postings[term].items():
                    value = weight * certainty
                    if value > best.get(topic_id, 0.0):
                        best[topic_id] = value
            for topic_id, value in best.items():
                covered[topic_id] += importance * value
                strong[topic_id] += value >= STRONG and importance >= self._strong_idf
        ranked = sorted(covered.items(), key=lambda item: (-item[1], item[0]))[:limit]
        topics = self.catalog.topics
        return [
            Match(
                topic_id,
                topics[topic_id].area,
                round(value / total, 3),
                strong[topic_id],
            )
            for topic_id, value in ranked
        ]


def _common_prefix_length(first: str, second: str) -> int:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length
