"""This module contains the interface strings (gettext catalogs) and locale-aware formatting.

Message ids are English. Each language's catalog falls back along the same chain as the
content (for example ``uk -> en -> it``) and finally to the English message id.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path

from babel import Locale, UnknownLocaleError, dates
from babel.support import Translations

DOMAIN = "messages"
#: The staff group reads Italian: staff texts are English msgids in the context ``"staff"``
#: (``t.pgettext("staff", ...)``), rendered with this language's catalog. Only the ``it``
#: catalog needs to translate them; the others may leave them empty.
STAFF_LANGUAGE = "it"

# Directional isolation: LRI ... PDI keeps a left-to-right run (a URL, a phone number, a
# booking code) intact inside right-to-left text; RLM sets the paragraph direction for
# renderers (terminals, some chat clients) that guess it from the first strong character.
LRI, PDI, RLM = "\u2066", "\u2069", "\u200f"
_LTR_RUN = re.compile(
    r"(https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ./:-]*\d|[A-Z]{2}-[A-Z0-9]{4}"
    r"|[A-Za-z][A-Za-z0-9 ,.'/-]*[A-Za-z0-9])"
)
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the language is known."""
    return message


class CatalogNotCompiledError(RuntimeError):
    """A ``.po`` file exists without its compiled ``.mo``: run ``make i18n-compile``."""


class Translator:
    """Gettext translations for one language, with its fallback chain already attached."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def _(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self._translations.ngettext(singular, plural, count)

    def pgettext(self, context: str, message: str) -> str:
        """A message in a context: ``"staff"`` for the staff group's texts."""
        return self._translations.pgettext(context, message)


class Interface:
    """All interface catalogs, loaded once: ``interface.translator("fr")._("Main menu")``."""

    def __init__(self, locales_dir: Path, chains: Mapping[str, Iterable[str]]) -> None:
        self.locales_dir = locales_dir
        self._chains = {code: tuple(chain) for code, chain in chains.items()}
        self._compiled: dict[str, bytes | None] = {}
        self._translators: dict[str, Translator] = {}
        for code in self._chains:
            self._load(code)

    def _load(self, code: str) -> bytes | None:
        if code not in self._compiled:
            folder = self.locales_dir / code / "LC_MESSAGES"
            mo_file, po_file = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
            if mo_file.is_file():
                if po_file.is_file() and po_file.stat().st_mtime > mo_file.stat().st_mtime + 1:
                    raise CatalogNotCompiledError(
                        f"{mo_file} is older than {po_file.name}: run `make i18n-compile`"
                    )
                self._compiled[code] = mo_file.read_bytes()
            elif po_file.is_file():
                raise CatalogNotCompiledError(
                    f"{po_file} was never compiled: run `make i18n-compile`"
                )
            else:
                self._compiled[code] = None
        return self._compiled[code]

    def translator(self, code: str) -> Translator:
        """The translator for ``code``, falling back along its chain to the English ids."""
        if code not in self._translators:
            # English is the language of the message ids: a chain stops there.
            steps: list[str] = []
            for step in self._chains.get(code, (code,)):
                if step == "en":
                    break
                steps.append(step)
            result: gettext.NullTranslations = gettext.NullTranslations()
            for step in reversed(steps):
                compiled = self._load(step)
                if compiled is None:
                    continue
                # A fresh object per chain: add_fallback mutates, and chains differ per language.
                layer = Translations(io.BytesIO(compiled), domain=DOMAIN)
                layer.add_fallback(result)
                result = layer
            self._translators[code] = Translator(code, result)
        return self._translators[code]


def babel_locale(code: str) -> Locale:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("it")


def format_date(value: date, code: str, format: str = "long") -> str:
    return dates.format_date(value, format=format, locale=babel_locale(code))


def format_time(value: time | datetime, code: str) -> str:
    return dates.format_time(value, format="short", locale=babel_locale(code))


def format_weekday(value: date, code: str) -> str:
    return dates.format_date(value, format="EEEE", locale=babel_locale(code))


def isolate_ltr(text: str) -> str:
    """Wrap left-to-right runs (links, numbers, codes, Latin words) in LRI ... PDI."""
    return _LTR_RUN.sub(lambda match: f"{LRI}{match.group(0)}{PDI}", text)


def has_rtl(text: str) -> bool:
    return _RTL_LETTER.search(text) is not None


def bidi_text(text: str, rtl: bool) -> str:
    """Prepare text for display in a right-to-left language.

    Lines with right-to-left letters get an RLM and their LTR runs isolated; lines wholly in a
    left-to-right script (an answer shown in a fallback language) stay as they are.
    """
    if not rtl:
        return text
    return "\n".join(
        f"{RLM}{isolate_ltr(line)}" if has_rtl(line) else line for line in text.split("\n")
    )


#: Italian drops the article's vowel before a day said with a vowel ("l'8", "l'11",
#: "dall'8"): "entro il {date}" in the content reads "entro l'11 gennaio".
_BEFORE_A_VOWEL = re.compile(r"\b(il|dal|al|del|nel|sul)\s+(8|11)(?=\s)", re.IGNORECASE)
_ELIDED = {"il": "l'", "dal": "dall'", "al": "all'", "del": "dell'", "nel": "nell'", "sul": "sull'"}


def elided(text: str) -> str:
    """An Italian text with the article elided before 8 and 11 ("il 11" -> "l'11")."""

    def elide(match: re.Match[str]) -> str:
        article = match.group(1)
        replaced = _ELIDED[article.lower()]
        return (replaced.capitalize() if article[0].isupper() else replaced) + match.group(2)

    return _BEFORE_A_VOWEL.sub(elide, text)


def checked_on(day: date, code: str, t: Translator) -> str:
    """ "Checked on 30 November 2026.", under an answer's sources, in the user's language."""
    formatted = format_date(day, code)
    checked = t._("Checked on {date}.")
    if formatted.endswith("."):  # "25 листопада 2026 р." already ends the sentence
        checked = checked.replace("{date}.", "{date}")
    line = checked.format(date=formatted)
    return elided(line) if code == "it" else line
