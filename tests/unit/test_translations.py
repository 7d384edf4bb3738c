"""Translations that know when they are stale; PO and XLSX export and import (issue #18)."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from openpyxl import load_workbook

from bot.cli import main
from bot.content.catalog import Catalog
from bot.content.fingerprints import fingerprint
from bot.content.loader import load_catalog
from bot.content.translations import stale_counts
from bot.content.yamledit import YamlEditor
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.monitoring.stats import Summary
from bot.monitoring.tables import as_text
from tests.auxil.chat import Conversation
from tests.conftest import REPO_CONTENT, TODAY

OTHERS = ("en", "fr", "ar", "es", "sq", "uk", "ur", "zh", "bn")
A2_ITALIAN = "(livello base) serve per chiedere"


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped content, stamped once (a no-op when the repository's already is)."""
    root = tmp_path_factory.mktemp("stamped") / "content"
    shutil.copytree(REPO_CONTENT, root)
    assert sportello("content", "stamp", "--content", str(root))[0] == 0
    return root


@pytest.fixture
def content(stamped: Path, tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(stamped, root)
    return root


def sportello(*argv: str) -> tuple[int, str]:
    """Run the command line; its exit status and what it printed."""
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def files(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((root / "topics").glob("*.yaml"))}


def load(root: Path) -> Catalog:
    return load_catalog(root, today=date.today())


def test_fingerprint_ignores_spacing_not_words() -> None:
    assert fingerprint("Chiedi il rinnovo\n  prima. ") == fingerprint("Chiedi il rinnovo prima.")
    assert fingerprint("Chiedi il rinnovo prima.") != fingerprint("Chiedi il rinnovo dopo.")
    assert len(fingerprint("x")) == 8


def test_shipped_content_is_stamped_and_nothing_is_stale() -> None:
    catalog = load_catalog(REPO_CONTENT)
    assert all(not topic.stale for topic in catalog.topics.values())
    for topic in catalog.topics.values():
        assert set(topic.translations) == set(topic.answer.values) - {"it"}, topic.id


def test_changing_an_italian_answer_makes_the_other_nine_stale(content: Path) -> None:
    assert not load(content).topics["a2_test"].stale
    edit(content / "topics/a2_test.yaml", A2_ITALIAN, "(livello base) serve soprattutto per")
    catalog = load(content)
    topic = catalog.topics["a2_test"]
    assert dict(topic.stale) == dict.fromkeys(OTHERS, ("answer",))
    assert all(topic.is_draft(code) for code in OTHERS)
    assert stale_counts(catalog) == dict.fromkeys(OTHERS, 1)
    code, printed = sportello("content", "check", str(content))
    assert f"topics/a2_test.yaml: answer in {', '.join(OTHERS)}" in printed
    assert code == 0  # the bot serves them, marked: no reason to stop a publication


def test_a_translation_with_no_fingerprint_is_current(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, root)
    for path in (root / "topics").glob("*.yaml"):  # content as it was before fingerprints
        text = path.read_text(encoding="utf-8")
        path.write_text(text.split("\n# Written by `sportello")[0] + "\n", encoding="utf-8")
    edit(root / "topics/a2_test.yaml", A2_ITALIAN, "(livello base) serve soprattutto per")
    assert not load(root).topics["a2_test"].stale


async def test_the_bot_marks_a_stale_translation_until_it_is_reviewed(
    content_copy: Path, store: MemoryStateStore, interface: Interface
) -> None:
    catalogs: list[Catalog] = [load_catalog(content_copy, today=TODAY)]
    chat = Conversation(Engine(lambda: catalogs[-1], store, interface, today=lambda: TODAY))
    await chat.start(hint="en")
    assert "ℹ️" not in (await chat.press("go:permit_renewal")).text  # en is reviewed
    assert sportello("content", "stamp", "--content", str(content_copy))[0] == 0
    edit(content_copy / "topics/permit_renewal.yaml", "- Ritira il kit", "- Prendi il kit")
    catalogs.append(load_catalog(content_copy, today=TODAY))
    reply = await chat.press("go:permit_renewal")
    assert "Collect the kit" in reply.text  # still served
    assert "This translation has not yet been checked" in reply.text
    code, printed = sportello(
        "content", "review", "--lang", "en", "--role", "mediator", "permit_renewal",
        "--content", str(content_copy),
    )  # fmt: skip
    assert code == 0, printed
    catalogs.append(load_catalog(content_copy, today=TODAY))
    assert "ℹ️" not in (await chat.press("go:permit_renewal")).text
    assert catalogs[-1].topics["permit_renewal"].translations["en"].reviewed_by == "mediator"


def test_review_by_a_role_removes_the_draft_mark(content_copy: Path) -> None:
    path = content_copy / "topics/permit_renewal.yaml"
    before = path.read_text(encoding="utf-8")
    assert load_catalog(content_copy, today=TODAY).topics["permit_renewal"].is_draft("ar")
    code, _ = sportello(
        "content", "review", "--lang", "ar", "--role", "staff", "permit_renewal",
        "--content", str(content_copy),
    )  # fmt: skip
    assert code == 0
    topic = load_catalog(content_copy, today=TODAY).topics["permit_renewal"]
    assert not topic.is_draft("ar")
    after = path.read_text(encoding="utf-8")
    assert "status: {it: reviewed, en: reviewed, ar: reviewed}" in after
    assert "  ar: {title: " in after and "reviewed_by: staff}" in after
    assert after.startswith(before.split("status:")[0])  # the rest is as it was
    code, printed = sportello(
        "content", "review", "--lang", "fr", "--role", "staff", "permit_renewal",
        "--content", str(content_copy),
    )  # fmt: skip
    assert code == 1 and "no 'fr' answer" in printed


def export(root: Path, language: str, out: Path, *extra: str) -> None:
    code, printed = sportello(
        "content", "export", "--lang", language, "--out", str(out), "--content", str(root), *extra
    )
    assert code == 0, printed


def import_(root: Path, path: Path, *extra: str) -> tuple[int, str]:
    return sportello("content", "import", str(path), "--content", str(root), *extra)


def rewrite_po(path: Path, change: Callable[[str, str], str]) -> None:
    """Edit a PO file as a translation tool would: new msgstrs, fuzzy marks cleared."""
    with path.open("rb") as handle:
        po = read_po(handle)
    for message in po:
        if message.id:
            message.string = change(str(message.context), str(message.string))
            message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, po)


