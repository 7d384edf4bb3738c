"""This module contains the routing of notices: who receives a staff notice, and which users
can be reached on their channel at all.

It only builds ``Notice`` records; they are queued with the change they tell of and sent by
each channel's outbox worker.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from bot.storage.records import Appointment, Notice

STAFF_PURPOSE = "staff"
#: Buttons under a notice: rows of (choice id, label).
Buttons = tuple[tuple[tuple[str, str], ...], ...]


@dataclass
class NoticeRouter:
    """Destinations of notices, set once the channels are known (``bot.app``).

    ``staff`` lists (channel, recipient) pairs that receive every staff notice: the staff
    group on Telegram. ``copies`` receive the same except conversations with a person (which
    are answered in the group): e-mail addresses, when configured. ``user_channels`` are the
    channels that can message a user who did not just write (the terminal chat cannot).
    ``wake`` is called after notices were queued, so the workers send them at once.
    """

    staff: Sequence[tuple[str, str]] = ()
    copies: Sequence[tuple[str, str]] = ()
    user_channels: Collection[str] = ()
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
        return channel in self.user_channels

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
