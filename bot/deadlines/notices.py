"""This module contains the text of a deadline reminder when it is sent, in its user's
language: what the deadline is (the title of the topic that explains it), the date the user
gave, where to read what to do, and how to change or stop the reminders.

It states no rule of its own (no number of days, no fee): the topic holds those, with its
sources, and the user's own date is the only date in it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.content.catalog import Catalog
from bot.i18n import Interface, Translator, format_date
from bot.storage.records import DeadlineReminder

#: How the dates of deadlines are written: the locale's long form, "12 marzo 2027",
#: "2027年3月12日", "12 березня 2027 р.".
LONG_DATE = "long"


def dated(text: str, **values: str) -> str:
    """``text`` filled in, without a second full stop after a date that ends with one
    ("12 березня 2027 р.")."""
    for key, value in values.items():
        if value.endswith("."):
            text = text.replace(f"{{{key}}}.", f"{{{key}}}")
    return text.format(**values)


def kind_title(catalog: Catalog, kind: str, language: str, t: Translator) -> str:
    """A kind of deadline as the user reads it: the title of the topic that explains it
    (``permit_renewal``: "Rinnovo del permesso"), or a plain "your deadline"."""
    if kind in catalog.topics:
        return catalog.title(kind, language)
    return t._("Your deadline")


def reminder_language(catalog: Catalog, reminder: DeadlineReminder) -> str:
    """The reminder's language, or the default one if it was disabled since."""
    return reminder.language if catalog.language(reminder.language) else catalog.default_language


class DeadlineNotice:
    """The ``text_for`` of ``DeadlineReminders``: a reminder's text and template variables
    (``{{1}}`` the deadline, ``{{2}}`` the date)."""

    def __init__(self, catalog: Callable[[], Catalog], interface: Interface) -> None:
        self.catalog = catalog
        self.interface = interface

    def __call__(self, reminder: DeadlineReminder) -> tuple[str, dict[str, str]]:
        catalog = self.catalog()
        language = reminder_language(catalog, reminder)
        t = self.interface.translator(language)
        title = kind_title(catalog, reminder.kind, language, t)
        when = format_date(reminder.event_date, language, LONG_DATE)
        lines = [
            "⏰ "
            + dated(
                t._("Reminder: {deadline}. Your date: {date}."), deadline=f"**{title}**", date=when
            )
        ]
        if reminder.kind in catalog.topics:
            lines += [
                "",
                t._("What to do: see “{topic}” in the menu. If in doubt, ask the counter.").format(
                    topic=title
                ),
            ]
        lines += [
            "",
            t._("To change or stop these reminders, write “{words}”.").format(
                words=t._("My reminders")
            ),
        ]
        return "\n".join(lines), {"1": title, "2": when}
