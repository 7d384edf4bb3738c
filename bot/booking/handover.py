"""This module contains "talk to a person": a user's messages go to the staff group, and a
staff member's reply there goes back to the user, until staff close the conversation.

Every message travels as a notice in the outbox, queued with the change it belongs to; the
staff group's replies find their conversation through the id of the notice they answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.booking.notices import NoticeRouter
from bot.content.markup import typed_text
from bot.i18n import STAFF_LANGUAGE, Interface, Translator
from bot.monitoring.events import Monitor, NullMonitor
from bot.storage.records import Handover, Notice, Posted

HANDOVER_PURPOSE = "handover"  # the WhatsApp template for a staff reply outside 24 hours
CLOSED_PURPOSE = "handover_closed"


class HandoverStore(Protocol):
    """What the desk needs of the handovers table (``bot.storage.handovers``)."""

    async def open(
        self,
        channel: str,
        user_id: str,
        language: str,
        notices: Callable[[Handover, bool], Sequence[Notice]],
    ) -> tuple[Handover, bool]: ...

    async def current(self, channel: str, user_id: str) -> Handover | None: ...

    async def get(self, handover_id: int) -> Handover | None: ...

    async def by_staff_message(
        self, channel: str, recipient: str, message_id: str
    ) -> int | None: ...

    async def post(
        self, handover_id: int, notices: Sequence[Notice], answer: bool
    ) -> Posted | None: ...

    async def close(self, handover_id: int, by: str, notices: Sequence[Notice]) -> bool: ...


class HandoverDesk:
    """Conversations between users and the counter's staff, whatever the channels."""

    def __init__(
        self,
        store: HandoverStore,
        router: NoticeRouter,
        interface: Interface,
        on_answer: Callable[[str, str], Awaitable[None]] | None = None,
        monitor: Monitor | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.interface = interface
        #: Counts requests and first answers, anonymously (only a serving bot counts).
        self.monitor: Monitor = monitor if monitor is not None else NullMonitor()
        #: Called when staff answer a user, so the user's next message goes back to staff
        #: (``Engine.converse``, through a port: the engine is built after this desk).
        self.on_answer = on_answer

    @property
    def staff(self) -> Translator:
        """What the staff group reads: staff texts in its language (a cached translator)."""
        return self.interface.translator(STAFF_LANGUAGE)

    def _reference(self, number: int) -> str:
        """How staff are told which conversation a message was about (one that never
        arrived, say)."""
        return self.staff.pgettext("staff", "conversation #{number}").format(number=number)

    def available(self, channel: str) -> bool:
        """A person can answer: staff receive notices, and the user's channel can be reached."""
        return bool(self.router.staff) and self.router.reaches(channel)

    async def current(self, channel: str, user_id: str) -> Handover | None:
        return await self.store.current(channel, user_id)

    async def ask(
        self, channel: str, user_id: str, language: str, text: str, danger: bool = False
    ) -> bool:
        """A user's message to the counter; True when it opened a new conversation. With
        ``danger`` (it shows a sign of danger), staff read that first."""

        def notices(handover: Handover, new: bool) -> list[Notice]:
            s = self.staff
            if new:
                headline = s.pgettext("staff", "🙋 Request to talk to a person #{number}")
            else:
                headline = s.pgettext("staff", "💬 Message #{number}")
            heading = s.pgettext("staff", "{headline} — language {language}, {channel}").format(
                headline=headline.format(number=handover.id),
                language=handover.language,
                channel=handover.channel,
            )
            footer = s.pgettext("staff", "↩️ Reply to this message to write to the user.")
            alert = s.pgettext(
                "staff",
                "🚨 Signs of danger in this message: the user was shown the help for people in "
                "danger.",
            )
            parts = (alert, heading) if danger else (heading,)
            body = "\n\n".join((*parts, typed_text(text), footer))
            return self.router.to_staff(body, handover=handover.id)

        _, new = await self.store.open(channel, user_id, language, notices)
        self.router.wake()
        if new:
            await self.monitor.handover_requested(channel, user_id, language)
        return new

    async def question(
        self, channel: str, user_id: str, language: str, heading: str, text: str, about: str
    ) -> str:
        """Staff ask a user something (about their request, ``about``): the question opens a
        conversation as its first answer, and what the user writes back comes to the group,
        as with "talk to a person". Not counted as a request to talk to a person: the user
        did not ask. Returns what to tell the staff group."""
        if not self.router.reaches(channel):
            return self.staff.pgettext(
                "staff", "{about}: the user cannot be reached in chat; phone them."
            ).format(about=about)

        def notices(handover: Handover, new: bool) -> list[Notice]:
            s = self.staff
            heading = s.pgettext(
                "staff", "❓ Question for {about} (conversation #{number}), language {language}:"
            ).format(about=about, number=handover.id, language=handover.language)
            footer = s.pgettext(
                "staff",
                "↩️ The user's answers arrive here: reply to their messages to write to them.",
            )
            body = "\n\n".join((heading, typed_text(text), footer))
            return self.router.to_staff(body, handover=handover.id)

        handover, _ = await self.store.open(channel, user_id, language, notices)
        message = self.router.to_user(
            channel,
            user_id,
            f"💬 {heading}\n\n{typed_text(text)}",
            HANDOVER_PURPOSE,
            {"1": text},
            language=language,
            reference=about,
        )
        await self.store.post(handover.id, message, answer=True)
        self.router.wake()
        if self.on_answer is not None:
            await self.on_answer(channel, user_id)
        return self.staff.pgettext(
            "staff", "✉️ Question sent ({about}, conversation #{number})."
        ).format(about=about, number=handover.id)

    async def answer(self, handover_id: int, text: str) -> str:
        """A staff member's reply, for the user; returns what to tell the staff group."""
        handover = await self.store.get(handover_id)
        if handover is None or not handover.open:
            return self.staff.pgettext(
                "staff", "Conversation #{number} is closed: the user no longer gets answers."
            ).format(number=handover_id)
        t = self.interface.translator(handover.language)
        heading = t._("The counter replies:")
        message = f"💬 {heading}\n\n{typed_text(text)}"
        notices = self.router.to_user(
            handover.channel,
            handover.user_id,
            message,
            HANDOVER_PURPOSE,
            {"1": text},
            language=handover.language,
            reference=self._reference(handover.id),
        )
        posted = await self.store.post(handover_id, notices, answer=True) if notices else None
        if posted is None:
            return self.staff.pgettext("staff", "Conversation #{number} cannot be reached.").format(
                number=handover_id
            )
        self.router.wake()
        if posted.first_answer:
            await self.monitor.handover_answered(
                handover.channel,
                handover.user_id,
                handover.language,
                time.time() - handover.opened_at,
            )
        if self.on_answer is not None:
            await self.on_answer(handover.channel, handover.user_id)
        return self.staff.pgettext("staff", "✉️ Sent (#{number}).").format(number=handover_id)

    async def close_for_staff(self, handover_id: int) -> str:
        """Staff close a conversation (the user is told); returns what to tell the group."""
        if await self.close(handover_id, by_staff=True):
            text = self.staff.pgettext("staff", "🔚 Conversation #{number} closed.")
        else:
            text = self.staff.pgettext("staff", "#{number}: already closed.")
        return text.format(number=handover_id)

    async def close(self, handover_id: int, by_staff: bool) -> bool:
        """Close a conversation; the other side is told."""
        handover = await self.store.get(handover_id)
        if handover is None or not handover.open:
            return False
        if by_staff:
            t = self.interface.translator(handover.language)
            notices = self.router.to_user(
                handover.channel,
                handover.user_id,
                t._("The counter has closed this conversation. Write again whenever you need."),
                CLOSED_PURPOSE,
                language=handover.language,
                reference=self._reference(handover.id),
                courtesy=True,
            )
        else:
            notices = self.router.to_staff(
                self.staff.pgettext(
                    "staff", "🔚 The user has closed conversation #{number}."
                ).format(number=handover_id)
            )
        closed = await self.store.close(handover_id, "staff" if by_staff else "user", notices)
        self.router.wake()
        return closed
