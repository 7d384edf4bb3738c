"""This module contains what the bot records for the counter's monitoring, and how.

The engine, the booking desk and the staff commands call a ``Monitor``; it builds anonymous
``Event`` records (the hour, never the minute; no text; the person only as a pseudonym the
storage computes) and hands them to an ``EventSink``. Recording never fails a conversation:
an error is logged and the user is answered as usual.

Kinds and actions:

- ``topic/opened``: a topic shown from the menus;
- ``question/answered``, ``question/unsure`` (possible topics offered), ``question/unanswered``:
  free text, with the nearest topic and area when there is one, and the detected language;
- ``desk/logged``: a consultation at the desk or by phone, logged by staff (no person);
- ``booking/made``, ``moved``, ``cancelled``, ``attended``, ``no_show``, with service and office;
- ``handover/requested``, ``handover/answered`` (with the response time in seconds);
- ``deadline/set``, ``deadline/sent``: one personal deadline reminder set or sent, with the
  kind of deadline in ``topic`` (``permit_renewal``); never its dates, never the person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.storage.records import Appointment, Event

log = logging.getLogger(__name__)

TOPIC, QUESTION, DESK, BOOKING, HANDOVER = "topic", "question", "desk", "booking", "handover"
DEADLINE = "deadline"
DEADLINE_ACTIONS = ("set", "sent")
ANSWERED, UNSURE, UNANSWERED = "answered", "unsure", "unanswered"
BOOKING_ACTIONS = ("made", "moved", "cancelled", "attended", "no_show")
#: Where staff-logged consultations happened (the bot's own: telegram, whatsapp, webchat).
DESK_CHANNELS = ("desk", "phone")
ERASED_USER = "erased"  # what an appointment's user id becomes when its user erased their data
EXPIRED_USER = "expired"  # ... and once the retention period is over


class EventSink(Protocol):
    """Where events go (``bot.storage.events.EventStore``)."""

    async def record(self, event: Event, person: str | None) -> None: ...


class EventSource(Protocol):
    """Where events come back from, for the statistics."""

    async def between(self, start: datetime, end: datetime) -> list[Event]: ...


def _now() -> datetime:
    return datetime.now(UTC)


class Monitor:
    """Records anonymous events; one instance for the whole bot."""

    #: Whether anything is recorded (``NullMonitor``: no): a caller may spare the work of
    #: gathering what would only be dropped.
    records = True

    def __init__(self, sink: EventSink, clock: Callable[[], datetime] = _now) -> None:
        self._sink = sink
        self._clock = clock

    async def topic(self, channel: str, user_id: str, language: str, topic: str, area: str) -> None:
        """A user read a topic they chose from a menu."""
        await self._record(
            TOPIC, "opened", channel, user_id, language=language, topic=topic, area=area
        )

    async def question(
        self,
        channel: str,
        user_id: str,
        language: str,
        outcome: str,
        topic: str | None,
        area: str | None,
    ) -> None:
        """A free-text question: answered, unsure or unanswered, with its nearest topic."""
        await self._record(
            QUESTION, outcome, channel, user_id, language=language, topic=topic, area=area
        )

    async def booking(self, action: str, appointment: Appointment) -> None:
        """A booking made, moved, cancelled, attended or missed."""
        anonymous = appointment.user_id in (ERASED_USER, EXPIRED_USER)
        user_id = None if anonymous else appointment.user_id
        await self._record(
            BOOKING,
            action,
            appointment.channel,
            user_id,
            language=appointment.language,
            service=appointment.service,
            office=appointment.office,
        )

    async def handover_requested(self, channel: str, user_id: str, language: str) -> None:
        """A user asked to talk to a person."""
        await self._record(HANDOVER, "requested", channel, user_id, language=language)

    async def handover_answered(
        self, channel: str, user_id: str, language: str, seconds: float
    ) -> None:
        """Staff answered a handover ``seconds`` after it was requested."""
        await self._record(
            HANDOVER, "answered", channel, user_id, language=language, seconds=round(seconds)
        )

    async def deadline(self, action: str, channel: str, language: str, kind: str) -> None:
        """A deadline reminder set or sent: counted by kind, with no person and no date (a
        pseudonym beside a kind of deadline would say whose permit expires when)."""
        await self._record(DEADLINE, action, channel, None, language=language, topic=kind)

    async def desk(self, area: str, language: str, channel: str, office: str | None = None) -> None:
        """A consultation at the desk or by phone, logged by staff: no person is recorded."""
        await self._record(
            DESK, "logged", channel, None, language=language, area=area, office=office
        )

    async def _record(
        self,
        kind: str,
        action: str,
        channel: str,
        user_id: str | None,
        *,
        language: str | None = None,
        area: str | None = None,
        topic: str | None = None,
        service: str | None = None,
        office: str | None = None,
        seconds: int | None = None,
    ) -> None:
        event = Event(
            kind=kind,
            action=action,
            hour=self._clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0),
            channel=channel,
            language=language,
            area=area,
            topic=topic,
            service=service,
            office=office,
            seconds=seconds,
        )
        person = f"{channel}:{user_id}" if user_id else None
        try:
            await self._sink.record(event, person)
        except Exception:
            # The counts may miss one event; the user must never miss their answer.
            log.exception("monitoring: a %s/%s event could not be recorded", kind, action)


class _Nowhere:
    async def record(self, event: Event, person: str | None) -> None:
        return None


class NullMonitor(Monitor):
    """A monitor that records nothing: what a bot that is not serving users counts (the
    terminal chat, ``sportello ask``, an editor's preview, a test of something else)."""

    records = False

    def __init__(self) -> None:
        super().__init__(_Nowhere())

    async def _record(self, kind: str, action: str, *args: object, **fields: object) -> None:
        return None