def rewrite_xlsx(path: Path, change: Callable[[str, str], str]) -> None:
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        row[3].value = change(str(row[0].value), str(row[3].value or ""))
    book.save(path)


def mutated(key: str, text: str) -> str:
    """Another text for every field: a title gets a word, an answer a line and a blank one."""
    if key.endswith("/title"):
        return f"{text} X"[:60]
    return f"{text}\n\nriga «{key}»: 'quoted' #hash"


@pytest.mark.parametrize("form", ["po", "xlsx"])
def test_every_field_of_every_topic_round_trips(content: Path, tmp_path: Path, form: str) -> None:
    original = files(content)
    shipped = load(content)
    for language in ("ar", "zh"):
        exported = tmp_path / f"{language}.{form}"
        export(content, language, exported, "--all")
        changed = tmp_path / f"{language}-changed.{form}"
        shutil.copy(exported, changed)
        (rewrite_po if form == "po" else rewrite_xlsx)(changed, mutated)
        code, printed = import_(content, changed)
        assert code == 0, printed
        catalog = load(content)
        for topic in catalog.topics.values():
            expected = shipped.topics[topic.id]
            for name in ("title", "answer"):
                key = f"{topic.id}/{name}"
                old = getattr(expected, name).values[language]
                assert getattr(topic, name).values[language] == mutated(key, old).strip()
        assert files(content) != original
        code, printed = import_(content, exported)  # the first export puts everything back
        assert code == 0, printed
        assert files(content) == original, f"{language} {form}: bytes differ after round trip"


def test_a_translation_edited_in_the_po_goes_to_its_place(content: Path, tmp_path: Path) -> None:
    before = (content / "topics/a2_test_booking.yaml").read_text(encoding="utf-8")
    others = {name: text for name, text in files(content).items() if name != "a2_test_booking.yaml"}
    path = tmp_path / "ur.po"
    export(content, "ur", path, "--all")
    rewrite_po(
        path, lambda key, text: "A2 ٹیسٹ کی نئی بکنگ" if key == "a2_test_booking/title" else text
    )
    code, printed = import_(content, path)
    assert code == 0 and "1 translation(s) written" in printed, printed
    after = (content / "topics/a2_test_booking.yaml").read_text(encoding="utf-8")
    changed = [
        (old, new)
        for old, new in zip(before.split("\n"), after.split("\n"), strict=True)
        if old != new
    ]
    assert changed == [(changed[0][0], "  ur: A2 ٹیسٹ کی نئی بکنگ")]
    assert changed[0][0].startswith("  ur: ")
    assert {n: t for n, t in files(content).items() if n != "a2_test_booking.yaml"} == others


