"""This module contains the reading of a service's ``checklist:`` block, every mistake reported
at its line (content/README.md, "Checklists of documents").

It is called by the loader for each service file; the loader's ``_FileReader`` collects the
errors, and the service's ``sources`` reader reads the checklist's sources the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.content.checklist import Answer, Checklist, Document, Question
from bot.content.schema import Localized, Source
from bot.content.yamlfile import YamlDict, YamlList, as_date

if TYPE_CHECKING:
    from bot.content.loader import _FileReader

#: A checklist asks a few questions before an appointment: more would tire people out.
MAX_QUESTIONS = 4
MAX_ANSWERS = 6
MAX_LABEL = 60  # an answer is a button; a question a short line
#: YAML reads these words, unquoted, as true and false: "id: no" is not the id "no".
BOOLEAN_HINT = (
    'yes, no, on, off, true and false need quotes here ("no"): YAML reads them as true or false'
)


def read_checklist(
    reader: _FileReader,
    data: YamlDict,
    languages: set[str],
    required: Iterable[str],
    read_sources: Callable[[YamlDict], list[Source]],
) -> Checklist | None:
    """``checklist:`` of a service file, or None (absent, or reported as wrong).

    ``languages`` are the known codes; ``required`` the enabled ones, in which every text of
    the checklist must be written."""
    if "checklist" not in data:
        return None
    block = reader.mapping(
        data["checklist"],
        data.key_lines["checklist"],
        "'checklist'",
        ("questions", "documents", "sources", "reviewed"),
        (),
    )
    if block is None:
        return None
    texts = _Texts(reader, languages, tuple(required))
    errors_before = len(reader.validation.errors)
    questions, declared = _questions(reader, block, texts)
    documents = _documents(reader, block, texts, {q.id: q for q in questions}, declared)
    sources = read_sources(block)
    reviewed = as_date(block.get("reviewed"))
    if "reviewed" in block and reviewed is None:
        reader.error(
            block.key_lines["reviewed"],
            "'reviewed' must be the date the checklist was last checked, like 2026-11-30",
        )
    if len(reader.validation.errors) > errors_before or reviewed is None or not documents:
        return None
    return Checklist(tuple(questions), tuple(documents), tuple(sources), reviewed)


class _Texts:
    """Reads a checklist's texts, which must be written in every enabled language: a checklist
    is read before an appointment, and a document named only in Italian helps nobody who came
    to ask for it in their own language."""

    def __init__(self, reader: _FileReader, languages: set[str], required: tuple[str, ...]) -> None:
        self.reader = reader
        self.languages = languages
        self.required = required

    def read(
        self, item: YamlDict, key: str, what: str, max_length: int | None = None
    ) -> Localized | None:
        if key not in item:
            return None
        text = self.reader.localized(item, key, what, self.languages, max_length)
        if text is None:
            return None
        missing = [code for code in self.required if code not in text.values]
        if missing:
            self.reader.error(
                item.key_lines[key],
                f"{what} {key!r} has no text in: {', '.join(missing)} (a checklist needs "
                "every enabled language)",
            )
            return None
        return text


def _entries(reader: _FileReader, block: YamlDict, key: str, what: str) -> list[tuple[Any, int]]:
    value = block.get(key)
    if not isinstance(value, YamlList) or not value:
        reader.error(block.key_lines.get(key, block.line), f"{key!r} must be a list of {what}")
        return []
    return list(zip(value, value.item_lines, strict=True))


def _questions(
    reader: _FileReader, block: YamlDict, texts: _Texts
) -> tuple[list[Question], set[str]]:
    """The questions that read well, and the ids of all (a document's condition on a question
    with a mistake of its own is not blamed too)."""
    declared: set[str] = set()
    if "questions" not in block:
        return [], declared
    entries = _entries(reader, block, "questions", "questions")
    if len(entries) > MAX_QUESTIONS:
        reader.error(
            block.key_lines["questions"],
            f"a checklist asks at most {MAX_QUESTIONS} questions, not {len(entries)}",
        )
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for entry, line in entries:
        item = reader.mapping(entry, line, "a question", ("id", "text", "answers"), ())
        if item is None:
            continue
        question_id = reader.identifier(item, "id", "question")
        declared.add(question_id or "")
        text = texts.read(item, "text", "question", 200)
        answers = _answers(reader, item, texts)
        if question_id is not None and question_id in seen:
            reader.error(
                item.key_lines["id"],
                f"question {question_id!r} is listed twice (first on line {seen[question_id]})",
            )
            continue
        if question_id is None or text is None or not answers:
            continue
        seen[question_id] = line
        questions.append(Question(question_id, text, tuple(answers)))
    return questions, declared


def _answers(reader: _FileReader, question: YamlDict, texts: _Texts) -> list[Answer]:
    if "answers" not in question:
        return []
    entries = _entries(reader, question, "answers", "answers")
    if entries and not 2 <= len(entries) <= MAX_ANSWERS:
        reader.error(
            question.key_lines["answers"],
            f"a question offers from 2 to {MAX_ANSWERS} answers, not {len(entries)}",
        )
    answers: list[Answer] = []
    for entry, line in entries:
        item = reader.mapping(entry, line, "an answer", ("id", "text"), ())
        if item is None:
            continue
        if isinstance(item.get("id"), bool):
            reader.error(item.key_lines["id"], "answer 'id' is not a text", BOOLEAN_HINT)
            continue
        answer_id = reader.identifier(item, "id", "answer")
        text = texts.read(item, "text", "answer", MAX_LABEL)
        if answer_id is not None and any(answer.id == answer_id for answer in answers):
            reader.error(item.key_lines["id"], f"answer {answer_id!r} is listed twice")
            continue
        if answer_id is not None and text is not None:
            answers.append(Answer(answer_id, text))
    return answers


def _documents(
    reader: _FileReader,
    block: YamlDict,
    texts: _Texts,
    questions: dict[str, Question],
    declared: set[str],
) -> list[Document]:
    entries = _entries(reader, block, "documents", "documents") if "documents" in block else []
    documents: list[Document] = []
    for entry, line in entries:
        item = reader.mapping(entry, line, "a document", ("id", "name", "text"), ("when",))
        if item is None:
            continue
        document_id = reader.identifier(item, "id", "document")
        if "name" not in item:
            reader.error(
                item.line,
                "a document needs 'name': its Italian name, as the offices call it "
                "(shown beside the translation)",
            )
        name = reader.string(item, "name", "document")
        text = texts.read(item, "text", "document", 200)
        when = _condition(reader, item, questions, declared)
        if document_id is not None and any(d.id == document_id for d in documents):
            reader.error(item.key_lines["id"], f"document {document_id!r} is listed twice")
            continue
        if document_id is None or name is None or text is None or when is None:
            continue
        documents.append(Document(document_id, name, text, MappingProxyType(when)))
    return documents


def _condition(
    reader: _FileReader, item: YamlDict, questions: dict[str, Question], declared: set[str]
) -> dict[str, frozenset[str]] | None:
    """``when: {permit: [work, study]}``: the document is needed for those answers."""
    if "when" not in item:
        return {}
    value = item["when"]
    if not isinstance(value, YamlDict) or not value:
        reader.error(
            item.key_lines["when"],
            "'when' must map question ids to answers, such as when: {permit: [work]}",
        )
        return None
    condition: dict[str, frozenset[str]] = {}
    valid = True
    for question_id, wanted in value.items():
        line = value.key_lines[question_id]
        question = questions.get(question_id)
        if question is None and question_id in declared:
            valid = False  # the question's own mistake is reported where it is
            continue
        if question is None:
            known = ", ".join(questions) or "none"
            reader.error(
                line, f"'when' names the unknown question {question_id!r} (questions: {known})"
            )
            valid = False
            continue
        names = [wanted] if isinstance(wanted, str | bool) else wanted
        if isinstance(names, list) and any(isinstance(name, bool) for name in names):
            reader.error(line, f"'when' for {question_id!r} is not an answer id", BOOLEAN_HINT)
            valid = False
            continue
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            reader.error(line, f"'when' for {question_id!r} must be an answer id or a list of them")
            valid = False
            continue
        offered = [answer.id for answer in question.answers]
        for answer_id in names:
            if answer_id not in offered:
                reader.error(
                    line,
                    f"question {question_id!r} has no answer {answer_id!r} "
                    f"(answers: {', '.join(offered)})",
                )
                valid = False
        condition[question_id] = frozenset(names)
    return condition if valid else None
