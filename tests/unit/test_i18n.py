"""Interface catalogs: fallback chains, loud failure when not compiled, locale formatting."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.i18n import (
    LRI,
    PDI,
    RLM,
    STAFF_LANGUAGE,
    CatalogNotCompiledError,
    Interface,
    bidi_text,
    format_date,
    format_time,
    format_weekday,
)
from tests.conftest import LOCALES


def write_catalog(root: Path, code: str, messages: dict[str, str], compiled: bool = True) -> None:
    folder = root / code / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = PoCatalog(locale=code)
    for message_id, text in messages.items():
        catalog.add(message_id, text)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    if compiled:
        with (folder / "messages.mo").open("wb") as handle:
            write_mo(handle, catalog)


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    write_catalog(tmp_path, "it", {"Back": "Indietro", "Main menu": "Menu principale"})
    write_catalog(tmp_path, "fr", {"Back": "Retour"})
    write_catalog(tmp_path, "uk", {})
    return tmp_path


def test_translation_and_fallback_along_the_chain(locales: Path) -> None:
    interface = Interface(locales, {"it": ("it",), "fr": ("fr", "it"), "es": ("es", "it", "en")})
    assert interface.translator("it")._("Back") == "Indietro"
    assert interface.translator("fr")._("Back") == "Retour"
    assert interface.translator("fr")._("Main menu") == "Menu principale"  # fr -> it
    assert interface.translator("es")._("Back") == "Indietro"  # no es catalog: es -> it
    assert interface.translator("it")._("Unknown string") == "Unknown string"


def test_english_in_a_chain_means_the_message_ids(locales: Path) -> None:
    interface = Interface(locales, {"uk": ("uk", "en", "it")})
    # uk -> en stops at the English ids: never Italian for a Ukrainian reader.
    assert interface.translator("uk")._("Main menu") == "Main menu"


def test_uncompiled_catalog_fails_loudly(tmp_path: Path) -> None:
    write_catalog(tmp_path, "it", {"Back": "Indietro"}, compiled=False)
    with pytest.raises(CatalogNotCompiledError, match="make i18n-compile"):
        Interface(tmp_path, {"it": ("it",)})


def test_every_repository_catalog_is_complete_and_keeps_placeholders() -> None:
    from babel.messages.pofile import read_po

    with (LOCALES / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    ids = {(message.context, message.id) for message in template if message.id}
    assert ids, "messages.pot is empty: run make i18n"
    for code in ("it", "fr", "ar", "es", "sq", "uk", "ur", "zh", "bn"):
        with (LOCALES / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        translated = {
            (m.context, m.id): m.string for m in catalog if m.id and m.string and not m.fuzzy
        }
        # Staff read Italian: their texts (context "staff") need only the Italian catalog.
        needed = ids if code == STAFF_LANGUAGE else {key for key in ids if key[0] != "staff"}
        missing = needed - set(translated)
        assert not missing, f"{code}: untranslated {sorted(missing)[:3]}"
        for (_, message_id), text in translated.items():
            expected = sorted(re.findall(r"\{\w+\}", str(message_id)))
            assert sorted(re.findall(r"\{\w+\}", str(text))) == expected, (code, message_id)


def test_repository_catalogs_load(catalog: object) -> None:
    interface = Interface(LOCALES, {"it": ("it",), "ar": ("ar", "fr", "en", "it")})
    assert interface.translator("it")._("Main menu") != "Main menu"
    assert interface.translator("ar")._("Back") != "Back"


def test_dates_and_times_follow_the_locale() -> None:
    day = date(2026, 11, 25)
    assert format_date(day, "it") == "25 novembre 2026"
    assert format_date(day, "fr") == "25 novembre 2026"
    assert format_date(day, "en") == "November 25, 2026"
    assert format_weekday(day, "it") == "mercoledì"
    assert format_weekday(day, "uk") == "середа"
    assert format_weekday(day, "ar") == "الأربعاء"
    assert format_time(time(9, 30), "it") == "09:30"
    assert format_date(day, "xx-unknown")  # an unknown locale still formats (Italian)


def test_rtl_text_keeps_links_numbers_and_codes_readable() -> None:
    text = "اتصل على 0332 536727 أو https://www.portaleimmigrazione.it رمز LU-4K7P"
    shown = bidi_text(text, rtl=True)
    assert shown.startswith(RLM)
    assert f"{LRI}0332 536727{PDI}" in shown
    assert f"{LRI}https://www.portaleimmigrazione.it{PDI}" in shown
    assert f"{LRI}LU-4K7P{PDI}" in shown
    assert bidi_text(text, rtl=False) == text


def test_left_to_right_lines_in_rtl_replies_stay_untouched() -> None:
    text = "عنوان\nAsk for the renewal (fallback English)\nرابط https://x.it"
    lines = bidi_text(text, rtl=True).split("\n")
    assert lines[0] == f"{RLM}عنوان"
    assert lines[1] == "Ask for the renewal (fallback English)"
    assert lines[2] == f"{RLM}رابط {LRI}https://x.it{PDI}"


def test_brackets_stay_outside_isolated_latin_words() -> None:
    shown = bidi_text("تصريح الإقامة (permesso di soggiorno)", rtl=True)
    assert f"({LRI}permesso di soggiorno{PDI})" in shown


def test_the_checked_date_ends_its_sentence_once_and_italian_elides_before_8_and_11() -> None:
    from datetime import date

    from bot.i18n import checked_on

    interface = Interface(LOCALES, {"it": ("it",), "uk": ("uk", "en", "it")})
    assert checked_on(date(2026, 12, 8), "it", interface.translator("it")) == (
        "Verificato l'8 dicembre 2026."
    )
    ukrainian = checked_on(date(2026, 11, 25), "uk", interface.translator("uk"))
    assert ukrainian.endswith("2026\u202fр.")  # Babel's own full stop, and no second one
