"""This module contains the texts of personal deadlines, in the user's language: the answer
with their dates, and the reminder the ``deadline-reminders`` sender delivers.

Everything law-adjacent comes from the content (the rule's sentences, the topics' answers and
sources); the catalogs give only the frame ("Official sources:", "Reminder:").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.content.catalog import Catalog
from bot.content.deadline_rules import DeadlineRule
from bot.content.schema import Source, Topic
from bot.deadlines.compute import UserDate, UserDeadline, compute, counter_province
from bot.deadlines.dates import ParsedDate
from bot.i18n import Translator, checked_on, elided, format_date

SOURCES_SHOWN = 4  # the rule's and its topics': official pages first


def date_line(catalog: Catalog, user_date: UserDate, language: str) -> str:
    """The rule's sentence for this date ("Ask for the renewal by 11 January 2027.")."""
    rule_date = user_date.rule_date
    text = rule_date.passed if user_date.passed and rule_date.passed else rule_date.text
    localized = catalog.localize(text, language)
    line = localized.text.replace("{date}", format_date(user_date.day, language))
    return elided(line) if localized.language == "it" else line


def answer(catalog: Catalog, deadline: UserDeadline, language: str, t: Translator) -> str:
    """The user's dates, what happens if they are late, and where it all comes from."""
    rule = deadline.rule
    parts = [f"**{catalog.localize(rule.title, language).text}**"]
    if deadline.event.precision == "month":
        parts.append(
            "ℹ️ "
            + t._(
                "You gave only the month: I counted from its first day, {date}, so that every "
                "date comes early rather than late."
            ).format(date=format_date(deadline.event.day, language))
        )
    parts.append("\n".join(f"- {date_line(catalog, item, language)}" for item in deadline.dates))
    if rule.note is not None:
        parts.append("ℹ️ " + catalog.localize(rule.note, language).text)
    topics = [catalog.topics[rule.topic]] if rule.topic in catalog.topics else []
    late = catalog.topics.get(rule.late_topic or "") if deadline.late else None
    if late is not None:
        heading = t._("If the date has passed")
        parts.append(f"**{heading}**\n{catalog.localize(late.answer, language).text}")
        topics.append(late)
    parts.append(_sources(rule, topics, language, t))
    return "\n\n".join(parts)


def _sources(rule: DeadlineRule, topics: Sequence[Topic], language: str, t: Translator) -> str:
    seen: dict[str, Source] = {}
    for source in (*rule.sources, *(s for topic in topics for s in topic.sources)):
        seen.setdefault(source.url, source)
    shown = sorted(seen.values(), key=lambda source: source.secondary)[:SOURCES_SHOWN]
    reviewed = min((rule.reviewed, *(topic.reviewed for topic in topics)))
    lines = "\n".join(f"- {source.title}: {source.url}" for source in shown)
    # Not inside an f-string: Babel's extractor would not see the message there.
    title = t._("Official sources:")
    return f"{title}\n{lines}\n{checked_on(reviewed, language, t)}"


def reminder_text(
    rule: DeadlineRule,
    event_date: date,
    remind_on: date,
    language: str,
    t: Translator,
    catalog: Catalog,
) -> tuple[str, dict[str, str]]:
    """The reminder sent on ``remind_on``, and the variables of its WhatsApp template: the
    deadline's name ("1") and the date that matters most then ("2")."""
    deadline = compute(rule, ParsedDate(event_date), remind_on, counter_province(catalog))
    title = catalog.localize(rule.title, language).text
    lines = [
        "⏰ " + t._("Reminder: {deadline}").format(deadline=title),
        *(f"- {date_line(catalog, item, language)}" for item in deadline.dates),
        "",
        t._("To change or stop these reminders, write “{words}”.").format(
            words=t._("My reminders")
        ),
    ]
    return "\n".join(lines), {"1": title, "2": format_date(deadline.main.day, language)}