def test_a_missing_translation_is_inserted_in_language_order(content: Path, tmp_path: Path) -> None:
    path = content / "topics/a2_test.yaml"
    original = path.read_bytes()
    french = load(content).topics["a2_test"].answer.values["fr"]
    text = original.decode()
    start = text.index("  fr: |\n")
    edit(path, text[start : text.index("  ar: |\n")], "")
    edit(path, ", fr: draft", "")
    assert "fr" not in load(content).topics["a2_test"].answer
    exported = tmp_path / "fr.po"
    export(content, "fr", exported)
    with exported.open("rb") as handle:
        assert [m.context for m in read_po(handle) if m.id] == ["a2_test/answer"]
    rewrite_po(exported, lambda key, _: french)
    assert import_(content, exported)[0] == 0
    assert path.read_bytes() == original.replace(b", fr: draft", b"")


def test_a_file_made_from_an_older_italian_is_refused(content: Path, tmp_path: Path) -> None:
    exported = tmp_path / "fr.po"
    export(content, "fr", exported, "--all")
    rewrite_po(exported, lambda key, text: text + " (nouveau)")
    edit(content / "topics/a2_test.yaml", A2_ITALIAN, "(livello base) serve soprattutto per")
    edit(content / "topics/health.yaml", 'it: "Salute', 'it: "Nuova salute')
    before = files(content)
    code, printed = import_(content, exported)
    assert code == 1
    assert "older Italian" in printed
    assert "a2_test/answer" in printed and "health/title" in printed
    assert "Nothing was written" in printed
    assert files(content) == before


def test_a_spreadsheet_made_from_an_older_italian_is_refused(content: Path, tmp_path: Path) -> None:
    exported = tmp_path / "sq.xlsx"
    export(content, "sq", exported, "--all")
    rewrite_xlsx(exported, lambda key, text: text + " (i ri)")
    edit(content / "topics/a2_test.yaml", A2_ITALIAN, "(livello base) serve soprattutto per")
    before = files(content)
    code, printed = import_(content, exported)
    assert code == 1 and "a2_test/answer" in printed
    assert files(content) == before


def test_stale_entries_are_fuzzy_and_skipped_until_cleared(content: Path, tmp_path: Path) -> None:
    edit(content / "topics/a2_test.yaml", A2_ITALIAN, "(livello base) serve soprattutto per")
    exported = tmp_path / "ar.po"
    export(content, "ar", exported)
    with exported.open("rb") as handle:
        entries = [message for message in read_po(handle) if message.id]
    assert [(m.context, m.fuzzy) for m in entries] == [("a2_test/answer", True)]
    assert str(entries[0].string).startswith("اختبار اللغة")  # the old translation, to correct
    assert any("English:" in comment for comment in entries[0].auto_comments)
    before = files(content)
    code, printed = import_(content, exported)
    assert code == 0 and "still marked fuzzy" in printed
    assert files(content) == before
    rewrite_po(exported, lambda key, text: text.replace("ضروري لطلب", "ضروري خصوصًا لطلب"))
    assert import_(content, exported)[0] == 0
    topic = load(content).topics["a2_test"]
    assert "ar" not in topic.stale and "fr" in topic.stale
    assert "ضروري خصوصًا لطلب" in topic.answer.values["ar"]


