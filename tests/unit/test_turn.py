"""The turn: what a flow reads and does while one message is answered."""

from __future__ import annotations

from bot.content.catalog import Catalog
from bot.content.schema import Intent
from bot.core.flows.booking import BookingFlow, BookingState
from bot.core.flows.erase import EraseFlow
from bot.core.flows.handover import HandoverFlow
from bot.core.flows.mine import MineFlow
from bot.core.flows.navigation import Navigation, NavigationState
from bot.core.flows.requests import RequestFlow
from bot.core.flows.table import Flows
from bot.core.messages import Choice, Kind
from bot.core.sessions import Session
from bot.core.turn import Turn, Typed
from bot.core.understanding import Understanding
from bot.i18n import Interface
from bot.monitoring.events import NullMonitor
from bot.reach import UNKNOWN


def turn(catalog: Catalog, interface: Interface, session: Session) -> Turn:
    flows = Flows(
        Navigation(None),
        BookingFlow(None, None),
        RequestFlow(None, None),
        HandoverFlow(None),
        MineFlow(None, None),
        EraseFlow(None),
    )

    def understanding() -> Understanding:
        raise AssertionError("nothing here needs the understanding")

    return Turn(session, catalog, interface, flows, understanding, NullMonitor(), UNKNOWN)


def test_a_reply_is_in_the_users_language_and_its_choices_answer_next(
    catalog: Catalog, interface: Interface
) -> None:
    session = Session("test", "u1", language="ar")
    current = turn(catalog, interface, session)
    choices = [Choice("go:permits", "x"), current.home_choice()]
    reply = current.reply("نص", choices)
    assert reply.language == "ar" and reply.rtl
    assert reply.choices == tuple(choices)
    assert session.offered == choices


def test_a_language_disabled_since_is_asked_again(catalog: Catalog, interface: Interface) -> None:
    session = Session("test", "u1", language="de")  # disabled in the fixture content
    current = turn(catalog, interface, session)
    assert session.language is None
    assert current.code == catalog.default_language


def test_choosing_a_language_or_leaving_a_flow_returns_to_browsing(
    catalog: Catalog, interface: Interface
) -> None:
    session = Session("test", "u1", language="it", state=NavigationState.LANGUAGE)
    current = turn(catalog, interface, session)
    current.set_language("fr")
    assert (session.language, current.code, session.state) == ("fr", "fr", "browse")
    assert current.home_choice().label == "Menu principal"
    booking = Session("test", "u1", language="it", state=BookingState.NAME)
    turn(catalog, interface, booking).browse()
    assert booking.state == NavigationState.BROWSE


def test_home_drops_the_draft_and_again_offers_the_same_choices(
    catalog: Catalog, interface: Interface
) -> None:
    session = Session("test", "u1", language="it", state=BookingState.DAY, draft={"office": "x"})
    current = turn(catalog, interface, session)
    home = current.home()
    assert session.draft == {} and session.state == "browse"
    again = current.again("Prego!")
    assert again.choices == home.choices and again.text == "Prego!"


def test_a_typed_answer_asks_the_understanding_only_when_a_flow_reads_its_intent() -> None:
    asked: list[str] = []

    def detect(text: str) -> Intent | None:
        asked.append(text)
        return Intent.MENU

    typed = Typed("menu", detect=detect)
    assert asked == []
    assert typed.intent is Intent.MENU and typed.intent is Intent.MENU
    assert asked == ["menu"]  # once
    assert Typed("2", number=2, detect=detect).intent is None
    assert Typed("+39 333", Kind.CONTACT, detect=detect).intent is None
    assert asked == ["menu"]
