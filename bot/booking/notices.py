"""This module contains the routing of notices: who receives a staff notice, and which users
can be reached on their channel at all.

It only builds ``Notice`` records; they are queued with the change they tell of and sent by
each channel's outbox worker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.notice import Buttons, Notice
from bot.reach import Reach
from bot.storage.records import Appointment

STAFF_PURPOSE = "staff"

__all__ = ["STAFF_PURPOSE", "Buttons", "NoticeRouter", "Wakeup"]


class Wakeup:
    """A late-bound port: "notices were queued, send them now".

    The channels that send notices are built after what queues them (the booking desk, the
    conversations with a person: a channel needs those to answer staff), so the router is
    given this port when it is built, and the composition root connects the channels to it
    once they exist (``connect``), instead of patching a function onto the router later.
    """

    def __init__(self) -> None:
        self._wakes: list[Callable[[], None]] = []

    def connect(self, wake: Callable[[], None]) -> None:
        self._wakes.append(wake)

    def __call__(self) -> None:
        for wake in self._wakes:
            wake()


@dataclass(frozen=True)
class NoticeRouter:
    """Destinations of notices, known from the configured channels (``bot.app``).

    ``staff`` lists (channel, recipient) pairs that receive every staff notice: the staff
    group on Telegram. ``copies`` receive the same except conversations with a person (which
    are answered in the group): e-mail addresses, when configured. ``channels`` says, for each
    configured channel, what it can do: a user is sent a notice only on a channel that can
    message a user who did not just write (the terminal chat cannot). ``wake`` is called
    after notices were queued, so the workers send them at once.
    """

    staff: Sequence[tuple[str, str]] = ()
    copies: Sequence[tuple[str, str]] = ()
    channels: Mapping[str, Reach] = field(default_factory=dict)
    wake: Callable[[], None] = field(default=lambda: None)

    def to_staff(
        self,
        text: str,
        code: str | None = None,
        handover: int | None = None,
        *,
        buttons: Buttons = (),
        reference: str | None = None,
        reply_action: str | None = None,
    ) -> list[Notice]:
        """A notice for staff; a conversation's and a prompt's go to the group only (they are
        answered there by replying to them)."""
        answered_here = handover is not None or reply_action is not None
        destinations = [*self.staff, *(self.copies if not answered_here else ())]
        return [
            Notice(
                channel,
                recipient,
                text,
                STAFF_PURPOSE,
                code=code,
                handover=handover,
                reference=reference,
                buttons=buttons,
                reply_action=reply_action,
            )
            for channel, recipient in destinations
        ]

    def reaches(self, channel: str) -> bool:
        """Whether a user of this channel can be sent a notice."""
        reach = self.channels.get(channel)
        return reach is not None and reach.unprompted and reach.inbound

    def to_user(
        self,
        channel: str,
        user_id: str,
        text: str,
        purpose: str,
        variables: Mapping[str, str] | None = None,
        language: str | None = None,
        reference: str | None = None,
        courtesy: bool = False,
        buttons: Buttons = (),
    ) -> list[Notice]:
        if not self.reaches(channel):
            return []
        notice = Notice(
            channel,
            user_id,
            text,
            purpose,
            dict(variables or {}),
            language=language,
            reference=reference,
            courtesy=courtesy,
            buttons=buttons,
        )
        return [notice]

    def about(
        self,
        appointment: Appointment,
        text: str,
        purpose: str,
        variables: Mapping[str, str] | None = None,
    ) -> list[Notice]:
        """A notice to the user who made ``appointment``."""
        return self.to_user(
            appointment.channel,
            appointment.user_id,
            text,
            purpose,
            variables,
            language=appointment.language,
            reference=appointment.code,
        )