def test_po_file_reads_back_cleanly(content: Path, tmp_path: Path) -> None:
    path = tmp_path / "bn.po"
    export(content, "bn", path, "--all")
    with path.open("rb") as handle:
        po = read_po(handle, abort_invalid=True)
    assert str(po.locale) == "bn"
    assert len([m for m in po if m.id]) == 2 * len(load(content).topics)
    if shutil.which("msgfmt"):
        result = subprocess.run(
            ["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr


def test_import_with_a_role_marks_reviewed_and_a_new_text_undoes_a_review(
    content: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "uk.po"
    export(content, "uk", exported, "--all")
    assert import_(content, exported, "--reviewed-by", "mediator")[0] == 0
    topic = load(content).topics["a2_test"]
    assert not topic.is_draft("uk") and topic.status["uk"] == "reviewed"
    rewrite_po(exported, lambda key, text: text + " ще" if key == "a2_test/answer" else text)
    assert import_(content, exported)[0] == 0
    catalog = load(content)
    assert catalog.topics["a2_test"].is_draft("uk")
    assert catalog.topics["a2_test"].status["uk"] == "draft"
    assert not catalog.topics["a2_test_booking"].is_draft("uk")  # unchanged: still reviewed


def test_stats_count_stale_fields_per_language(content: Path) -> None:
    edit(content / "topics/a2_test.yaml", A2_ITALIAN, "(livello base) serve soprattutto per")
    summary = Summary(TODAY, TODAY, None, stale_translations=stale_counts(load(content)))
    text = as_text(summary)
    assert "Traduzioni da aggiornare" in text
    rows = [line.split() for line in text.split("Traduzioni da aggiornare")[1].split("\n")[2:]]
    assert ["arabo", "1"] in rows and ["cinese", "1"] in rows and len(rows[:-1]) == 9


def test_a_title_too_long_is_refused(content: Path, tmp_path: Path) -> None:
    exported = tmp_path / "es.po"
    export(content, "es", exported, "--all")
    rewrite_po(exported, lambda key, text: "x" * 61 if key == "a2_test/title" else text)
    before = files(content)
    code, printed = import_(content, exported)
    assert code == 1 and "a2_test/title" in printed
    assert files(content) == before


def test_editor_writes_flow_mappings_and_quotes_only_when_needed() -> None:
    text = "a: {it: x, en: y}\nb:\n  it: z # kept\n  fr: w\n"
    editor = YamlEditor(text)
    mapping_a, mapping_b = editor.mapping("a"), editor.mapping("b")
    assert mapping_a is not None and mapping_b is not None
    editor.set(mapping_a, "fr", "deux: points", ["it", "en", "fr"])
    editor.set(mapping_b, "en", "plain text", ["it", "en", "fr"])
    editor.set(mapping_b, "fr", "#no comment", ["it", "en", "fr"])
    assert editor.result() == (
        'a: {it: x, en: y, fr: "deux: points"}\nb:\n  it: z # kept\n  en: plain text\n'
        '  fr: "#no comment"\n'
    )


def test_editor_replaces_a_block_and_keeps_the_comment_after_it() -> None:
    text = "a: 1\ntranslations:\n  en: {title: x}\n# note\nb: 2\n"
    editor = YamlEditor(text)
    editor.replace_node("translations", "translations:\n  fr: {title: y}\n")
    assert editor.result() == "a: 1\ntranslations:\n  fr: {title: y}\n# note\nb: 2\n"
    editor = YamlEditor("a: 1\nb:\n  it: |\n    x\n\n  en: y\nc: 2\n")
    editor.replace_node("status", "status: {en: reviewed}\n", after="b")
    assert editor.result() == "a: 1\nb:\n  it: |\n    x\n\n  en: y\nstatus: {en: reviewed}\nc: 2\n"


def test_a_regional_language_tag_is_read_as_the_language(content: Path, tmp_path: Path) -> None:
    path = tmp_path / "ar.po"
    export(content, "ar", path, "--all")
    with path.open("rb") as handle:
        po = read_po(handle)
    po.locale = "ar_EG"  # as a translation tool set to Egyptian Arabic writes it
    for message in po:
        if message.context == "counter_hours/title":
            message.string = "مواعيد عمل المكتب"
    with path.open("wb") as handle:
        write_po(handle, po)
    code, printed = import_(content, path)
    assert code == 0, printed
    assert load(content).topics["counter_hours"].title.values["ar"] == "مواعيد عمل المكتب"


def test_export_refuses_italian_and_unknown_languages(content: Path, tmp_path: Path) -> None:
    for language, said in (("it", "Italian is the original"), ("xx", "unknown language 'xx'")):
        code, printed = sportello(
            "content", "export", "--lang", language, "--out", str(tmp_path / "x.po"),
            "--content", str(content),
        )  # fmt: skip
        assert code == 1 and said in printed
        assert not (tmp_path / "x.po").exists()


def test_stamp_with_topics_records_translations_updated_by_hand(content: Path) -> None:
    path = content / "topics/a2_test.yaml"
    edit(path, A2_ITALIAN, "(livello base) serve soprattutto per")
    edit(content / "topics/health.yaml", 'it: "Salute', 'it: "Nuova salute')
    assert sportello("content", "stamp", "--content", str(content))[0] == 0
    assert set(load(content).topics["a2_test"].stale) == set(OTHERS)  # kept: not a hand edit
    code, printed = sportello(
        "content", "stamp", "a2_test", "--lang", "fr", "--content", str(content)
    )
    assert code == 0, printed
    catalog = load(content)
    assert set(catalog.topics["a2_test"].stale) == set(OTHERS) - {"fr"}
    assert sportello("content", "stamp", "a2_test", "--content", str(content))[0] == 0
    catalog = load(content)
    assert not catalog.topics["a2_test"].stale
    assert set(catalog.topics["health"].stale) == set(OTHERS)  # another topic: untouched


def test_trailing_spaces_left_by_a_translation_tool_do_not_refuse_the_file(
    content: Path, tmp_path: Path
) -> None:
    """Word and translation tools leave spaces at line ends and on empty lines; the YAML
    cannot keep them, so the text read back differed and the whole file was refused."""
    path = tmp_path / "fr.po"
    export(content, "fr", path, "--all")
    rewrite_po(
        path,
        lambda key, text: (
            "Première ligne   \n \nDeuxième ligne  " if key == "a2_test/answer" else text
        ),
    )
    code, printed = import_(content, path)
    assert code == 0 and "1 translation(s) written" in printed, printed
    answer = load(content).topics["a2_test"].answer.values["fr"]
    assert answer.strip() == "Première ligne\n\nDeuxième ligne"
