"""This module contains the composition root: it builds storage, content, engine and channels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar, cast

from bot.booking.handover import HandoverDesk
from bot.booking.notices import NoticeRouter, Wakeup
from bot.booking.reminders import MorningAgenda, Reminders, StaffCancellations
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.channels import adapter
from bot.channels.base import Channel
from bot.channels.email import EmailChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.webchat import WebchatChannel
from bot.config import ConfigError, Settings
from bot.content.catalog import Catalog
from bot.content.holder import ContentHolder
from bot.content.identity import staff_name
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore, StateStore
from bot.deadlines.notices import DeadlineNotice
from bot.deadlines.reminders import DeadlineReminders
from bot.i18n import STAFF_LANGUAGE, Interface
from bot.monitoring.events import Monitor, NullMonitor
from bot.notify.leadership import Leadership
from bot.ops.metrics import MeteredHandler, Metrics
from bot.reach import Reach
from bot.staff import StaffConsole
from bot.staff.agenda import StaffAgenda
from bot.staff.monitoring import StaffMonitoring
from bot.staff.requests import RequestConsole
from bot.storage.appointments import AppointmentStore
from bot.storage.daily import DailyPosts
from bot.storage.db import Database, shown
from bot.storage.deadlines import DeadlineStore
from bot.storage.events import EventStore
from bot.storage.handovers import HandoverStore
from bot.storage.inbound import InboundLog, InboundQueue
from bot.storage.leases import Leases
from bot.storage.outbox import Outbox
from bot.storage.questions import SharedQuestions
from bot.storage.requests import RequestStore
from bot.storage.retention import erase_user
from bot.storage.sessions import SqliteSessionStore
from bot.storage.webchat import WebchatMailbox

if TYPE_CHECKING:
    from bot.channels.whatsapp import WhatsAppChannel

log = logging.getLogger(__name__)

C = TypeVar("C")

#: The lease of Telegram's long polling: Telegram gives each update to one getUpdates, so
#: two instances polling would each miss what the other took.
TELEGRAM_POLLING = "telegram-polling"


class SecondPoller(Exception):
    """Another running instance polls Telegram for this database's bot."""

    def __init__(self, database: str, holder: str) -> None:
        super().__init__(
            f"Telegram long polling for the database {database} is already done by another "
            f"running instance ({holder}): only one instance may poll. To run several "
            "instances, use webhook mode: set TELEGRAM_WEBHOOK_URL (see README, "
            "'Several instances')."
        )
        self.holder = holder


@dataclass
class Services:
    """Everything a running bot is made of, wired together."""

    settings: Settings
    content: ContentHolder
    interface: Interface
    engine: Engine
    database: Database | None
    #: The configured messaging channels, in the order they start (they stop in reverse).
    channels: list[Channel] = field(default_factory=list)
    reminders: Reminders | None = None
    agenda: MorningAgenda | None = None
    desk: BookingDesk | None = None
    requests: RequestDesk | None = None
    monitor: Monitor | None = None
    metrics: Metrics = field(default_factory=Metrics)
    #: Which instance does the jobs only one may do (None without a database).
    leadership: Leadership | None = None
    leases: Leases | None = None
    #: Whether this instance polls Telegram (it then holds ``TELEGRAM_POLLING``).
    polls_telegram: bool = False
    #: The users' deadline reminders (set, listed, sent once on their day).
    deadlines: DeadlineReminders | None = None

    @property
    def listening(self) -> list[Channel]:
        """The channels users write to (not e-mail, which only copies staff notices)."""
        return [channel for channel in self.channels if channel.reach.inbound]

    def channel(self, kind: type[C]) -> C | None:
        """The configured channel of this class, if any (tools and tests reach into one)."""
        return next((channel for channel in self.channels if isinstance(channel, kind)), None)


