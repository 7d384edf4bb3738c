"""This module contains the turn: one message being answered, and what a flow may read and
do while answering it.

A flow reads the content (``catalog``), the user's ``session`` (its state and draft), their
language (``code``) and translator (``t``). It answers with ``reply`` (the text and the
choices, which become the choices a typed number or label answers next), goes back to the
main menu (``home``), shows the counter's contacts (``contacts``), or hands on to another
flow (``flows``). The engine builds one turn per message; nothing of it outlives the message
but what a flow puts in the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.content.catalog import Catalog
from bot.content.schema import Intent
from bot.core.flows.navigation import NavigationState
from bot.core.messages import Choice, Kind, Reply
from bot.core.sessions import Session
from bot.core.understanding import Understanding
from bot.i18n import STAFF_LANGUAGE, Interface, Translator
from bot.monitoring.events import Monitor
from bot.reach import Reach

if TYPE_CHECKING:
    from bot.core.flows.questions import Unanswered
    from bot.core.flows.table import Flows


@dataclass(frozen=True)
class Typed:
    """What the user typed, given to the flow whose state waits for an answer.

    ``kind`` is ``Kind.TEXT``, or ``Kind.CONTACT`` for the phone number of a contact card the
    user shared; ``number`` is set when the text is a number that no offered choice has;
    ``intent`` is the navigation or request word the text is ("menu", "talk to a person"),
    if any: a flow lets those through rather than take them as its answer. It is read only
    when a flow asks (``detect`` is the understanding's), and never in a number or a contact.
    """

    text: str
    kind: Kind = Kind.TEXT
    number: int | None = None
    detect: Callable[[str], Intent | None] | None = field(default=None, compare=False)

    @cached_property
    def intent(self) -> Intent | None:
        if self.detect is None or self.kind is not Kind.TEXT or self.number is not None:
            return None
        return self.detect(self.text)


class Turn:
    """One message being answered: the content, the session and the user's language."""

    def __init__(
        self,
        session: Session,
        catalog: Catalog,
        interface: Interface,
        flows: Flows,
        understanding: Callable[[], Understanding],
        monitor: Monitor,
        reach: Reach,
    ) -> None:
        self.session = session
        self.catalog = catalog
        self.interface = interface
        self.flows = flows
        #: The understanding of free text (trained on the content: built on first use).
        self.understanding = understanding
        #: Counts consultations, anonymously (a ``NullMonitor`` for ``sportello ask``).
        self.monitor = monitor
        #: What the user's channel knows of them and can do (a phone number as their id...).
        self.reach = reach
        if session.language is not None and catalog.language(session.language) is None:
            session.language = None  # the language was disabled since: ask again
        self.code = session.language or catalog.default_language
        self.t: Translator = interface.translator(self.code)
        #: The staff group's texts (booking notices) are in its language, not the user's.
        self.staff: Translator = interface.translator(STAFF_LANGUAGE)
        #: Set when the user's data was erased: not even the session may be stored again.
        self.erased = False
        #: The message as sent, cut to what a person at the counter reads in one message.
        self.whole_text = ""
        #: The user's last unanswered question, if they may still share it this turn.
        self.unanswered: Unanswered | None = None

    def set_language(self, code: str) -> None:
        self.session.language = code
        self.session.state = NavigationState.BROWSE
        self.code = code
        self.t = self.interface.translator(code)

    def browse(self) -> None:
        """The flow waits for nothing typed any more: free text is a question again (the
        choices just offered still answer a number or a label)."""
        self.session.state = NavigationState.BROWSE

    # -- what every flow answers with ------------------------------------------------------

    def reply(self, text: str, choices: list[Choice]) -> Reply:
        """The answer, its choices remembered: a number or label typed next picks one."""
        self.session.offered = choices
        return Reply(
            text=text,
            choices=tuple(choices),
            language=self.code,
            rtl=self.catalog.is_rtl(self.code),
        )

    def again(self, text: str) -> Reply:
        """A short answer that offers again the choices the user had."""
        choices = self.session.offered or self.flows.navigation.root_choices(self)
        return self.reply(text, list(choices))

    def home(self, before: str | None = None) -> Reply:
        """The main menu (a half-made booking or request is dropped)."""
        return self.flows.navigation.home(self, before)

    def home_choice(self) -> Choice:
        return self.flows.navigation.home_choice(self)

    def contacts(self, intro: str) -> Reply:
        """The counter's offices, phones and e-mail addresses, after ``intro``."""
        return self.flows.navigation.contacts(self, intro)
