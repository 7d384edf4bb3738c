"""Property tests of the engine: whatever a user sends (any text, any button data, forged
codes of other people's bookings), the engine answers, logs no failure, and never changes
another user's session, appointments, requests, conversation or messages.

The whole bot is built as ``serve`` builds it (SQLite, bookings, requests, conversations with
the counter, erasure) on the fixture content, once per example: each example starts clean, so
a failure found is a failure replayed. Profiles (how many examples): ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import Services
from bot.core.messages import Incoming, Kind
from tests.auxil.chat import Conversation
from tests.auxil.hostile import forged_choices, texts
from tests.auxil.victim import (
    NOW,
    ROME,
    Victim,
    failures_logged,
    fresh_bot,
    snapshot,
    victim_with_everything,
)
from tests.conftest import FIXTURE_CONTENT, LOCALES

CHANNEL = "test"
VICTIM = "B"  # the user whose data must never change
ACTOR = "A"  # the user who sends anything at all


@dataclass(frozen=True)
class Step:
    """One thing user A sends; ``offered`` picks among the choices last offered to A."""

    kind: Kind
    text: str = ""
    choice: str | None = None
    offered: int | None = None
    hint: str | None = None


def steps(codes: tuple[str, ...]) -> st.SearchStrategy[Step]:
    hints = st.none() | st.sampled_from(("it", "en", "ar", "de", "xx", "", "en-GB")) | st.text()
    return st.one_of(
        st.builds(Step, st.just(Kind.TEXT), texts, hint=hints),
        st.builds(Step, st.just(Kind.COMMAND), st.sampled_from(("start", "menu")) | texts),
        st.builds(Step, st.just(Kind.CHOICE), choice=forged_choices(codes)),
        st.builds(Step, st.just(Kind.CHOICE), offered=st.integers(0, 12)),
        st.builds(Step, st.sampled_from((Kind.MEDIA, Kind.LOCATION, Kind.CONTACT)), texts),
    )


async def drive(running: Services, step: Step, last: list[str]) -> list[str]:
    """Send one step as user A; returns the ids of the choices A is offered now."""
    choice = step.choice
    if step.offered is not None:
        if not last:
            return last
        choice = last[step.offered % len(last)]
    incoming = Incoming(CHANNEL, ACTOR, step.kind, step.text, choice, step.hint)
    replies = await running.engine.handle(incoming)
    assert replies, "the engine must always answer"
    return [choice.id for choice in replies[-1].choices]


# B's codes are drawn by the bot at run time: the strategy forges the shapes they have, and the
# scenario swaps a placeholder for B's real code, so A presses "cancel B's booking" for real.
BOOKING, REQUEST = "<B-booking>", "<B-request>"
OWN_BOOKING, OWN_REQUEST = "<A-booking>", "<A-request>"  # when A has booked too


def _with_codes(step: Step, victim: Victim, own: Victim | None) -> Step:
    if step.choice is None:
        return step
    choice = step.choice.replace(BOOKING, victim.booking).replace(REQUEST, victim.request)
    if own is not None:
        choice = choice.replace(OWN_BOOKING, own.booking).replace(OWN_REQUEST, own.request)
    return Step(step.kind, step.text, choice, step.offered, step.hint)


@asynccontextmanager
async def bot(now: datetime = NOW) -> AsyncIterator[Services]:
    async with fresh_bot(FIXTURE_CONTENT, LOCALES, {CHANNEL}, now) as running:
        yield running


async def scenario(
    sequence: list[Step], actor_has_booked: bool = False, now: datetime = NOW
) -> None:
    with failures_logged() as failures:
        async with bot(now) as running:
            victim = await victim_with_everything(running, CHANNEL, VICTIM)
            before = await snapshot(running, victim)
            # A with a booking, a request and a conversation of their own reaches the deep
            # steps (move, cancel, withdraw, accept) that random presses seldom reach.
            own = None
            if actor_has_booked:
                own = await victim_with_everything(running, CHANNEL, ACTOR)
            assert failures.messages() == []
            last: list[str] = []
            for step in sequence:
                last = await drive(running, _with_codes(step, victim, own), last)
            assert failures.messages() == []
            assert await snapshot(running, victim) == before


#: Moments when dates are easy to get wrong: the clocks changing, the year's end, 29 February,
#: a holiday, a Friday evening, a Sunday; or any moment of five years.
moments = st.sampled_from(
    [
        NOW,
        datetime(2027, 3, 27, 23, 30, tzinfo=ROME),  # the night the clocks go forward
        datetime(2026, 10, 25, 2, 30, tzinfo=ROME),  # the hour that happens twice
        datetime(2026, 12, 31, 17, 0, tzinfo=ROME),
        datetime(2028, 2, 29, 9, 0, tzinfo=ROME),
        datetime(2026, 12, 24, 12, 0, tzinfo=ROME),
        datetime(2027, 3, 5, 18, 59, tzinfo=ROME),
        datetime(2027, 3, 7, 8, 0, tzinfo=ROME),
    ]
) | st.datetimes(datetime(2026, 1, 1), datetime(2031, 1, 1), timezones=st.just(ROME))


@given(
    st.lists(steps((BOOKING, REQUEST, OWN_BOOKING, OWN_REQUEST)), min_size=1, max_size=12),
    st.booleans(),
    moments,
)
def test_any_sequence_from_one_user_never_fails_nor_touches_another(
    sequence: list[Step], actor_has_booked: bool, now: datetime
) -> None:
    asyncio.run(scenario(sequence, actor_has_booked, now))


async def test_the_victims_snapshot_sees_a_change() -> None:
    """The property above is only as good as its snapshot: B's own cancel must show in it."""
    async with bot() as running:
        victim = await victim_with_everything(running, CHANNEL, VICTIM)
        before = await snapshot(running, victim)
        chat = Conversation(running.engine, VICTIM, CHANNEL)
        await chat.press(f"bk:cancelyes:{victim.booking}")
        after = await snapshot(running, victim)
        assert after["booking"] != before["booking"]
        assert after["active"] == []


@pytest.mark.parametrize(
    "forged",
    [
        f"bk:cancelyes:{BOOKING}",
        f"bk:move:{BOOKING}",
        f"rq:accept:{REQUEST}",
        f"rq:withdrawyes:{REQUEST}",
        f"rq:move:{REQUEST}",
        "act:human:end",
    ],
)
async def test_forged_buttons_with_another_users_codes_change_nothing_of_theirs(
    forged: str,
) -> None:
    """The forgeries most worth trying, always tried (hypothesis may or may not draw them)."""
    await scenario(
        [
            Step(Kind.COMMAND, "start", hint="it"),
            Step(Kind.CHOICE, choice=forged),
            Step(Kind.CHOICE, offered=0),
            Step(Kind.CHOICE, choice=forged),
        ]
    )
