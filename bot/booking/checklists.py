"""This module contains the documents to bring as a user reads them: their personal checklist
(from their answers) in their language with the Italian names beside, or, for a service with
no checklist, the service's ``documents`` text.

The same text goes in the booking's summary and confirmation, the request's summary and the
counter's proposal, and the reminder the day before.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.content.catalog import Catalog
from bot.content.checklist import Checklist, Document, decode_answers
from bot.content.schema import Service
from bot.content.text import normalise
from bot.i18n import Translator


def to_bring(
    catalog: Catalog,
    service: Service,
    answers: Mapping[str, str] | str,
    language: str,
    t: Translator,
) -> str:
    """What this user brings for ``service``, in ``language`` (``answers``: answer ids, or as
    stored: "permit=work;kit=yes")."""
    if service.checklist is None:
        return catalog.localize(service.documents, language).text
    given = decode_answers(answers) if isinstance(answers, str) else answers
    return checklist_text(catalog, service.checklist, given, language, t)


def checklist_text(
    catalog: Catalog,
    checklist: Checklist,
    answers: Mapping[str, str],
    language: str,
    t: Translator,
) -> str:
    """The personal list: the documents the answers need, then those that depend on a
    question the user skipped, then where the rest is said."""
    personal = checklist.personal(answers)
    lines = [document_line(catalog, document, language) for document in personal.needed]
    if personal.maybe:
        if lines:
            lines.append("")
        lines.append(t._("Also, if it applies to you:"))
        lines += [document_line(catalog, document, language) for document in personal.maybe]
    lines += ["", t._("The counter will tell you if anything else is needed.")]
    return "\n".join(lines)


def answers_kept(t: Translator, answers: str) -> list[str]:
    """The line a summary adds when checklist answers go with the booking (consent first:
    they say which permit the user holds)."""
    if not answers:
        return []
    return [
        t._(
            "Your answers about the documents are kept with the appointment only to remind you "
            "what to bring, and deleted after it."
        ),
        "",
    ]


def document_line(catalog: Catalog, document: Document, language: str) -> str:
    """ "- Passport, original and a photocopy (passaporto)": the Italian name beside, so that
    the user can find the document and say what it is called at the offices."""
    text = catalog.localize(document.text, language).text
    if normalise(document.name) in normalise(text):
        return f"- {text}"  # Italian, or a text that already names it
    return f"- {text} ({document.name})"
