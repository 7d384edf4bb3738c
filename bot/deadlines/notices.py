"""This module contains the text of a deadline reminder when it is sent, in its user's
language: the rule's own reminder (``texts.reminder_text``) when the content has the rule;
else what the deadline is, the date the user gave, where to read what to do, and how to
change or stop the reminders.

It states no rule of its own (no number of days, no fee): the content holds those, with its
sources.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.content.catalog import Catalog
from bot.deadlines.texts import reminder_text
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
    """A kind of deadline as the user reads it: its rule's title (``content/deadlines.yaml``),
    else the title of the topic of that name, else a plain "your deadline" (a rule removed
    from the content since the reminder was set)."""
    rule = catalog.deadlines.get(kind)
    if rule is not None:
        return catalog.localize(rule.title, language).text
    if kind in catalog.topics:
        return catalog.title(kind, language)
    return t._("Your deadline")


def reminder_language(catalog: Catalog, reminder: DeadlineReminder) -> str:
    """The reminder's language, or the default one if it was disabled since."""
    return reminder.language if catalog.language(reminder.language) else catalog.default_language


class DeadlineNotice:
    """The ``text_for`` of ``DeadlineReminders``: a reminder's text and template variables
    (``{{1}}`` the deadline, ``{{2}}`` the date that matters now).

    A kind the content has a rule for is worded by the rule (``texts.reminder_text``: the
    user's dates as of the reminder's day); one whose rule was removed since, plainly, with
    the user's own date.
    """

    def __init__(self, catalog: Callable[[], Catalog], interface: Interface) -> None:
        self.catalog = catalog
        self.interface = interface

    def __call__(self, reminder: DeadlineReminder) -> tuple[str, dict[str, str]]:
        catalog = self.catalog()
        language = reminder_language(catalog, reminder)
        t = self.interface.translator(language)
        rule = catalog.deadlines.get(reminder.kind)
        if rule is not None:
            return reminder_text(
                rule, reminder.event_date, reminder.remind_on, language, t, catalog
            )
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
