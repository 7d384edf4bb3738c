"""Content loading and validation: every kind of error, with its file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.content.loader import ContentError, load_catalog, validate
from tests.conftest import REPO_CONTENT, TODAY


def errors_of(root: Path) -> list[str]:
    return [str(issue) for issue in validate(root, today=TODAY).errors]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_content_loads_into_an_immutable_catalog(catalog: Catalog) -> None:
    assert catalog.root == "main"
    assert set(catalog.topics) == {"permit_renewal", "permit_lost", "counter_hours"}
    assert [lang.code for lang in catalog.enabled_languages] == ["it", "en", "fr", "ar"]
    topic = catalog.topics["permit_renewal"]
    assert topic.reviewed == date(2026, 11, 20)
    assert topic.actions[0].service == "permit_renewal"
    with pytest.raises(TypeError):
        catalog.topics["x"] = topic  # type: ignore[index]
    with pytest.raises(AttributeError):
        catalog.root = "other"  # type: ignore[misc]


def test_the_repository_content_is_valid() -> None:
    validation = validate(REPO_CONTENT)
    assert validation.errors == []
    assert validation.catalog is not None
    areas = {topic.area for topic in validation.catalog.topics.values()}
    assert areas >= {
        "permits",
        "family_reunification",
        "a2_test",
        "citizenship",
        "health",
        "counter",
    }
    for topic in validation.catalog.topics.values():
        assert "it" in topic.answer and "en" in topic.answer, topic.id
        assert topic.sources, topic.id


def test_language_chain(catalog: Catalog) -> None:
    assert catalog.chain("ar") == ("ar", "fr", "en", "it")
    assert catalog.chain("it") == ("it",)
    assert catalog.chain("xx") == ("xx", "it")


#: Broken content, one mistake each: (file, text replaced, replacement, error expected).
BROKEN_CASES = [
    (
        "topics/permit_lost.yaml",
        "answer:",
        "anwser:",
        "topics/permit_lost.yaml:7: unknown key 'anwser'",
    ),
    (
        "topics/permit_lost.yaml",
        "answer:",
        "anwser:",
        "topics/permit_lost.yaml:1: a topic is missing the required key 'answer'",
    ),
    (
        "topics/permit_lost.yaml",
        "reviewed: 2026-11-20",
        "reviewed: 2026-13-45",
        "topics/permit_lost.yaml:3: 'reviewed' must be a date",
    ),
    (
        "topics/permit_lost.yaml",
        "reviewed: 2026-11-20",
        "reviewed: yesterday",
        "topics/permit_lost.yaml:3: 'reviewed' must be a date",
    ),
    (
        "topics/permit_lost.yaml",
        "reviewed: 2026-11-20",
        "reviewed: 2027-01-01",
        "topics/permit_lost.yaml:3: 'reviewed' date 2027-01-01 is in the future",
    ),
    (
        "topics/permit_lost.yaml",
        "  en: Report the loss to the police, then ask the counter.",
        '  en: ""',
        "topics/permit_lost.yaml:9: empty 'answer' in 'en'",
    ),
    (
        "topics/permit_lost.yaml",
        "  en: Report the loss to the police, then ask the counter.",
        "  en:",
        "topics/permit_lost.yaml:9: empty 'answer' in 'en'",
    ),
    (
        "topics/permit_lost.yaml",
        "  it: Denuncia lo",
        "  xx: Denuncia lo",
        "topics/permit_lost.yaml:8: unknown language 'xx' in 'answer'",
    ),
    (
        "topics/permit_lost.yaml",
        "  it: Denuncia lo",
        "  fr: Denuncia lo",
        "topics/permit_lost.yaml:7: topic 'answer' has no Italian text",
    ),
    (
        "topics/permit_lost.yaml",
        "area: permits",
        "area: weather",
        "topics/permit_lost.yaml:2: unknown area 'weather'",
    ),
    (
        "desk.yaml",
        "name: {it: Sportello di prova di Luino, en: Luino test counter}",
        "name: {en: Luino test counter}",
        "desk.yaml:2: desk 'name' has no Italian text ('it')",
    ),
    (
        "desk.yaml",
        "  it: Lo sportello di prova.\n",
        "  it: " + "x" * 121 + "\n",
        "desk.yaml:14: 'short_description' in 'it' is 121 characters; at most 120",
    ),
    (
        "desk.yaml",
        "  - id: work\n",
        "  - id: permits\n",
        "area 'permits' is listed twice",
    ),
    (
        "desk.yaml",
        "    words: [casa]",
        "    words: [casa, permesso]",
        "'permesso' already names the area 'permits': a word names one area",
    ),
    (
        "desk.yaml",
        "    words: [casa]",
        "    words: [la casa]",
        "'words' must be a list of single words",
    ),
    (
        "desk.yaml",
        "    name: Casa\n",
        "",
        "desk.yaml:43: an area is missing the required key 'name'",
    ),
    ("desk.yaml", "welcome:", "welcom:", "desk.yaml:3: unknown key 'welcom' in desk.yaml"),
    (
        "topics/permit_lost.yaml",
        "id: permit_lost",
        "id: permit_found",
        "must equal the file name 'permit_lost'",
    ),
    (
        "topics/permit_lost.yaml",
        "id: permit_lost",
        "id: Permit Lost",
        "topics/permit_lost.yaml:1: topic id 'Permit Lost' must be lowercase",
    ),
    (
        "topics/permit_lost.yaml",
        "status: {it: reviewed}",
        "status: {it: approved}",
        "topics/permit_lost.yaml:10: status of 'it' must be 'reviewed' or 'draft'",
    ),
    (
        "topics/permit_lost.yaml",
        "status: {it: reviewed}",
        "status: {it: reviewed, ar: draft}",
        "status given for 'ar', which has no answer",
    ),
    (
        "topics/permit_lost.yaml",
        "  - url: https://www.poliziadistato.it",
        "  - url: www.poliziadistato",
        "is not a web address",
    ),
    (
        "topics/permit_lost.yaml",
        "    read: 2026-11-20",
        "    read: last week",
        "topics/permit_lost.yaml:17: 'read' must be the date the page was read, like "
        "2026-11-30, got 'last week'",
    ),
    (
        "topics/permit_renewal.yaml",
        "law:\n  - D.Lgs. 286/1998 art. 5",
        "law: D.Lgs. 286/1998",
        "topics/permit_renewal.yaml:32: 'law' must be a list of norms",
    ),
    (
        "phrasings/en.yaml",
        "  permit_lost:",
        "  permit_found:",
        "phrasings/en.yaml:9: unknown topic 'permit_found' in 'topics'",
    ),
    (
        "phrasings/en.yaml",
        "language: en",
        "language: fr",
        "phrasings/en.yaml:2: language 'fr' must equal the file name 'en'",
    ),
    (
        "phrasings/en.yaml",
        "  human:",
        "  dance:",
        "phrasings/en.yaml:18: unknown intent that phrasings can teach 'dance' in 'intents'",
    ),
    (
        "phrasings/it.yaml",
        'off_topic:\n  - "che tempo fa domani"',
        'off_topic: "che tempo fa domani"\nx:\n  - "y"',
        "phrasings/it.yaml:19: 'off_topic' must be a list of non-empty texts",
    ),
    (
        "phrasings/it.yaml",
        '    - "io volere rinnovare permesso"',
        "    - 12",
        "phrasings/it.yaml:4: 'topics' in 'permit_renewal' must be a list of non-empty texts",
    ),
    (
        "phrasings/it.yaml",
        '    - "io volere rinnovare permesso"',
        '    - "  "',
        "phrasings/it.yaml:4: 'topics' in 'permit_renewal' must be a list of non-empty texts",
    ),
    (
        "topics/permit_lost.yaml",
        "area: permits",
        "area: permits\nintent: dance",
        "topics/permit_lost.yaml:3: 'intent' must be one of: booking, cancel, checklist, danger, "
        "deadlines, human, my_appointments, got 'dance'",
    ),
    (
        "offices.yaml",
        "      capacity: 2",
        "      capacity: 2\n      province: Varese",
        "offices.yaml:16: unknown province 'Varese': use the two-letter code",
    ),
    (
        "offices.yaml",
        "      services: [family_reunification]",
        "      services: [family_reunification, permit_renewal]",
        "offices.yaml:21: 'permit_renewal' is booked by slots in 'booking': an office "
        "takes a service one way",
    ),
    (
        "offices.yaml",
        "      remind_after_hours: 8",
        "      remind_after_hours: 8\n      staff_hours: 9-17",
        "offices.yaml:23: '9-17' is not a span of the day like 09:00-17:00",
    ),
    (
        "offices.yaml",
        "      remind_after_hours: 8",
        "      remind_after_hours: soon",
        "offices.yaml:22: 'remind_after_hours' must be a whole number from 1 to 80",
    ),
    (
        "offices.yaml",
        "      remind_after_hours: 8",
        "      remind_after_hours: 8\n      weekly: {mon: [09:00-12:00]}",
        "offices.yaml:23: unknown key 'weekly' in 'requests'",
    ),
    (
        "offices.yaml",
        "      services: [family_reunification]",
        "      services: [family_reunification, a2_test]",
        "offices.yaml:21: unknown service 'a2_test': there is no services/a2_test.yaml "
        "(the services are: family_reunification, permit_renewal)",
    ),
    (
        "topics/permit_lost.yaml",
        "sources:\n  - url: https://www.poliziadistato.it/articolo/10619\n"
        "    title: Polizia di Stato - Permesso di soggiorno\n    read: 2026-11-20\n",
        "sources: []\n",
        "'sources' must be a non-empty list",
    ),
    (
        "topics/permit_lost.yaml",
        "sources:\n  - url: https://www.poliziadistato.it/articolo/10619\n"
        "    title: Polizia di Stato - Permesso di soggiorno\n    read: 2026-11-20\n",
        "",
        "a topic is missing the required key 'sources'",
    ),
    (
        "topics/permit_renewal.yaml",
        "children: [permit_lost]",
        "children: [permit_missing]",
        "topics/permit_renewal.yaml:34: 'permit_renewal' refers to 'permit_missing', "
        "which does not exist",
    ),
    (
        "topics/permit_renewal.yaml",
        "children: [permit_lost]",
        "children: [main]",
        "children of topic 'permit_renewal' must be topics",
    ),
    (
        "topics/permit_renewal.yaml",
        "  - book: permit_renewal",
        "  - book: haircut",
        "topics/permit_renewal.yaml:36: unknown service 'haircut'",
    ),
    (
        "topics/permit_renewal.yaml",
        "  - human: true",
        "  - dance: true",
        "topics/permit_renewal.yaml:37: unknown action 'dance'",
    ),
    (
        "topics/permit_renewal.yaml",
        "  it: Rinnovo del permesso\n",
        "  it: " + "x" * 61 + "\n",
        "'title' in 'it' is 61 characters; at most 60",
    ),
    (
        "menu.yaml",
        "items: [menu_permits, counter_hours]",
        "items: [menu_permits, counter_hours, nowhere]",
        "menu.yaml:6: 'main' refers to 'nowhere', which does not exist",
    ),
    (
        "menu.yaml",
        "items: [menu_permits, counter_hours]",
        "items: [menu_permits]",
        "topics/counter_hours.yaml:1: 'counter_hours' cannot be reached from the root menu 'main'",
    ),
    (
        "menu.yaml",
        "  - id: menu_permits",
        "  - id: counter_hours",
        "duplicate id 'counter_hours'",
    ),
    ("menu.yaml", "root: main", "root: start", "menu.yaml:1: root menu 'start' is not defined"),
    (
        "menu.yaml",
        "root: main",
        "root: main\nroot: other",
        "menu.yaml:2: invalid YAML: duplicate key 'root'",
    ),
    (  # where the bracket opened, not line 8 where YAML gave up
        "menu.yaml",
        "  - id: menu_permits",
        "  - id: [unclosed",
        "menu.yaml:7: a bracket ([) opens here and is not closed on this line",
    ),
    (
        "languages.yaml",
        "default: it",
        "default: de",
        "languages.yaml:1: default language 'de' is not enabled",
    ),
    (
        "languages.yaml",
        "    fallback: [en, it]",
        "    fallback: [en, klingon]",
        "language 'fr' falls back to unknown 'klingon'",
    ),
    ("languages.yaml", "  - code: fr", "  - code: en", "language 'en' is listed twice"),
    ("languages.yaml", "    rtl: true", "    rtl: maybe", "'rtl' must be true or false"),
    (
        "offices.yaml",
        "    address: Cittiglio (VA)",
        "    adress: Cittiglio (VA)",
        "offices.yaml:26: unknown key 'adress'",
    ),
    ("offices.yaml", "  - id: cittiglio", "  - id: luino", "duplicate office id 'luino'"),
    (
        "offices.yaml",
        "    phone: 0332 536727",
        "    phone: 0332536727",
        "offices.yaml:5: office 'phone' looks like a number: put it in quotes",
    ),
    ("languages.yaml", "default: it", "default: [it]", "'default' must be a language code"),
    (
        "offices.yaml",
        '        mon: ["09:00-12:30", "14:00-16:00"]',
        '        mon: ["9-12"]',
        "offices.yaml:12: '9-12' is not an opening time",
    ),
    (
        "offices.yaml",
        '        wed: ["09:00-12:30"]',
        '        wen: ["09:00-12:30"]',
        "offices.yaml:13: unknown weekday 'wen'",
    ),
    (
        "offices.yaml",
        "      code: LU",
        "      code: luino",
        "'code' must be two capital letters",
    ),
    (
        "offices.yaml",
        "      services: [permit_renewal]",
        "      services: [haircut]",
        "unknown service 'haircut'",
    ),
    (
        "offices.yaml",
        "      services: [permit_renewal]",
        "      services: [permit_renewal, a2_test]",
        "offices.yaml:10: unknown service 'a2_test': there is no services/a2_test.yaml",
    ),
    (
        "offices.yaml",
        "      capacity: 2",
        "      capacity: 0",
        "'capacity' must be a number from 1 to 50",
    ),
    ("offices.yaml", "        - 2026-12-24", "        - tomorrow", "'tomorrow' is not a date"),
    (
        "services/permit_renewal.yaml",
        "minutes: 30",
        "minutes: half an hour",
        "'minutes' must be a whole number",
    ),
    (
        "services/permit_renewal.yaml",
        "id: permit_renewal",
        "id: permit_lost",
        "service id 'permit_lost' must equal the file name 'permit_renewal'",
    ),
    ("intents.yaml", "  thanks:", "  thank:", "intents.yaml:11: unknown intent 'thank'"),
    (
        "intents.yaml",
        "  help: {it: [aiuto]",
        "  help: {it: aiuto",
        "'help' in 'it' must be a list of non-empty texts",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), BROKEN_CASES)
def test_each_error_is_reported_with_file_and_line(
    content_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(content_copy / file, old, new)
    errors = errors_of(content_copy)
    assert any(expected in error for error in errors), errors
    with pytest.raises(ContentError):
        load_catalog(content_copy, today=TODAY)


def test_duplicate_topic_id_across_files(content_copy: Path) -> None:
    copy = content_copy / "topics" / "permit_lost_copy.yaml"
    copy.write_text(
        (content_copy / "topics" / "permit_lost.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    errors = errors_of(content_copy)
    assert any("must equal the file name 'permit_lost_copy'" in error for error in errors), errors


def test_duplicate_id_between_topic_and_menu(content_copy: Path) -> None:
    edit(content_copy / "menu.yaml", "  - id: menu_permits", "  - id: permit_lost")
    errors = errors_of(content_copy)
    assert any("duplicate id 'permit_lost'" in error for error in errors), errors


def test_missing_file_and_non_utf8_file(content_copy: Path) -> None:
    (content_copy / "offices.yaml").unlink()
    (content_copy / "topics" / "permit_lost.yaml").write_bytes(b"id: \xff\xfe")
    errors = errors_of(content_copy)
    assert any(e.startswith("offices.yaml:1: cannot read the file") for e in errors), errors
    assert any(
        "topics/permit_lost.yaml:1: invalid YAML: the file is not UTF-8" in e for e in errors
    ), errors


def test_all_errors_are_reported_at_once(content_copy: Path) -> None:
    edit(content_copy / "topics" / "permit_lost.yaml", "area: permits", "area: weather")
    edit(content_copy / "topics" / "counter_hours.yaml", "reviewed: 2025-01-10", "reviewed: soon")
    assert len(errors_of(content_copy)) >= 2


def test_long_answer_is_a_warning_not_an_error(content_copy: Path) -> None:
    edit(
        content_copy / "topics" / "permit_lost.yaml",
        "  it: Denuncia lo smarrimento alla polizia, poi chiedi allo sportello.",
        "  it: " + "parola " * 150,
    )
    validation = validate(content_copy, today=TODAY)
    assert validation.catalog is not None
    assert any("keep it under 900" in str(warning) for warning in validation.warnings)


def test_missing_folder(tmp_path: Path) -> None:
    assert "does not exist" in errors_of(tmp_path / "nope")[0]


def test_an_office_may_take_some_services_by_slots_and_others_by_request(
    catalog: Catalog,
) -> None:
    luino = catalog.offices[0]
    assert luino.requests is not None
    assert (luino.requests.code, luino.requests.services) == ("LU", ("family_reunification",))
    assert luino.requests.staff_hours == ("09:00", "17:00")  # not opening hours: staff's day
    assert luino.takes("permit_renewal") == "slots"
    assert luino.takes("family_reunification") == "requests"
    assert luino.takes("citizenship") is None
    assert catalog.offices[1].takes("family_reunification") is None


def test_the_repository_content_takes_requests_at_luino_without_opening_hours() -> None:
    from tests.conftest import REPO_CONTENT

    luino = load_catalog(REPO_CONTENT).office("luino")
    assert luino is not None and luino.booking is None  # no hours invented
    assert luino.requests is not None and "permit_renewal" in luino.requests.services


def test_a_broken_topic_file_gives_one_error_not_one_per_file_naming_it(
    repo_content_copy: Path,
) -> None:
    # The menu lists permit_lost and every phrasings file teaches it: none of them is wrong.
    edit(repo_content_copy / "topics" / "permit_lost.yaml", "  en: Lost", "  en: Lost: ")
    errors = errors_of_today(repo_content_copy)
    assert len(errors) == 1, errors
    assert errors[0].startswith("topics/permit_lost.yaml:6: a colon followed by a space")


def test_a_topic_that_fails_its_checks_gives_no_false_menu_error(repo_content_copy: Path) -> None:
    edit(repo_content_copy / "topics" / "permit_lost.yaml", "area: permits", "area: pizza")
    errors = errors_of_today(repo_content_copy)
    assert len(errors) == 1, errors
    assert errors[0].startswith("topics/permit_lost.yaml:2: unknown area 'pizza'")


def test_the_children_of_a_broken_topic_are_not_called_unreachable(content_copy: Path) -> None:
    # permit_lost is then reached only as a child of permit_renewal.
    edit(
        content_copy / "menu.yaml",
        "items: [permit_renewal, permit_lost]",
        "items: [permit_renewal]",
    )
    edit(content_copy / "topics" / "permit_renewal.yaml", "area: permits", "area: pizza")
    errors = errors_of(content_copy)
    assert errors == [
        "topics/permit_renewal.yaml:2: unknown area 'pizza' (one of: permits, "
        "family_reunification, a2_test, long_term_permit, citizenship, work, school, housing, "
        "health, social_services, mediation, counter, protection, registry, emergency)"
    ], errors


def test_a_broken_languages_file_gives_one_error_not_one_per_text(
    repo_content_copy: Path,
) -> None:
    edit(repo_content_copy / "languages.yaml", "  - code: en", "  -code: en")
    errors = errors_of_today(repo_content_copy)
    assert errors == [
        "languages.yaml:8: '-' without a space after it: YAML reads '-code: en' as a text, "
        "not as an item of a list"
    ], errors


def test_a_broken_service_file_is_not_reported_again_by_the_offices(
    repo_content_copy: Path,
) -> None:
    edit(repo_content_copy / "services" / "permit_renewal.yaml", "minutes: 30", "minutes: ?")
    errors = errors_of_today(repo_content_copy)
    assert len(errors) == 1, errors
    assert errors[0].startswith("services/permit_renewal.yaml:")


def test_a_topic_that_really_is_missing_is_still_reported(repo_content_copy: Path) -> None:
    (repo_content_copy / "topics" / "permit_lost.yaml").unlink()
    errors = errors_of_today(repo_content_copy)
    assert any(
        "'menu_permits' refers to 'permit_lost', which does not exist" in e for e in errors
    ), errors
    assert any("phrasings/it.yaml" in e and "unknown topic 'permit_lost'" in e for e in errors)


def errors_of_today(root: Path) -> list[str]:
    """The repository's content was reviewed recently: checked against the real date."""
    return [str(issue) for issue in validate(root).errors]


