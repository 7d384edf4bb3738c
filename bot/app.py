"""This module contains the composition root: it builds storage, content, engine and channels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.booking.handover import HandoverDesk
from bot.booking.notices import NoticeRouter
from bot.booking.reminders import MorningAgenda, Reminders
from bot.booking.request_staff import RequestConsole
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.channels.telegram import TelegramChannel
from bot.config import ConfigError, Settings
from bot.content.catalog import Catalog
from bot.content.holder import ContentHolder
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore, StateStore
from bot.i18n import STAFF_LANGUAGE, Interface
from bot.monitoring.events import Monitor
from bot.monitoring.staff import StaffMonitoring
from bot.notify.email import EmailChannel
from bot.ops.metrics import Metrics
from bot.staff import StaffConsole
from bot.storage.appointments import AppointmentStore
from bot.storage.daily import DailyPosts
from bot.storage.db import Database
from bot.storage.events import EventStore
from bot.storage.handovers import HandoverStore
from bot.storage.inbound import InboundLog, InboundQueue
from bot.storage.outbox import Outbox
from bot.storage.questions import SharedQuestions
from bot.storage.requests import RequestStore
from bot.storage.retention import erase_user
from bot.storage.sessions import SqliteSessionStore

if TYPE_CHECKING:
    from bot.channels.whatsapp import WhatsAppChannel

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a running bot is made of, wired together."""

    settings: Settings
    content: ContentHolder
    interface: Interface
    engine: Engine
    database: Database | None
    telegram: TelegramChannel | None = None
    whatsapp: WhatsAppChannel | None = None
    reminders: Reminders | None = None
    agenda: MorningAgenda | None = None
    email: EmailChannel | None = None
    desk: BookingDesk | None = None
    requests: RequestDesk | None = None
    monitor: Monitor | None = None
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        # Assembled, the bot is measured: what each channel receives, answers and sends.
        self.metrics.instrument(self.telegram, self.whatsapp)
        if self.email is not None:  # sends only: nobody writes to the bot by e-mail
            worker = self.email.worker
            worker.send = self.metrics.metered_sender(worker.channel, worker.send)
            self.metrics.expect(worker.channel)


def _office_name(catalog: Catalog, office_id: str) -> str:
    office = catalog.office(office_id)
    return catalog.localize(office.name, "it").text if office is not None else office_id


def build_interface(settings: Settings, content: ContentHolder) -> Interface:
    catalog = content.catalog
    chains = {language.code: catalog.chain(language.code) for language in catalog.languages}
    return Interface(settings.locales_dir, chains)


def route_notices(
    router: NoticeRouter,
    settings: Settings,
    telegram: TelegramChannel | None,
    whatsapp: WhatsAppChannel | None,
    email: EmailChannel | None,
) -> None:
    """Tell the router who receives staff notices and which users can be reached."""
    staff: list[tuple[str, str]] = []
    if telegram is not None and settings.telegram_staff_chat_id is not None:
        staff.append(("telegram", str(settings.telegram_staff_chat_id)))
    router.staff = staff
    if email is not None:
        router.copies = [("email", address) for address in settings.smtp_to]
    workers = [channel for channel in (telegram, whatsapp, email) if channel is not None]
    router.user_channels = {"telegram"} if telegram is not None else set()
    if whatsapp is not None:
        router.user_channels.add("whatsapp")

    def wake() -> None:
        for channel in workers:
            channel.wake()

    router.wake = wake


@asynccontextmanager
async def services(
    settings: Settings,
    persistent: bool = True,
    channels: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Services]:
    """Build the bot; ``persistent=False`` keeps conversations in memory (``sportello ask``).

    ``channels=True`` also builds the messaging channels whose tokens are configured; the web
    app starts and stops them. ``clock`` is the appointments' "now" (the tests move it).
    """
    content = ContentHolder(settings.content_dir, settings.default_language)
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
    if database is not None:
        await database.open()
        store = SqliteSessionStore(database)
    router = NoticeRouter()
    outbox = Outbox(database) if database is not None else None
    desk = None
    handovers = None
    requests = None
    if database is not None:
        desk = BookingDesk(
            AppointmentStore(database),
            settings.tz,
            clock=clock,
            retention_days=settings.retention_days,
            queue=outbox,
            router=router,
        )
        handovers = HandoverDesk(HandoverStore(database), router, interface)

        async def offer(
            channel: str, user_id: str, language: str, choices: Sequence[tuple[str, str]]
        ) -> None:
            await engine.offer(channel, user_id, language, choices)  # built just below

        requests = RequestDesk(RequestStore(database), desk, handovers, interface, content, offer)
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
    )
    if handovers is not None:
        handovers.on_answer = engine.converse
    monitor = events = None
    if channels and database is not None:
        # Only a serving bot counts: terminal previews and `ask` are not consultations.
        events = EventStore(database, settings.tz)
        monitor = Monitor(events)
        engine.monitor = monitor
        if desk is not None:
            desk.monitor = monitor
        if handovers is not None:
            handovers.monitor = monitor
    telegram = None
    if channels and settings.telegram_bot_token:
        monitoring = None
        if monitor is not None and events is not None:
            monitoring = StaffMonitoring(
                monitor,
                events,
                settings.tz,
                lambda: [language.code for language in content.catalog.enabled_languages],
                offices=lambda: [office.id for office in content.catalog.offices],
                office_name=lambda office_id: _office_name(content.catalog, office_id),
            )
        staff = StaffConsole(
            interface.translator(STAFF_LANGUAGE),
            desk=desk,
            catalog=content,
            handovers=handovers,
            requests=RequestConsole(requests) if requests is not None else None,
            monitoring=monitoring,
        )
        updates = InboundQueue(database) if database is not None else None
        telegram = TelegramChannel(
            engine, settings, interface, outbox, staff=staff, inbound=updates
        )
    whatsapp = None
    if channels and settings.whatsapp_enabled and database is not None and outbox is not None:
        # Imported only where WhatsApp is set up: twilio and aiohttp take 13 MB of every process.
        from bot.channels.whatsapp import WhatsAppChannel

        whatsapp = WhatsAppChannel(
            engine,
            settings,
            interface,
            outbox,
            InboundLog(database),
            InboundQueue(database),
            default_language=lambda: content.catalog.default_language,
            staff_alert=desk.tell_staff if desk is not None else None,
        )
    email = None
    if channels and settings.email_enabled and outbox is not None:
        email = EmailChannel(settings, outbox)
    route_notices(router, settings, telegram, whatsapp, email)
    reminders = None
    if desk is not None:
        reminders = Reminders(desk, content, interface, hour=settings.reminder_hour)
        desk.user_notices = reminders.notices  # staff cancelling a booking: the user is told
    agenda = None
    staff_reachable = bool(router.staff or router.copies)
    if (
        desk is not None
        and database is not None
        and staff_reachable
        and settings.agenda_hour is not None
    ):
        agenda = MorningAgenda(desk, content, DailyPosts(database), hour=settings.agenda_hour)
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
            telegram,
            whatsapp,
            reminders,
            agenda,
            email,
            desk,
            requests,
            monitor=monitor,
        )
    finally:
        if database is not None:
            await database.close()
