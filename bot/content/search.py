"""This module contains the topic search: a weighted, typo-tolerant ranking over the content.

Simple on purpose: every topic's titles, keywords, sample questions and answers (in every
language, so an Italian word in an English sentence still counts) become weighted tokens;
a query scores by the share of its informative words that a topic covers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.content.text import tokens

# How much a word found in each field tells about the topic (1.0 = certain).
FIELD_WEIGHTS = {"title": 1.0, "keywords": 0.9, "questions": 0.6, "answer": 0.25}
PREFIX_MATCH = 0.8  # "rinnova" for "rinnovo": a light, language-free stemming


@dataclass(frozen=True)
class Match:
    topic: str
    area: str
    score: float


class SearchIndex:
    """An index of one catalog; build a new one when the catalog changes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._weights: dict[str, dict[str, float]] = {}
        self._by_prefix: dict[str, set[str]] = defaultdict(set)
        document_frequency: dict[str, int] = defaultdict(int)
        for topic in catalog.topics.values():
            weights: dict[str, float] = {}
            fields = {
                "title": list(topic.title.values.values()),
                "answer": list(topic.answer.values.values()),
                "keywords": [phrase for group in topic.keywords.values() for phrase in group],
                "questions": [phrase for group in topic.questions.values() for phrase in group],
            }
            for field, texts in fields.items():
                for text in texts:
                    for token in tokens(text):
                        weights[token] = max(weights.get(token, 0.0), FIELD_WEIGHTS[field])
            self._weights[topic.id] = weights
            for token in weights:
                document_frequency[token] += 1
                if len(token) >= 4:
                    self._by_prefix[token[:4]].add(token)
        total = max(len(self._weights), 1)
        self._idf = {
            token: math.log(1 + total / count) for token, count in document_frequency.items()
        }
        # A word no topic uses is informative: it says the question may be about something else.
        self._unknown_idf = math.log(1 + total) * 0.6

    def _variants(self, token: str) -> list[tuple[str, float]]:
        """Index words that ``token`` stands for: itself, and words sharing a long prefix."""
        found = [(token, 1.0)] if token in self._idf else []
        if len(token) >= 5:
            for candidate in self._by_prefix.get(token[:4], ()):
                shared = len(_common_prefix(token, candidate))
                if candidate != token and shared >= max(5, min(len(token), len(candidate)) - 1):
                    found.append((candidate, PREFIX_MATCH))
        return found

    def search(self, query: str, limit: int = 3) -> list[Match]:
        """The best topics for ``query``, best first, with scores between 0 and 1."""
        words = list(dict.fromkeys(tokens(query)))[:64]
        if not words:
            return []
        expansions = {word: self._variants(word) for word in words}
        importance = {
            word: max((self._idf[v] for v, _ in variants), default=self._unknown_idf)
            for word, variants in expansions.items()
        }
        total = sum(importance.values())
        scores: list[Match] = []
        for topic_id, weights in self._weights.items():
            covered = 0.0
            for word, variants in expansions.items():
                best = max((weights.get(v, 0.0) * s for v, s in variants), default=0.0)
                covered += importance[word] * best
            if covered > 0:
                topic = self.catalog.topics[topic_id]
                scores.append(Match(topic_id, topic.area, round(covered / total, 3)))
        scores.sort(key=lambda match: (-match.score, match.topic))
        return scores[:limit]


def _common_prefix(first: str, second: str) -> str:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return first[:length]
