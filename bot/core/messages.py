"""This module contains the channel-neutral message types: ``Incoming``, ``Reply``, ``Choice``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a user sent, as far as the engine cares."""

    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"
    MEDIA = "media"
    CONTACT = "contact"
    LOCATION = "location"


@dataclass(frozen=True)
class Incoming:
    """One thing a user sent, already parsed by a channel adapter.

    ``text`` holds typed text (or a command without its slash, or the phone number of a
    contact card the user shared of themselves); ``choice_id`` the id of a
    pressed button; ``language_hint`` the user's language as the platform knows it (used as
    is); ``language_guess`` a weaker clue (a phone's country) that the engine confirms;
    ``stored_as`` the key under which the channel stored the message until it is processed:
    it is marked processed in the same write as the turn's state, so that a crash (or another
    instance taking over) never answers it a second time, against the next step.
    """

    channel: str
    user_id: str
    kind: Kind = Kind.TEXT
    text: str = ""
    choice_id: str | None = None
    language_hint: str | None = None
    language_guess: str | None = None
    stored_as: str | None = None


@dataclass(frozen=True)
class Choice:
    """One option offered to the user: a button, or a numbered line."""

    id: str
    label: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply, such as an iCalendar invitation."""

    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Reply:
    """One message the bot sends. Channels render ``choices`` their own way.

    ``text`` uses the content markup: paragraphs, ``- `` bullets, ``**bold**``, bare links;
    what people typed goes in through ``bot.content.markup.literal`` (it shows as typed).
    ``rtl`` says the text is in a right-to-left language. ``forget`` marks the reply that
    confirms the erasure of the user's data: a channel that queues it keeps no copy of it
    (nor of the user's address) once it has gone.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())
    language: str = "it"
    rtl: bool = False
    forget: bool = False
