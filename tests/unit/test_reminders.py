"""Reminders the day before, in the user's language, once, through each user's channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.booking.notices import NoticeRouter
from bot.booking.reminders import Reminders
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.i18n import STAFF_LANGUAGE, Interface
from bot.reach import UNPROMPTED
from bot.staff.agenda import StaffAgenda
from bot.storage.appointments import AppointmentStore
from bot.storage.daily import DailyPosts
from bot.storage.db import Database
from bot.storage.outbox import Outbox

ROME = ZoneInfo("Europe/Rome")


async def test_reminders_go_out_once_from_the_configured_hour(
    database_target: str, catalog: Catalog, interface: Interface
) -> None:
    clock = [datetime(2026, 12, 1, 17, 0, tzinfo=ROME)]  # Tuesday
    async with Database(database_target) as database:
        store = AppointmentStore(database)
        outbox = Outbox(database)
        router = NoticeRouter(channels={"telegram": UNPROMPTED, "whatsapp": UNPROMPTED})
        desk = BookingDesk(store, ROME, clock=lambda: clock[0], queue=outbox, router=router)
        start = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)  # Wednesday
        for channel, user, language in (
            ("telegram", "501", "it"),
            ("whatsapp", "+393330000000", "en"),
            ("terminal", "local", "it"),
        ):
            await store.book(
                office="luino",
                service="permit_renewal",
                starts_at=start,
                ends_at=start,
                capacity=5,
                max_active=2,
                channel=channel,
                user_id=user,
                name="A",
                phone="1",
                language=language,
                code_prefix="LU",
                now=clock[0],
            )
        reminders = Reminders(desk, lambda: catalog, interface, hour=18)
        assert await reminders.run_once() == 0  # 17:00: too early
        clock[0] = datetime(2026, 12, 1, 18, 5, tzinfo=ROME)
        assert await reminders.run_once() == 2  # the terminal user has no channel to be reached on
        assert await reminders.run_once() == 0  # once only
        queued = [
            (message.channel, message.payload["notice"])
            for channel in ("telegram", "whatsapp", "terminal")
            for message in await outbox.pending(channel)
        ]
    assert {notice["purpose"] for _, notice in queued} == {"reminder"}
    sent = [(channel, notice["text"], notice["variables"]["1"]) for channel, notice in queued]
    texts = {channel: text for channel, text, _ in sent}
    assert "domani" in texts["telegram"] and "mercoledì 2 dicembre, 10:00" in texts["telegram"]
    assert "via Ronchetto 1" in texts["telegram"]
    assert "passaporto" in texts["telegram"]  # the documents to bring
    assert "tomorrow" in texts["whatsapp"] and "passport" in texts["whatsapp"]
    assert all(code.startswith("LU-") for _, _, code in sent)


async def test_the_morning_agenda_is_posted_once_a_day(
    database_target: str, catalog: Catalog, interface: Interface
) -> None:
    from bot.booking.reminders import MorningAgenda

    clock = [datetime(2026, 12, 2, 7, 0, tzinfo=ROME)]
    async with Database(database_target) as database:
        outbox = Outbox(database)
        router = NoticeRouter(staff=[("telegram", "-100")])
        desk = BookingDesk(
            AppointmentStore(database), ROME, clock=lambda: clock[0], queue=outbox, router=router
        )
        staff = StaffAgenda(interface.translator(STAFF_LANGUAGE), desk, lambda: catalog)
        agenda = MorningAgenda(desk, staff.days, DailyPosts(database), hour=8)
        assert not await agenda.run_once()  # 07:00: not yet
        clock[0] = datetime(2026, 12, 2, 8, 1, tzinfo=ROME)
        assert await agenda.run_once()
        assert not await agenda.run_once()  # once a day
        # The bot restarts the same morning: the agenda is not posted again.
        again = MorningAgenda(desk, staff.days, DailyPosts(database), hour=8)
        assert not await again.run_once()
        clock[0] = datetime(2026, 12, 3, 9, 0, tzinfo=ROME)
        assert await agenda.run_once()
        posted = [message.payload["notice"]["text"] for message in await outbox.pending("telegram")]
    assert posted[0] == "Agenda di mercoledì 2 dicembre: nessun appuntamento."
    assert len(posted) == 2
