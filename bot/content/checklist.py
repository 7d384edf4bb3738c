"""This module contains the checklists of documents to bring: questions, documents, conditions.

A service's ``checklist:`` (``services/*.yaml``) asks a few questions ("which permit?") and
lists documents, each with a condition on the answers. A user's answers are answer ids only
(``{"permit": "work"}``): the personal list is computed from them and the content each time it
is shown, so an editor's change reaches the next reminder, and nothing else is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.content.schema import Localized, Source

#: Answers as stored beside an appointment or a request: "permit=work;kit=yes" (ids only).
_PAIR, _EQUALS = ";", "="


@dataclass(frozen=True)
class Answer:
    """One answer a question offers, as a button."""

    id: str
    text: Localized


@dataclass(frozen=True)
class Question:
    """One question of a checklist ("Which permit do you have?")."""

    id: str
    text: Localized
    answers: tuple[Answer, ...]

    def answer(self, answer_id: str | None) -> Answer | None:
        return next((answer for answer in self.answers if answer.id == answer_id), None)


@dataclass(frozen=True)
class Document:
    """A document to bring: its Italian name (what the counter and the offices call it), its
    text in every language, and when it is needed (``when``: question id -> the answers that
    need it; every question named must be answered with one of its answers)."""

    id: str
    name: str  # the Italian name, shown beside the translation: "Passport (passaporto)"
    text: Localized
    when: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    def needed(self, answers: Mapping[str, str]) -> bool | None:
        """True when the answers need it, False when they rule it out, None when it depends
        on a question the user skipped."""
        unknown = False
        for question, wanted in self.when.items():
            given = answers.get(question)
            if given is None:
                unknown = True
            elif given not in wanted:
                return False
        return None if unknown else True


@dataclass(frozen=True)
class Personal:
    """A user's checklist: the documents their answers need, and those that depend on a
    question they skipped."""

    needed: tuple[Document, ...]
    maybe: tuple[Document, ...]


@dataclass(frozen=True)
class Checklist:
    """A service's questions and documents, with the pages they come from."""

    questions: tuple[Question, ...]
    documents: tuple[Document, ...]
    sources: tuple[Source, ...]
    reviewed: date

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def known(self, answers: Mapping[str, str]) -> dict[str, str]:
        """The answers this checklist still asks and offers (the content may have changed
        since they were given): the others count as skipped."""
        return {
            question.id: answers[question.id]
            for question in self.questions
            if question.answer(answers.get(question.id)) is not None
        }

    def personal(self, answers: Mapping[str, str]) -> Personal:
        known = self.known(answers)
        needed, maybe = [], []
        for document in self.documents:
            verdict = document.needed(known)
            if verdict is True:
                needed.append(document)
            elif verdict is None:
                maybe.append(document)
        return Personal(tuple(needed), tuple(maybe))


def encode_answers(answers: Mapping[str, str]) -> str:
    """Answer ids as one short text: "kit=yes;permit=work" (ids cannot hold ';' or '=')."""
    pairs = sorted(answers.items())
    return _PAIR.join(f"{question}{_EQUALS}{answer}" for question, answer in pairs)


def decode_answers(text: str | None) -> dict[str, str]:
    """The answers of :func:`encode_answers`; anything malformed is left out."""
    answers: dict[str, str] = {}
    for pair in (text or "").split(_PAIR):
        question, equals, answer = pair.partition(_EQUALS)
        if equals and question and answer:
            answers[question] = answer
    return answers
