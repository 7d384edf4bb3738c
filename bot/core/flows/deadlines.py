"""This module contains "My dates and reminders": a user's deadlines computed from one date
(see ``deadlines.mmd`` beside this file).

The user picks a kind of deadline (the rules of ``content/deadlines.yaml``), types the date it
starts from in any common form, and gets their dates in their language, what happens if a
date has passed, the sources, and an offer of reminders. A message that already names the
deadline and holds a date ("my permit expires on 12/03/2027") is answered at once.

Reminders are kept only after the user agrees to what is kept (the date, the kind, this
chat): the reminders service (``bot/deadlines/reminders.py``) stores and sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.content.deadline_rules import DeadlineRule
from bot.content.schema import Intent, Topic
from bot.core.messages import Choice, Reply
from bot.deadlines.compute import UserDeadline, compute, counter_province
from bot.deadlines.dates import ParsedDate, in_the_past, parse_date
from bot.deadlines.kinds import kind_of, situation_of
from bot.deadlines.texts import answer
from bot.i18n import format_date

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed
    from bot.core.understanding import Analysis

DEADLINES = "dl:"
KIND = f"{DEADLINES}k:"  # "dl:k:permit_renewal": this deadline
REMIND = f"{DEADLINES}r:"  # the consent screen for this deadline's reminders
AGREE = f"{DEADLINES}y:"  # the user agreed: the reminders are set

#: The topic that introduces the deadlines (its answer heads the first screen; menus show it).
INTRO_TOPIC = "my_deadlines"


class DeadlineState(StrEnum):
    """Where a user can be in this flow between two messages."""

    DATE = "deadline_date"  # the date the deadline starts from is asked


class ReminderBook(Protocol):
    """Where personal reminders are kept (``DeadlineReminders``, in ``bot/deadlines``)."""

    async def set(
        self,
        channel: str,
        user_id: str,
        language: str,
        kind: str,
        event_date: date,
        remind_on: Sequence[date],
    ) -> int: ...


class DeadlineFlow:
    """Which deadline, its date, the user's dates, and the reminders they agree to."""

    states = DeadlineState
    choices = (DEADLINES,)

    def __init__(
        self, reminders: ReminderBook | None, today: Callable[[], date] = date.today
    ) -> None:
        self.reminders = reminders
        self.today = today

    # -- the flow --------------------------------------------------------------------------

    async def start(self, turn: Turn, text: str = "") -> Reply:
        """The kinds of deadline; a kind named in ``text`` is asked for its date at once."""
        rules = turn.catalog.deadlines
        if not rules:
            return turn.contacts(turn.t._("To know your dates, ask the counter:"))
        kind = kind_of(text, rules) if text else None
        if kind is not None:
            return self._ask_date(turn, rules[kind])
        intro = turn.catalog.topics.get(INTRO_TOPIC)
        words = (
            turn.catalog.localize(intro.answer, turn.code).text
            if intro is not None
            else turn.t._("Which date do you want to know?")
        )
        turn.browse()
        turn.session.draft.clear()
        choices = [Choice(KIND + rule.id, self._title(turn, rule)) for rule in rules.values()]
        return turn.reply(
            words, [*choices, *turn.flows.reminders.buttons(turn), turn.home_choice()]
        )

    async def answer_text(self, turn: Turn, text: str) -> Reply | None:
        """A message that names a deadline and holds its date, answered at once; else None."""
        rules = turn.catalog.deadlines
        if not rules:
            return None
        kind = kind_of(text, rules)
        if kind is None:
            return None
        event = parse_date(text, turn.code, self.today())
        if event is None:
            return None
        return self._answer(turn, rules[kind], event)

    def situation(self, turn: Turn, text: str) -> Reply | None:
        """A message telling a deadline's event without its date ("my wife arrived, what
        now?"): that deadline's date asked at once; else None."""
        rules = turn.catalog.deadlines
        kind = situation_of(text, rules) if rules else None
        return self._ask_date(turn, rules[kind]) if kind is not None else None

    def elsewhere(self, turn: Turn, analysis: Analysis) -> bool:
        """Whether the understanding is sure the message is about a topic in an area no
        deadline's topic belongs to (violence at home): its deadline words are not the point."""
        if not analysis.confident or not analysis.matches:
            return False
        topics = turn.catalog.topics
        rules = turn.catalog.deadlines.values()
        areas = {topics[rule.topic].area for rule in rules if rule.topic in topics}
        return analysis.matches[0].area not in areas

    def buttons(self, turn: Turn, topic: Topic) -> list[Choice]:
        """Under a topic that answers a deadline's question (the rule's own topic, or one with
        ``- dates: <deadline>``): the way into the dialogue at that deadline."""
        rules = turn.catalog.deadlines
        named = [action.service for action in topic.actions if action.kind == "dates"]
        kinds = [rule.id for rule in rules.values() if rule.topic == topic.id]
        kinds += [kind for kind in named if kind and kind in rules and kind not in kinds]
        if len(kinds) == 1:
            return [Choice(KIND + kinds[0], "📅 " + turn.t._("Work out my dates"))]
        return [Choice(KIND + kind, "📅 " + self._title(turn, rules[kind])) for kind in kinds]

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        rules = turn.catalog.deadlines
        step, _, kind = choice_id.removeprefix(DEADLINES).partition(":")
        if step == "" and not kind:
            return await self.start(turn)
        rule = rules.get(kind)
        if rule is None:
            return None
        if step == "k":
            return self._ask_date(turn, rule)
        deadline = self._remembered(turn, rule)
        if deadline is None or not deadline.reminders or not self._can_remind(turn):
            return self._ask_date(turn, rule)
        if step == "r":
            return self._consent(turn, deadline)
        if step == "y":
            return await self._set(turn, deadline)
        return None

    async def step(self, turn: Turn, state: DeadlineState, typed: Typed) -> Reply | None:
        """The date typed; a way out ("menu", "talk to a person") goes through."""
        rule = turn.catalog.deadlines.get(turn.session.draft.get("deadline", ""))
        if rule is None:
            turn.browse()
            return None
        if typed.intent is Intent.DANGER:  # "he hits me", with a date or not: help first
            return None
        event = parse_date(typed.text, turn.code, self.today())
        if event is not None:
            return self._answer(turn, rule, event)
        if typed.intent is not None:
            return None
        example = self.today().replace(day=1)
        return turn.again(
            turn.t._(
                "I could not read that date. Please write it with numbers, like {numbers}, "
                "or in words, like {words}."
            ).format(numbers=f"{example:%d/%m/%Y}", words=format_date(example, turn.code))
        )

    # -- the screens -------------------------------------------------------------------------

    def _can_remind(self, turn: Turn) -> bool:
        """Whether this chat can be sent a reminder: the service is there, and the channel
        can write first (not the terminal chat)."""
        return self.reminders is not None and turn.reach.unprompted

    def _title(self, turn: Turn, rule: DeadlineRule) -> str:
        return turn.catalog.localize(rule.title, turn.code).text

    def _ask_date(self, turn: Turn, rule: DeadlineRule) -> Reply:
        session = turn.session
        session.draft.clear()
        session.draft["deadline"] = rule.id
        session.state = DeadlineState.DATE
        question = turn.catalog.localize(rule.question, turn.code).text
        return turn.reply(
            question,
            [Choice(DEADLINES, turn.t._("Another deadline")), turn.home_choice()],
        )

    def _answer(self, turn: Turn, rule: DeadlineRule, event: ParsedDate) -> Reply:
        today = self.today()
        if all(item.offset.direction == "after" for item in rule.dates):
            event = in_the_past(event, today)  # an arrival, an application, a test: happened
        deadline = compute(rule, event, today, counter_province(turn.catalog))
        turn.browse()
        draft = turn.session.draft
        draft.clear()
        draft.update(
            {"deadline": rule.id, "event": event.day.isoformat(), "precision": event.precision}
        )
        choices: list[Choice] = []
        if self._can_remind(turn) and deadline.reminders:
            choices.append(Choice(REMIND + rule.id, "🔔 " + turn.t._("Remind me")))
        following = turn.catalog.deadlines.get(rule.next or "")
        if following is not None:
            choices.append(Choice(KIND + following.id, self._title(turn, following)))
        if rule.topic in turn.catalog.topics:
            choices.append(turn.flows.navigation.node_choice(turn, rule.topic))
        choices += [Choice(DEADLINES, turn.t._("Another deadline")), turn.home_choice()]
        return turn.reply(answer(turn.catalog, deadline, turn.code, turn.t), choices)

    def _remembered(self, turn: Turn, rule: DeadlineRule) -> UserDeadline | None:
        """The deadline just answered, from the session (a button from an older answer for
        another deadline finds nothing)."""
        draft = turn.session.draft
        if draft.get("deadline") != rule.id or "event" not in draft:
            return None
        try:
            day = date.fromisoformat(draft["event"])
        except ValueError:
            return None
        event = ParsedDate(day, "month" if draft.get("precision") == "month" else "day")
        return compute(rule, event, self.today(), counter_province(turn.catalog))

    def _dates(self, turn: Turn, days: Sequence[date]) -> str:
        return ", ".join(format_date(day, turn.code) for day in days)

    def _consent(self, turn: Turn, deadline: UserDeadline) -> Reply:
        t = turn.t
        text = "\n\n".join(
            (
                t._("I can send you a reminder in this chat on: {dates}.").format(
                    dates=self._dates(turn, deadline.reminders)
                ),
                t._(
                    "For this I keep only the date you gave, the kind of deadline and this "
                    "chat: nothing else. They are deleted once sent and the date is past. You "
                    "can delete them at any time in “{mine}”, or by asking to erase your data."
                ).format(mine=t._("My reminders")),
                t._("Do you agree?"),
            )
        )
        return turn.reply(
            text,
            [
                Choice(AGREE + deadline.rule.id, t._("Yes, remind me")),
                Choice(DEADLINES, t._("No, thank you")),
                turn.home_choice(),
            ],
        )

    async def _set(self, turn: Turn, deadline: UserDeadline) -> Reply:
        assert self.reminders is not None  # choose() offers nothing without the service
        session = turn.session
        await self.reminders.set(
            session.channel,
            session.user_id,
            turn.code,
            deadline.rule.id,
            deadline.event.day,
            deadline.reminders,
        )
        session.draft.clear()
        done = turn.t._("Done: I will remind you on {dates}.").format(
            dates=self._dates(turn, deadline.reminders)
        )
        choices = [
            Choice(DEADLINES, turn.t._("Another deadline")),
            *turn.flows.reminders.buttons(turn),  # where to see, move or delete them
            turn.home_choice(),
        ]
        return turn.reply(done, choices)
