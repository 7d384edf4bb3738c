"""This module contains the counter's identity as users read it: its name and its own words
(``desk.yaml``) in their language.

A text the counter wrote in the user's own language is said as it is. Where it wrote none,
the user reads a plain sentence in their language with the counter's name, from the
interface catalogs, rather than the counter's words in a language they may not read.
"""

from __future__ import annotations

from bot.content.catalog import Catalog
from bot.content.schema import Localized
from bot.i18n import N_, Translator

#: The plain sentences said when the counter wrote no text in a language.
PLAIN_WELCOME = N_("Welcome to {name}. Choose a number, or write your question in your own words.")
PLAIN_DESCRIPTION = N_("Information from {name}. Write your question in your own language.")
PLAIN_SHORT_DESCRIPTION = N_("{name}, in your language.")


def counter_name(catalog: Catalog, code: str) -> str:
    """The counter's name in ``code``, or along its fallbacks (a name reads in any script)."""
    return catalog.localize(catalog.desk.name, code).text


def _own_or_plain(catalog: Catalog, text: Localized, plain: str, t: Translator) -> str:
    own = text.values.get(t.language)
    if own is not None:
        return own
    return t._(plain).format(name=counter_name(catalog, t.language))


def welcome(catalog: Catalog, t: Translator) -> str:
    """The first words of the main menu, in the translator's language."""
    return _own_or_plain(catalog, catalog.desk.welcome, PLAIN_WELCOME, t)


def description(catalog: Catalog, t: Translator) -> str:
    """What the bot does, for Telegram's "What can this bot do?"."""
    return _own_or_plain(catalog, catalog.desk.description, PLAIN_DESCRIPTION, t)


def short_description(catalog: Catalog, t: Translator) -> str:
    """One line on the bot's Telegram profile and in links shared to it."""
    return _own_or_plain(catalog, catalog.desk.short_description, PLAIN_SHORT_DESCRIPTION, t)


def staff_name(catalog: Catalog) -> str:
    """The counter's name in Italian, as staff, reports and calendar files name it."""
    return counter_name(catalog, "it")