class EnginePort:
    """A late-bound port to the engine, for the desks built before it that call back into
    it (``HandoverDesk.on_answer``, ``RequestDesk.on_offer``). Bound once, right after the
    engine is built, before anything runs; the desks themselves are never patched."""

    def __init__(self) -> None:
        self._engine: Engine | None = None

    def bind(self, engine: Engine) -> None:
        self._engine = engine

    def _bound(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the engine is not built yet")
        return self._engine

    async def converse(self, channel: str, user_id: str) -> None:
        await self._bound().converse(channel, user_id)

    async def offer(
        self, channel: str, user_id: str, language: str, choices: Sequence[tuple[str, str]]
    ) -> None:
        await self._bound().offer(channel, user_id, language, choices)


def _office_name(catalog: Catalog, office_id: str) -> str:
    office = catalog.office(office_id)
    return catalog.localize(office.name, "it").text if office is not None else office_id


def _deadline_name(catalog: Catalog, kind: str) -> str:
    rule = catalog.deadlines.get(kind)
    return catalog.localize(rule.title, STAFF_LANGUAGE).text if rule is not None else kind


def build_interface(settings: Settings, content: ContentHolder) -> Interface:
    catalog = content.catalog
    chains = {language.code: catalog.chain(language.code) for language in catalog.languages}
    return Interface(settings.locales_dir, chains)


def _staff(settings: Settings, telegram: bool, email: bool) -> NoticeRouter:
    """Who receives staff notices: the Telegram group, and copies by e-mail."""
    staff: list[tuple[str, str]] = []
    if telegram and settings.telegram_staff_chat_id is not None:
        staff.append(("telegram", str(settings.telegram_staff_chat_id)))
    copies = [("email", address) for address in settings.smtp_to] if email else []
    return NoticeRouter(staff=staff, copies=copies)


@asynccontextmanager
async def services(
    settings: Settings,
    persistent: bool = True,
    channels: bool = False,
    clock: Callable[[], datetime] | None = None,
    reaches: Mapping[str, Reach] | None = None,
) -> AsyncIterator[Services]:
    """Build the bot; ``persistent=False`` keeps conversations in memory (``sportello ask``).

    ``channels=True`` also builds the messaging channels whose tokens are configured; the web
    app starts and stops them. ``clock`` is the appointments' "now" (the tests move it).
    ``reaches`` adds channels driven from outside the app (tests): what they can do.
    """
    content = ContentHolder(settings.content_dir, settings.default_language, settings.cache_dir)
    if settings.default_language and content.catalog.language(settings.default_language) is None:
        raise ConfigError(
            [
                f"SPORTELLO_DEFAULT_LANGUAGE={settings.default_language} is not an enabled "
                "language in languages.yaml"
            ]
        )
    interface = build_interface(settings, content)
    database = Database(settings.db_path) if persistent else None
    store: StateStore = MemoryStateStore()
    leases: Leases | None = None
    leadership: Leadership | None = None
    if database is not None:
        await database.open()
        store = SqliteSessionStore(database)
        leases = Leases(database)
        leadership = Leadership(
            leases, database.holder, settings.lease_seconds, settings.lease_renew_seconds
        )
    outbox = Outbox(database) if database is not None else None
    metrics = Metrics()
    # Which channels there will be is known from the settings before any is built: the
    # notices' routing and the engine are told what each can do (its Reach) up front.
    telegram_on = channels and bool(settings.telegram_bot_token)
    whatsapp_on = channels and settings.whatsapp_enabled and database is not None
    email_on = channels and settings.email_enabled and outbox is not None
    webchat_on = channels and settings.webchat_enabled and outbox is not None
    polls_telegram = telegram_on and not settings.telegram_webhook_url
    if database is not None and leases is not None and leadership is not None and channels:
        # A kill -9 lets go of nothing: an instance of this machine that was killed (the one
        # this start replaces, often) has its jobs, turns and updates taken over now.
        await leases.expire_gone()
        if polls_telegram and not await leadership.claim(TELEGRAM_POLLING):
            holder = await leases.holder_of(TELEGRAM_POLLING) or "another process"
            await database.close()
            raise SecondPoller(shown(settings.db_path), holder)
    kinds: list[type[Channel]] = [TelegramChannel] if telegram_on else []
    kinds += [_whatsapp()] if whatsapp_on else []
    kinds += [WebchatChannel] if webchat_on else []
    kinds += [EmailChannel] if email_on else []
    reach = dict(reaches or {}) | {kind.name: kind.reach for kind in kinds}
    # The channels are built after the desks that queue notices (they need them to answer
    # staff): the router gets this port now, the channels are connected to it once built.
    wakeup = Wakeup()
    staff = _staff(settings, telegram_on, email_on)
    router = NoticeRouter(staff.staff, staff.copies, reach, wakeup)
    # Only a serving bot counts: terminal previews and `ask` are not consultations.
    events = EventStore(database, settings.tz) if channels and database is not None else None
    monitor = Monitor(events) if events is not None else NullMonitor()
    # The desks are built before the engine (it needs them) and call back into it: staff
    # answered a user, a time was offered. They get this port; the engine is bound to it
    # once built.
    conversations = EnginePort()
    desk = None
    handovers = None
    requests = None
    deadlines = None
    if database is not None:
        desk = BookingDesk(
            AppointmentStore(database),
            settings.tz,
            clock=clock,
            retention_days=settings.retention_days,
            queue=outbox,
            router=router,
            # Staff cancelling a booking or closing a day: the user is told.
            user_notices=StaffCancellations(content, interface),
            monitor=monitor,
        )
        handovers = HandoverDesk(
            HandoverStore(database),
            router,
            interface,
            on_answer=conversations.converse,
            monitor=monitor,
        )
        requests = RequestDesk(
            RequestStore(database), desk, handovers, interface, content, conversations.offer
        )
        deadlines = DeadlineReminders(
            DeadlineStore(database),
            router,
            # Until the deadline rules word their own reminders: the topic, the date, the way
            # to stop them.
            DeadlineNotice(content, interface),
            settings.tz,
            clock=desk.now,  # the appointments' "now": the tests move both at once
            hour=settings.deadline_hour,
            monitor=monitor,
        )
    erase: Callable[[str, str], Awaitable[None]] | None = None
    if database is not None:
        db = database

        async def erase_data(channel: str, user_id: str) -> None:
            """Erase a user's data at their request; staff learn which bookings it cancelled."""
            cancelled = await erase_user(db, channel, user_id)
            for code in cancelled:
                if desk is not None:  # counted anonymously: the user is already erased
                    await desk.count("cancelled", code)
            if cancelled and desk is not None:
                t = interface.translator(STAFF_LANGUAGE)
                await desk.tell_staff(
                    t.pgettext(
                        "staff", "A user asked to erase their data: cancelled {codes}"
                    ).format(codes=", ".join(cancelled))
                )

        erase = erase_data

    questions = SharedQuestions(database, settings.retention_days) if database is not None else None
    engine = Engine(
        content,
        store,
        interface,
        desk=desk,
        erase=erase,
        handovers=handovers,
        requests=requests,
        questions=questions,
        model_cache=settings.cache_dir,
        monitor=monitor,
        reaches=reach,
        reminders=deadlines,
        # The users' dates are counted from the counter's today (the tests move its clock).
        today=deadlines.today if deadlines is not None else date.today,
    )
    conversations.bind(engine)
    handler = MeteredHandler(engine, metrics)  # what each channel receives and answers
    built: list[Channel] = []
    if telegram_on:
        built.append(
            TelegramChannel(
                handler,
                settings,
                interface,
                content,
                outbox,
                InboundQueue(database) if database is not None else None,
                staff=StaffConsole(
                    interface.translator(STAFF_LANGUAGE),
                    desk=desk,
                    catalog=content,
                    handovers=handovers,
                    requests=RequestConsole(requests) if requests is not None else None,
                    monitoring=_staff_monitoring(settings, content, interface, monitor, events),
                ),
                meter=metrics,
                leadership=leadership,
            )
        )
    if whatsapp_on and database is not None and outbox is not None:
        built.append(
            _whatsapp()(
                handler,
                settings,
                interface,
                outbox,
                InboundLog(database),
                InboundQueue(database),
                default_language=lambda: content.catalog.default_language,
                staff_alert=desk.tell_staff if desk is not None else None,
                calendar=_calendar_file(desk, content) if desk is not None else None,
                meter=metrics,
                leadership=leadership,
            )
        )
    if webchat_on and database is not None and outbox is not None:
        built.append(
            WebchatChannel(
                handler,
                interface,
                WebchatMailbox(database),
                lambda: content.catalog,
                outbox,
                allowed_origins=settings.webchat_allowed_origins,
                rate_limit=settings.webchat_rate_limit,
                address_limit=settings.webchat_address_limit,
                start_limit=settings.webchat_start_limit,
                meter=metrics,
                leadership=leadership,
            )
        )
    if email_on and outbox is not None:
        built.append(
            EmailChannel(
                settings,
                outbox,
                meter=metrics,
                sender=lambda: staff_name(content.catalog),
                leadership=leadership,
            )
        )
    for channel in built:
        wakeup.connect(channel.wake)
        # Their series exist from the start, at zero: a graph sees 0, not "no data".
        metrics.expect(channel.name)
        if channel.reach.inbound:
            metrics.listen(channel.name)
    reminders = None
    if desk is not None:
        reminders = Reminders(desk, content, interface, hour=settings.reminder_hour)
    agenda = None
    staff_reachable = bool(router.staff or router.copies)
    if (
        desk is not None
        and database is not None
        and staff_reachable
        and settings.agenda_hour is not None
    ):
        staff_agenda = StaffAgenda(interface.translator(STAFF_LANGUAGE), desk, content)
        agenda = MorningAgenda(
            desk, staff_agenda.days, DailyPosts(database), hour=settings.agenda_hour
        )
    # The understanding of free text is ready before the first message (a thread trains it, or
    # reads it from SPORTELLO_CACHE_DIR), not built during someone's question.
    await engine.prepare()
    try:
        yield Services(
            settings,
            content,
            interface,
            engine,
            database,
            built,
            reminders,
            agenda,
            desk,
            requests,
            monitor=monitor if events is not None else None,
            metrics=metrics,
            leadership=leadership,
            leases=leases,
            polls_telegram=polls_telegram and leadership is not None,
            deadlines=deadlines,
        )
    finally:
        if database is not None:
            await database.close()


def _whatsapp() -> type[WhatsAppChannel]:
    return cast("type[WhatsAppChannel]", adapter("whatsapp"))  # imported only when set up


def _staff_monitoring(
    settings: Settings,
    content: ContentHolder,
    interface: Interface,
    monitor: Monitor,
    events: EventStore | None,
) -> StaffMonitoring | None:
    """/registra and /mese for staff, when the bot counts."""
    if events is None:
        return None
    return StaffMonitoring(
        monitor,
        events,
        settings.tz,
        lambda: [language.code for language in content.catalog.enabled_languages],
        interface.translator(STAFF_LANGUAGE),
        areas=lambda: content.catalog.desk.areas,
        offices=lambda: [office.id for office in content.catalog.offices],
        office_name=lambda office_id: _office_name(content.catalog, office_id),
        # A kind of deadline by its rule's Italian title ("Rinnovo del permesso").
        deadline_name=lambda kind: _deadline_name(content.catalog, kind),
    )


def _calendar_file(
    desk: BookingDesk, content: ContentHolder
) -> Callable[[str], Awaitable[bytes | None]]:
    """An active appointment's calendar file by its code (WhatsApp's signed links)."""

    async def invitation(code: str) -> bytes | None:
        appointment = await desk.store.by_code(code)
        if appointment is None or appointment.status != "active":
            return None
        return desk.invitation(content.catalog, appointment)

    return invitation
