"""Checklists of documents: conditions on the answers, what `content check` refuses (at its
line), and the list as a user reads it."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from bot.booking.checklists import checklist_text, document_line, to_bring
from bot.content.checklist import Document, decode_answers, encode_answers
from bot.content.loader import load_catalog, validate
from bot.content.schema import Localized
from bot.i18n import Interface
from tests.auxil.checklists import CHECKLIST, add_checklist
from tests.conftest import REPO_CONTENT, TODAY


def line_of(path: Path, needle: str, after: int = 0) -> int:
    """The number of the first line holding ``needle`` after line ``after``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if n > after and needle in line)


def errors_of(root: Path) -> list[str]:
    return [str(issue) for issue in validate(root, today=TODAY).errors]


def document(when: dict[str, set[str]]) -> Document:
    condition = {question: frozenset(answers) for question, answers in when.items()}
    return Document("d", "documento", Localized(), MappingProxyType(condition))


# -- conditions ----------------------------------------------------------------------------


def test_a_document_without_a_condition_is_always_needed() -> None:
    assert document({}).needed({}) is True
    assert document({}).needed({"permit": "work"}) is True


def test_every_question_of_a_condition_must_have_one_of_its_answers() -> None:
    form = document({"kit": {"yes"}, "permit": {"work", "study"}})
    assert form.needed({"kit": "yes", "permit": "study"}) is True
    assert form.needed({"kit": "no", "permit": "work"}) is False
    assert form.needed({"kit": "yes", "permit": "family"}) is False


def test_a_skipped_question_leaves_the_document_in_doubt_unless_another_rules_it_out() -> None:
    form = document({"kit": {"yes"}, "permit": {"work"}})
    assert form.needed({"kit": "yes"}) is None
    assert form.needed({}) is None
    assert form.needed({"kit": "no"}) is False  # whatever the permit, not needed


def test_answers_are_kept_as_ids_and_read_back(content_copy: Path) -> None:
    assert encode_answers({"permit": "work", "kit": "yes"}) == "kit=yes;permit=work"
    assert decode_answers("kit=yes;permit=work") == {"kit": "yes", "permit": "work"}
    assert decode_answers("") == decode_answers(None) == {}
    assert decode_answers("kit=;=yes;nonsense;permit=work") == {"permit": "work"}


def test_the_personal_list_from_the_content(content_copy: Path) -> None:
    add_checklist(content_copy)
    checklist = load_catalog(content_copy, today=TODAY).services["permit_renewal"].checklist
    assert checklist is not None
    assert [q.id for q in checklist.questions] == ["permit", "kit"]

    def ids(answers: dict[str, str]) -> tuple[list[str], list[str]]:
        personal = checklist.personal(answers)
        return [d.id for d in personal.needed], [d.id for d in personal.maybe]

    assert ids({"permit": "work", "kit": "yes"}) == (["passport", "form_2"], [])
    assert ids({"permit": "family", "kit": "yes"}) == (["passport", "family_papers"], [])
    assert ids({"permit": "work"}) == (["passport"], ["form_2"])
    assert ids({}) == (["passport"], ["form_2", "family_papers"])
    # Answers the content no longer offers count as skipped (an editor removed them).
    assert ids({"permit": "study", "gone": "x", "kit": "yes"}) == (
        ["passport"],
        ["form_2", "family_papers"],
    )


# -- what `content check` refuses ----------------------------------------------------------


def test_the_repository_checklists_are_valid_and_in_every_language() -> None:
    catalog = load_catalog(REPO_CONTENT)
    with_lists = [s for s in catalog.services.values() if s.checklist is not None]
    assert {service.id for service in with_lists} >= {"permit_renewal"}
    codes = {language.code for language in catalog.enabled_languages}
    for service in with_lists:
        assert service.checklist is not None
        assert service.checklist.sources, service.id
        for question in service.checklist.questions:
            assert set(question.text.values) == codes, (service.id, question.id)
        for item in service.checklist.documents:
            assert set(item.text.values) == codes, (service.id, item.id)
            assert item.name.strip(), (service.id, item.id)


