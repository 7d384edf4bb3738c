"""This module contains the immutable content model: the counter (desk), languages, menus,
topics, offices, services, intents."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from bot.content.checklist import Checklist
from bot.content.fingerprints import Record


class Intent(StrEnum):
    """What a message asks the bot to do, other than answer a topic."""

    MENU = "menu"
    BACK = "back"
    HELP = "help"
    LANGUAGE = "language"
    BOOKING = "booking"
    CANCEL = "cancel"
    MY_APPOINTMENTS = "my_appointments"
    MY_REMINDERS = "my_reminders"  # the deadline reminders I asked for
    HUMAN = "human"
    GREETING = "greeting"
    THANKS = "thanks"
    FORGET = "forget"  # erase everything the bot keeps about me
    DEADLINES = "deadlines"  # my dates: when to renew, the 8 days, reminders
    CHECKLIST = "checklist"  # the documents to bring: a list made for my appointment
    DANGER = "danger"  # someone is in danger: the help comes first, whatever else is asked


#: Intents that act only when they are the whole message.
WHOLE_MESSAGE_INTENTS = frozenset(
    {Intent.MENU, Intent.BACK, Intent.HELP, Intent.LANGUAGE, Intent.GREETING, Intent.THANKS}
)

TRANSLATION_STATUSES = ("reviewed", "draft")

#: Intents the phrasings may teach by example ("I want to talk to someone").
TAUGHT_INTENTS = (Intent.HUMAN, Intent.BOOKING, Intent.CANCEL, Intent.MY_APPOINTMENTS)

#: Intents a topic may stand for (``intent:``). "My dates" teaches no label of its own: its
#: questions ("quando devo rinnovare il permesso") are its area's, so that the understanding
#: of every other question stays as it was; the topic, once found, starts the dialogue.
TOPIC_INTENTS = (*TAUGHT_INTENTS, Intent.DEADLINES, Intent.CHECKLIST, Intent.DANGER)

#: Intents that leave any step a flow waits at: navigation words, and danger ("he hits me",
#: typed where a name or a day was asked, is not a name: the help for it comes first).
LEAVE_ANY_STEP = WHOLE_MESSAGE_INTENTS | {Intent.DANGER}


@dataclass(frozen=True)
class Phrasings:
    """Sample messages as people write them, per language (``phrasings/*.yaml``).

    They teach the understanding what each topic and intent sounds like, and what lies outside
    the counter's work (``off_topic``), so that it can say "I did not understand" instead of
    answering with the nearest topic.
    """

    # Each by language, as a topic's keywords and questions: a hundredfold content's phrasings
    # as (language, text) pairs would be a million and a half objects for Python's collector
    # to look through after a load (a tenth of it).
    topics: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({})
    )  # topic id -> language -> texts
    intents: Mapping[Intent, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    off_topic: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


def frozen_map(values: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Localized:
    """A text in several languages."""

    values: Mapping[str, str] = field(default_factory=frozen_map)

    def __contains__(self, language: object) -> bool:
        return language in self.values

    def languages(self) -> Iterator[str]:
        return iter(self.values)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    english: str
    rtl: bool = False
    fallback: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class Link:
    url: str
    label: Localized


@dataclass(frozen=True)
class Source:
    url: str
    title: str
    read: date | None = None  # when an editor last read the page for this topic

    @property
    def secondary(self) -> bool:
        """A page that is not an authority's own: its title says so (content/README.md)."""
        return "fonte secondaria" in self.title.lower()


@dataclass(frozen=True)
class Action:
    """A button under an answer: ``book`` or ``checklist`` (with a service), ``dates`` (with
    a deadline rule's id, in ``service``) or ``human``."""

    kind: str
    service: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.service}" if self.service else self.kind


@dataclass(frozen=True)
class Topic:
    id: str
    area: str
    reviewed: date
    title: Localized
    answer: Localized
    sources: tuple[Source, ...]
    status: Mapping[str, str] = field(default_factory=frozen_map)
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    questions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    links: tuple[Link, ...] = ()
    children: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    law: tuple[str, ...] = ()  # the norms the answer rests on, e.g. "L. 187/2024"
    #: A topic whose questions are requests to act ("how do I book?"): free text about it does
    #: that (``booking`` starts the appointment dialogue); menus still show the topic.
    intent: Intent | None = None
    file: str = ""
    #: Per language, what the tools recorded (``translations:``): the fingerprints of the
    #: Italian each field was translated from, and who reviewed it.
    translations: Mapping[str, Record] = field(default_factory=lambda: MappingProxyType({}))
    #: Per language, the fields translated from an Italian text that has changed since.
    stale: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def is_draft(self, language: str) -> bool:
        """Whether the bot says the translation is not yet checked: no person who reads the
        language has reviewed it, or the Italian changed after it was made (stale)."""
        if language in self.stale:
            return True
        record = self.translations.get(language)
        reviewed_by = record.reviewed_by if record is not None else None
        return self.status.get(language, "draft") != "reviewed" and reviewed_by is None


@dataclass(frozen=True)
class Menu:
    id: str
    title: Localized
    items: tuple[str, ...]
    text: Localized | None = None


@dataclass(frozen=True)
class Service:
    """Something the counter books an appointment for."""

    id: str
    minutes: int
    name: Localized
    documents: Localized
    sources: tuple[Source, ...]
    status: Mapping[str, str] = field(default_factory=frozen_map)
    #: The questions and documents of a personal list to bring (``checklist:``); without
    #: one, ``documents`` is what everyone is told to bring.
    checklist: Checklist | None = None


@dataclass(frozen=True)
class OfficeBooking:
    """When and how an office takes appointments. Times are "HH:MM" local times."""

    code: str  # the booking codes' prefix, such as "LU" in LU-4K7P
    services: tuple[str, ...]
    weekly: Mapping[str, tuple[tuple[str, str], ...]]
    slot_minutes: int = 30
    capacity: int = 1
    horizon_days: int = 30
    notice_hours: float = 2.0
    max_active: int = 2
    closed: frozenset[date] = frozenset()
    province: str | None = None  # Italian province code ("VA"): its patron day is a holiday


@dataclass(frozen=True)
class OfficeRequests:
    """Appointments an office gives on request: the user says when they can come, staff
    propose a time. For counters that publish no slots; no opening hours are needed."""

    code: str  # the codes' prefix: requests and their appointments look like LU-4K7P
    services: tuple[str, ...]
    remind_after_hours: int = 8  # working hours a request may wait before staff are reminded
    #: The staff's working day ("HH:MM"): working hours are counted in it, and staff tap a
    #: time in it when they propose one. Never shown to users: these are not opening hours.
    staff_hours: tuple[str, str] = ("09:00", "17:00")
    max_active: int = 2  # appointments and open requests per person
    province: str | None = None  # Italian province code ("VA"): its patron day is a holiday


@dataclass(frozen=True)
class Office:
    id: str
    name: Localized
    address: str
    phone: str | None = None
    email: str | None = None
    hours: Localized | None = None
    confirmed: bool = True
    booking: OfficeBooking | None = None
    requests: OfficeRequests | None = None

    def takes(self, service: str) -> str | None:
        """How the office gives appointments for ``service``: "slots", "requests" or None."""
        if self.booking is not None and service in self.booking.services:
            return "slots"
        if self.requests is not None and service in self.requests.services:
            return "requests"
        return None


@dataclass(frozen=True)
class Area:
    """What a topic is about, as the monitoring counts consultations (``desk.yaml``)."""

    id: str
    #: In Italian, the staff's and the Ufficio di Piano's language: reports and /registra.
    name: str
    #: Words staff may type for it in ``/registra``, besides its id ("permesso").
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Desk:
    """The counter itself (``desk.yaml``): who it is and what it covers.

    The texts are the counter's own words in each language; where a language has none, the
    bot says a plain sentence with the counter's ``name`` instead (``bot.content.identity``).
    """

    name: Localized
    areas: tuple[Area, ...]
    welcome: Localized = field(default_factory=Localized)  # the main menu's first words
    description: Localized = field(default_factory=Localized)  # Telegram's "what can it do"
    short_description: Localized = field(default_factory=Localized)  # Telegram's profile

    def area(self, area_id: str) -> Area | None:
        return next((area for area in self.areas if area.id == area_id), None)
