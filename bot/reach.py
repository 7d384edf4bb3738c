"""This module contains what a channel knows of and can do for its users: plain data the
engine and the notices' routing read, given by the composition root (``bot.app``) from the
configured channels (``bot.channels.base`` re-exports it for the channels)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reach:
    """What a channel knows of and can do for its users."""

    #: The user's id is their phone number (WhatsApp): booking does not ask for it.
    user_id_is_phone: bool
    #: The user can receive a file (an appointment's .ics); else they get a signed link.
    files: bool
    #: Free-form messages only within this many hours of the user's last message (WhatsApp:
    #: 24); None: no such window.
    window_hours: int | None
    #: The channel can message a user who did not just write (notices, reminders, staff
    #: answers); the terminal chat cannot.
    unprompted: bool
    #: Users write to the bot there (e-mail only carries copies of staff notices): its
    #: messages received and answered are counted, its health is reported.
    inbound: bool = True


#: A channel nobody configured, or the terminal chat: it knows nothing of its users and can
#: only answer.
UNKNOWN = Reach(user_id_is_phone=False, files=False, window_hours=None, unprompted=False)

#: A channel that can message its users at any time and knows nothing else of them.
UNPROMPTED = Reach(user_id_is_phone=False, files=False, window_hours=None, unprompted=True)