def test_a_folder_without_desk_yaml_says_what_it_is_for(content_copy: Path) -> None:
    (content_copy / "desk.yaml").unlink()
    errors = errors_of(content_copy)
    assert errors == [
        "desk.yaml:0: desk.yaml is missing: it names the counter and lists the areas of its "
        "topics (see content/README.md)"
    ], errors


def test_the_counter_and_its_areas_come_from_desk_yaml(catalog: Catalog) -> None:
    desk = catalog.desk
    assert desk.name.values == {"it": "Sportello di prova di Luino", "en": "Luino test counter"}
    assert desk.welcome.values["fr"].startswith("Bienvenue au guichet d'essai.")
    permits = desk.area("permits")
    assert permits is not None and permits.words == ("permesso", "permessi")
    assert catalog.area_name("housing") == "Casa"
    assert catalog.area_name("weather") == "weather"  # an area an older content had


def test_the_services_are_the_files_in_the_order_the_offices_list_them(
    content_copy: Path,
) -> None:
    """Any id is a service once its file exists; users choose in the offices' order."""
    renewal = (content_copy / "services" / "permit_renewal.yaml").read_text(encoding="utf-8")
    (content_copy / "services" / "haircut.yaml").write_text(
        renewal.replace("id: permit_renewal", "id: haircut"), encoding="utf-8"
    )
    edit(
        content_copy / "offices.yaml",
        "services: [permit_renewal]",
        "services: [haircut, permit_renewal]",
    )
    catalog = load_catalog(content_copy, today=TODAY)
    assert list(catalog.services) == ["haircut", "permit_renewal", "family_reunification"]