@pytest.mark.parametrize(
    ("old", "new", "anchor", "message"),
    [
        (
            "when: {permit: family}",
            "when: {permits: family}",
            "when: {permits",
            "'when' names the unknown question 'permits' (questions: permit, kit)",
        ),
        (
            "when: {permit: family}",
            "when: {permit: famly}",
            "when: {permit: famly}",
            "question 'permit' has no answer 'famly' (answers: work, family)",
        ),
        (
            "      name: passaporto\n",
            "",
            "- id: passport",
            "a document needs 'name': its Italian name, as the offices call it",
        ),
        (
            "        ar: أوراق العائلة\n",
            "",
            "it: I documenti sulla famiglia",
            "document 'text' has no text in: ar (a checklist needs every enabled language)",
        ),
        (
            '- id: "yes"',
            "- id: yes",
            "- id: yes",
            "answer 'id' is not a text",
        ),
        (
            'when: {kit: "yes", permit: work}',
            "when: {kit: yes, permit: work}",
            "when: {kit: yes",
            "'when' for 'kit' is not an answer id",
        ),
        (
            "  reviewed: 2026-11-20\n",
            "  reviewed: last week\n",
            "reviewed: last week",
            "'reviewed' must be the date the checklist was last checked",
        ),
        (
            "  questions:\n",
            "  questons:\n",
            "questons:",
            "unknown key 'questons' in 'checklist'",
        ),
    ],
)
def test_mistakes_are_named_at_their_line(
    content_copy: Path, old: str, new: str, anchor: str, message: str
) -> None:
    assert old in CHECKLIST
    path = add_checklist(content_copy, CHECKLIST.replace(old, new, 1))
    after = line_of(path, "checklist:")
    line = line_of(path, anchor, after - 1)
    if anchor == "it: I documenti sulla famiglia":
        line -= 1  # the 'text:' key above it
    errors = errors_of(content_copy)
    assert any(
        error.startswith(f"services/permit_renewal.yaml:{line}: {message}") for error in errors
    ), errors


def test_yes_and_no_unquoted_get_a_hint(content_copy: Path) -> None:
    add_checklist(content_copy, CHECKLIST.replace('- id: "no"', "- id: no", 1))
    (issue,) = validate(content_copy, today=TODAY).errors
    assert issue.hint is not None and 'need quotes here ("no")' in issue.hint


def test_a_checklist_asks_a_few_questions_only(content_copy: Path) -> None:
    question = CHECKLIST.split("  questions:\n", 1)[1].split("    - id: kit", 1)[0]
    many = "".join(question.replace("id: permit", f"id: q{n}") for n in range(4))
    path = add_checklist(content_copy, CHECKLIST.replace("  questions:\n", "  questions:\n" + many))
    errors = errors_of(content_copy)
    line = line_of(path, "  questions:")
    assert f"services/permit_renewal.yaml:{line}: a checklist asks at most 4 questions, not 6" in (
        errors
    )


def test_a_question_with_a_mistake_is_not_blamed_again_in_conditions(content_copy: Path) -> None:
    add_checklist(content_copy, CHECKLIST.replace("        ar: ما هو تصريحك؟\n", "", 1))
    errors = errors_of(content_copy)
    assert len(errors) == 1 and "question 'text' has no text in: ar" in errors[0]


# -- the list as a user reads it -------------------------------------------------------------


def test_the_list_in_the_users_language_has_the_italian_names_beside(
    content_copy: Path, interface: Interface
) -> None:
    add_checklist(content_copy)
    catalog = load_catalog(content_copy, today=TODAY)
    service = catalog.services["permit_renewal"]
    assert service.checklist is not None
    english = checklist_text(
        catalog, service.checklist, {"permit": "work"}, "en", interface.translator("en")
    )
    assert english.splitlines() == [
        "- Passport and a photocopy (passaporto)",
        "",
        "Also, if it applies to you:",
        "- Form 2 of the kit (Modulo 2 del kit)",
        "",
        "The counter will tell you if anything else is needed.",
    ]
    italian = to_bring(catalog, service, "kit=yes;permit=work", "it", interface.translator("it"))
    assert italian.splitlines()[:2] == ["- Passaporto e fotocopia", "- Il Modulo 2 del kit"]
    assert (
        document_line(catalog, service.checklist.documents[0], "ar") == "- جواز السفر (passaporto)"
    )


def test_a_service_without_a_checklist_keeps_its_documents_text(
    catalog: object, interface: Interface
) -> None:
    from bot.content.catalog import Catalog

    assert isinstance(catalog, Catalog)
    service = catalog.services["permit_renewal"]
    assert service.checklist is None
    text = to_bring(catalog, service, "permit=work", "en", interface.translator("en"))
    assert text == catalog.localize(service.documents, "en").text


def test_a_checklist_button_needs_the_services_checklist(content_copy: Path) -> None:
    topic = content_copy / "topics" / "permit_renewal.yaml"
    text = topic.read_text(encoding="utf-8")
    topic.write_text(text.replace("  - human: true\n", "  - checklist: permit_renewal\n", 1))
    line = line_of(topic, "- checklist: permit_renewal")
    assert errors_of(content_copy) == [
        f"topics/permit_renewal.yaml:{line}: the action 'checklist: permit_renewal' needs a "
        "'checklist:' in services/permit_renewal.yaml (or use '- checklist: true')"
    ]
    add_checklist(content_copy)
    catalog = load_catalog(content_copy, today=TODAY)
    assert [a.id for a in catalog.topics["permit_renewal"].actions][
        -1
    ] == "checklist:permit_renewal"
