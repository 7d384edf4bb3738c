"""The counter's identity in each language: its own words, or a plain sentence with its name."""

from __future__ import annotations

from pathlib import Path

from bot.content import identity
from bot.content.catalog import Catalog
from bot.content.loader import validate
from bot.i18n import Interface
from tests.conftest import TODAY


def test_a_language_the_counter_wrote_in_gets_its_own_words(
    catalog: Catalog, interface: Interface
) -> None:
    french = interface.translator("fr")
    assert identity.welcome(catalog, french).startswith("Bienvenue au guichet d'essai.")
    assert identity.short_description(catalog, french) == "Le guichet d'essai."


def test_a_language_it_did_not_write_in_gets_a_plain_sentence_with_its_name(
    content_copy: Path, interface: Interface
) -> None:
    """desk.yaml without Arabic texts: Arabic users read Arabic, not the counter's Italian,
    and the check warns about each text left out."""
    desk = content_copy / "desk.yaml"
    lines = desk.read_text(encoding="utf-8").splitlines(keepends=True)
    desk.write_text("".join(line for line in lines if not line.startswith("  ar:")), "utf-8")
    validation = validate(content_copy, today=TODAY)
    assert [str(warning) for warning in validation.warnings] == [
        f"desk.yaml:{line}: '{key}' has no text in ar: those users read a plain sentence with "
        "the counter's name instead"
        for line, key in ((3, "welcome"), (7, "description"), (11, "short_description"))
    ]
    assert validation.catalog is not None
    catalog = validation.catalog
    arabic = interface.translator("ar")
    name = "Luino test counter"  # no Arabic name: along Arabic's chain (fr, en)
    assert identity.counter_name(catalog, "ar") == name
    assert identity.welcome(catalog, arabic) == (
        f"أهلًا بك في {name}. اختر رقمًا أو اكتب سؤالك بكلماتك الخاصة."
    )
    assert identity.description(catalog, arabic) == f"معلومات من {name}. اكتب سؤالك بلغتك."
    assert identity.short_description(catalog, arabic) == f"{name}، بلغتك."


def test_staff_read_the_italian_name(catalog: Catalog) -> None:
    assert identity.staff_name(catalog) == "Sportello di prova di Luino"
