"""This module contains the composition root: it builds storage, content, engine and channels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.booking.reminders import MorningAgenda, Reminders, Sender
from bot.booking.service import BookingDesk
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import ConfigError, Settings
from bot.content.holder import ContentHolder
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore, StateStore
from bot.i18n import Interface
from bot.ops.metrics import Metrics
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.inbound import InboundLog
from bot.storage.outbox import Outbox
from bot.storage.retention import erase_user
from bot.storage.sessions import SqliteSessionStore

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
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        # Assembled, the bot is measured: what each channel receives, answers and sends.
        self.metrics.instrument(self.telegram, self.whatsapp)


def build_interface(settings: Settings, content: ContentHolder) -> Interface:
    catalog = content.catalog
    chains = {language.code: catalog.chain(language.code) for language in catalog.languages}
    return Interface(settings.locales_dir, chains)


@asynccontextmanager
async def services(
    settings: Settings, persistent: bool = True, channels: bool = False
) -> AsyncIterator[Services]:
    """Build the bot; ``persistent=False`` keeps conversations in memory (``sportello ask``).

    ``channels=True`` also builds the messaging channels whose tokens are configured; the web
    app starts and stops them.
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
    desk = None
    if database is not None:
        desk = BookingDesk(
            AppointmentStore(database), settings.tz, retention_days=settings.retention_days
        )
    erase: Callable[[str, str], Awaitable[None]] | None = None
    if database is not None:
        db = database

        async def erase_data(channel: str, user_id: str) -> None:
            """Erase a user's data at their request; staff learn which bookings it cancelled."""
            cancelled = await erase_user(db, channel, user_id)
            if cancelled and desk is not None:
                await desk.tell_staff(
                    "Un utente ha chiesto di cancellare i suoi dati: annullati "
                    + ", ".join(cancelled)
                )

        erase = erase_data

    engine = Engine(content, store, interface, desk=desk, erase=erase)
    telegram = None
    if channels and settings.telegram_bot_token:
        telegram = TelegramChannel(engine, settings, interface)
        if desk is not None:
            desk.staff_notice = telegram.alert_staff  # every booking change reaches the staff group
            telegram.desk, telegram.catalog = desk, content
    whatsapp = None
    if channels and settings.whatsapp_enabled and database is not None:
        whatsapp = WhatsAppChannel(
            engine,
            settings,
            interface,
            Outbox(database),
            InboundLog(database),
            default_language=lambda: content.catalog.default_language,
            staff_alert=telegram.alert_staff if telegram is not None else None,
        )
    reminders = None
    if desk is not None:
        senders: dict[str, Sender] = {}
        if telegram is not None:
            senders["telegram"] = telegram.tell
        if whatsapp is not None:
            senders["whatsapp"] = whatsapp.tell
        reminders = Reminders(desk, content, interface, senders, hour=settings.reminder_hour)
        desk.user_notice = reminders.tell  # staff cancelling a booking: the user is told
    agenda = None
    if desk is not None and telegram is not None and settings.agenda_hour is not None:
        agenda = MorningAgenda(desk, content, hour=settings.agenda_hour)
    try:
        yield Services(
            settings, content, interface, engine, database, telegram, whatsapp, reminders, agenda
        )
    finally:
        if database is not None:
            await database.close()
