"""The table of flows: who owns which state and which choices, and sessions stored before the
flows declared their states (as plain strings, in SQLite) resuming where they were."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.booking.handover import HandoverDesk
from bot.booking.notices import NoticeRouter
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.flows.booking import BookingFlow, BookingState
from bot.core.flows.erase import EraseFlow
from bot.core.flows.handover import HandoverFlow
from bot.core.flows.mine import MineFlow
from bot.core.flows.navigation import Navigation, NavigationState
from bot.core.flows.reminders import RemindersFlow
from bot.core.flows.requests import RequestFlow
from bot.core.flows.table import Flows
from bot.core.sessions import Session
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.handovers import HandoverStore
from bot.storage.outbox import Outbox
from bot.storage.requests import RequestStore
from bot.storage.sessions import SqliteSessionStore
from tests.auxil.chat import Conversation

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)  # a Wednesday: Luino opens 09:00-12:30

#: The states sessions were stored under before each flow declared its own: they must stay.
STORED_BEFORE = {
    "navigation": {"language", "browse"},
    "booking": {"book:day", "book:time", "book:name", "book:phone"},
    "requests": {"req:days", "req:part", "req:name", "req:phone"},
    "handover": {"human:ask", "human:open"},
    "mine": set(),
    "erase": set(),
    "checklist": {"cl:ask"},
    "reminders": {"reminders:day"},
    "deadlines": {"deadline_date"},
}


def flows() -> Flows:
    return Flows(
        navigation=Navigation(None),
        booking=BookingFlow(None, None),
        requests=RequestFlow(None, None),
        handover=HandoverFlow(None),
        mine=MineFlow(None, None),
        erase=EraseFlow(None),
        reminders=RemindersFlow(None),
    )


@pytest.mark.parametrize("name", sorted(STORED_BEFORE))
def test_each_flow_owns_the_states_sessions_were_stored_under(name: str) -> None:
    table = flows()
    flow = getattr(table, name)
    assert {state.value for state in flow.states} == STORED_BEFORE[name]
    for value in STORED_BEFORE[name]:
        owner, state = table.owner(value)
        assert owner is flow
        assert state == value and isinstance(state, flow.states)


def test_a_new_session_and_an_unknown_state_are_at_the_menus() -> None:
    table = flows()
    assert table.owner(Session("c", "u").state) == (table.navigation, NavigationState.BROWSE)
    assert table.owner("book:somewhere-gone") == (table.navigation, NavigationState.BROWSE)


@pytest.mark.parametrize(
    ("choice_id", "name"),
    [
        ("lang:fr", "navigation"),
        ("nav:home", "navigation"),
        ("go:permit_renewal", "navigation"),
        ("act:share", "navigation"),
        ("act:book:a2_test", "booking"),
        ("bk:day:2026-11-25", "booking"),
        ("bk:move:LU-4K7P", "booking"),
        ("bk:mine", "mine"),  # the longest beginning wins over the booking's "bk:"
        ("bk:cancel:LU-4K7P", "mine"),
        ("bk:cancelyes:LU-4K7P", "mine"),
        ("rq:accept:LU-4K7P", "requests"),
        ("act:human", "handover"),
        ("act:human:end", "handover"),
        ("act:erase", "erase"),
        ("cl:svc:permit_renewal", "checklist"),
        ("cl:a:permit:work", "checklist"),
        ("rem:mine", "reminders"),
        ("rem:moveyes:3:2027-01-15", "reminders"),
        ("dl:", "deadlines"),
        ("dl:k:permit_renewal", "deadlines"),
        ("dl:y:family_arrival", "deadlines"),
    ],
)
def test_a_choice_goes_to_the_flow_that_declared_its_beginning(choice_id: str, name: str) -> None:
    table = flows()
    assert table.for_choice(choice_id) is getattr(table, name)


def test_a_choice_nobody_declared_has_no_flow() -> None:
    assert flows().for_choice("zz:anything") is None


def test_two_flows_cannot_own_one_state() -> None:
    class Clash(HandoverFlow):
        states = BookingState  # type: ignore[assignment]

    with pytest.raises(ValueError, match="two flows own the state 'book:day'"):
        Flows(
            Navigation(None),
            BookingFlow(None, None),
            RequestFlow(None, None),
            Clash(None),
            MineFlow(None, None),
            EraseFlow(None),
            reminders=RemindersFlow(None),
        )


# -- sessions stored by the previous version, resumed from SQLite ---------------------------


@dataclass
class Counter:
    chat: Conversation
    sessions: SqliteSessionStore
    handovers: HandoverDesk


@pytest.fixture
async def counter(tmp_path: Path, catalog: Catalog, interface: Interface) -> AsyncIterator[Counter]:
    async with Database(tmp_path / "bot.sqlite3") as database:
        outbox = Outbox(database)
        router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
        booking = BookingDesk(
            AppointmentStore(database), ROME, clock=lambda: NOW, queue=outbox, router=router
        )
        handovers = HandoverDesk(HandoverStore(database), router, interface)

        async def offer(*args: Any) -> None:
            raise AssertionError("no proposal is sent here")

        requests = RequestDesk(
            RequestStore(database), booking, handovers, interface, lambda: catalog, offer
        )
        sessions = SqliteSessionStore(database)
        engine = Engine(
            lambda: catalog,
            sessions,
            interface,
            desk=booking,
            handovers=handovers,
            requests=requests,
        )
        yield Counter(Conversation(engine), sessions, handovers)


BOOKING = {"service": "permit_renewal", "office": "luino"}
REQUEST = {"request": "1", "service": "family_reunification", "office": "luino"}


def stored(state: str, draft: dict[str, str], language: str | None = "it") -> str:
    """A session as the previous version wrote it (``Session.dump`` of that time)."""
    return json.dumps(
        {
            "language": language,
            "state": state,
            "node": "root",
            "history": [],
            "offered": [["nav:home", "Menu principale"]],
            "draft": draft,
        },
        ensure_ascii=False,
    )


@pytest.mark.parametrize(
    ("state", "draft", "typed", "then", "first_choice", "says"),
    [
        ("book:day", BOOKING, "mercoledì", "book:time", "bk:time:", "Scegli un orario"),
        ("book:time", {**BOOKING, "day": "2026-11-25"}, "11:00", "book:name", "nav:home", "nome"),
        (
            "book:name",
            {**BOOKING, "day": "2026-11-25", "start": "20261125T1000"},
            "Amina Rossi",
            "book:phone",
            "nav:home",
            "numero di telefono",
        ),
        (
            "book:phone",
            {**BOOKING, "day": "2026-11-25", "start": "20261125T1000", "name": "Amina Rossi"},
            "333 1234567",
            "browse",
            "bk:confirm",
            "Amina Rossi, +393331234567",
        ),
        ("req:days", {**REQUEST, "days": ""}, "lunedì", "req:part", "rq:part:", "mattina"),
        ("req:part", {**REQUEST, "days": "mon"}, "pomeriggio", "browse", "rq:speaks:it", ""),
        (
            "req:name",
            {**REQUEST, "days": "mon", "part": "morning", "speaks": "fr"},
            "Amina Rossi",
            "req:phone",
            "nav:home",
            "numero di telefono",
        ),
        (
            "req:phone",
            {**REQUEST, "days": "mon", "part": "morning", "speaks": "fr", "name": "Amina Rossi"},
            "333 1234567",
            "browse",
            "rq:send",
            "Amina Rossi, +393331234567",
        ),
        ("human:ask", {}, "Ho perso il permesso", "human:open", "act:human:end", "sportello"),
    ],
)
async def test_a_session_stored_under_the_old_state_resumes_where_it_was(
    counter: Counter,
    state: str,
    draft: dict[str, str],
    typed: str,
    then: str,
    first_choice: str,
    says: str,
) -> None:
    await counter.sessions.put("test", "u1", stored(state, draft))
    reply = await counter.chat.send(typed)
    assert says in reply.text
    assert counter.chat.ids()[0].startswith(first_choice)
    after = await counter.sessions.get("test", "u1")
    assert after is not None and json.loads(after)["state"] == then


async def test_an_open_conversation_stored_before_goes_on_to_the_counter(counter: Counter) -> None:
    await counter.handovers.ask("test", "u1", "it", "Ho perso il permesso")
    await counter.sessions.put("test", "u1", stored("human:open", {}))
    reply = await counter.chat.send("Ho anche cambiato indirizzo")
    assert reply.text == "Inviato allo sportello."
    after = await counter.sessions.get("test", "u1")
    assert after is not None and json.loads(after)["state"] == "human:open"


async def test_the_language_question_stored_before_is_answered_by_a_name(
    counter: Counter,
) -> None:
    offered = {"offered": [["lang:it", "Italiano"], ["lang:fr", "Français"]]}
    await counter.sessions.put(
        "test", "u1", json.dumps({"language": None, "state": "language", **offered})
    )
    reply = await counter.chat.send("Français")
    assert reply.language == "fr" and "Bienvenue" in reply.text
    after = await counter.sessions.get("test", "u1")
    assert after is not None and json.loads(after)["state"] == "browse"
