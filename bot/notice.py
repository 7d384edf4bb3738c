"""This module contains the notice: one message to send, as the outbox keeps it and the
channels receive it.

Plain data below every other layer: storage queues notices, booking builds them, the outbox
worker hands them to the channels; none of them needs another to read one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The purpose of a reply the channel already rendered in its own terms (WhatsApp's replies
#: go through the outbox too): sent as it is, never re-rendered and never a template.
REPLY = "reply"

#: Buttons under a notice: rows of (choice id, label).
Buttons = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class Notice:
    """A message nobody just asked for: to staff, or to a user about their booking; or a
    channel's reply already rendered (purpose ``REPLY``: WhatsApp's that cannot go in the
    webhook's answer), sent as it is.

    A notice is queued in the same transaction as the change it tells of, and rendered by the
    recipient's channel when it is sent: ``purpose`` names the WhatsApp template to use
    outside the 24-hour window (with ``variables``; the one for the user's ``language`` when
    there is one), ``code`` adds the staff buttons of a booking, ``handover`` the close button
    of a conversation with a person.
    """

    channel: str
    recipient: str
    text: str
    purpose: str
    variables: Mapping[str, str] = field(default_factory=dict)
    code: str | None = None
    handover: int | None = None
    language: str | None = None
    #: What staff may be told the notice was about, should it fail: a booking code, "#12".
    reference: str | None = None
    #: A courtesy (such as "the conversation is closed"): if it cannot go, nobody is alarmed.
    courtesy: bool = False
    #: Buttons under the message, in rows of (choice id, label): "accept" under a proposal
    #: for a user, "propose a time" under a request for staff. Channels without buttons
    #: number them.
    buttons: Buttons = ()
    #: Goes as a message of its own, never in a digest: staff answer it by replying to it
    #: (a conversation with a person always is).
    alone: bool = False
    #: What a staff reply to this message is for: "ask:LU-4K7P" (the question to relay to the
    #: user of that request), "decline:LU-4K7P" (the reason it is declined).
    reply_action: str | None = None
    #: When an earlier attempt at it began that may have gone through (the process died
    #: between the platform's answer and our record of it). A channel that can ask its
    #: platform what went since then sends only what did not (WhatsApp); one that cannot
    #: sends it again (Telegram, e-mail: at least once). Never stored: the outbox knows it.
    in_doubt_since: float | None = None
    #: A reply only (purpose ``REPLY``): the template the channel chose for it (WhatsApp's
    #: list picker, its content SID), with ``variables``; the text is then empty.
    template: str | None = None
    #: A reply only: the confirmation that a user's data was erased; the outbox deletes it
    #: (and the recipient) as soon as it is no longer to send.
    forget: bool = False

    @property
    def is_reply(self) -> bool:
        return self.purpose == REPLY

    def to_json(self) -> dict[str, Any]:
        """The outbox's form: a reply's as the channel rendered it, a notice under "notice".

        The form is the one rows written by earlier versions hold (storage's SQL reads
        ``$.notice.handover``, ``$.notice.reply_action`` and ``$.forget``), so it does not
        change with this class; the channel and recipient live in the outbox's own columns.
        """
        if self.is_reply:
            if self.template is not None:
                return {"content_sid": self.template, "variables": dict(self.variables)}
            reply: dict[str, Any] = {"body": self.text}
            if self.forget:
                reply["forget"] = True
            return reply
        notice: dict[str, Any] = {"text": self.text, "purpose": self.purpose}
        if self.variables:
            notice["variables"] = dict(self.variables)
        if self.code is not None:
            notice["code"] = self.code
        if self.handover is not None:
            notice["handover"] = self.handover
        if self.language is not None:
            notice["language"] = self.language
        if self.reference is not None:
            notice["reference"] = self.reference
        if self.courtesy:
            notice["courtesy"] = True
        if self.buttons:
            notice["buttons"] = [[list(button) for button in row] for row in self.buttons]
        if self.reply_action is not None:
            notice["reply_action"] = self.reply_action
        if self.alone or self.handover is not None or self.reply_action is not None:
            notice["alone"] = True
        return {"notice": notice}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], channel: str = "", recipient: str = "") -> Notice:
        """A notice from its outbox form (``channel`` and ``recipient`` from the outbox row).

        Raises ``ValueError`` for what no version wrote: the worker refuses to send it.
        """
        if "notice" not in data:
            return cls._reply(data, channel, recipient)
        notice = data["notice"]
        if not isinstance(notice, Mapping) or not isinstance(notice.get("text"), str):
            raise ValueError("not a notice")
        purpose = notice.get("purpose")
        variables = notice.get("variables") or {}
        handover = notice.get("handover")
        if not isinstance(variables, Mapping) or (
            handover is not None and not isinstance(handover, int)
        ):
            raise ValueError("not a notice")
        return cls(
            channel,
            recipient,
            notice["text"],
            purpose if isinstance(purpose, str) else "",
            {str(key): str(value) for key, value in variables.items()},
            code=_text_or_none(notice.get("code")),
            handover=handover,
            language=_text_or_none(notice.get("language")),
            reference=_text_or_none(notice.get("reference")),
            courtesy=bool(notice.get("courtesy")),
            buttons=_buttons(notice.get("buttons")),
            alone=bool(notice.get("alone")),
            reply_action=_text_or_none(notice.get("reply_action")),
        )

    @classmethod
    def _reply(cls, data: Mapping[str, Any], channel: str, recipient: str) -> Notice:
        template = data.get("content_sid")
        if isinstance(template, str):
            variables = data.get("variables") or {}
            if not isinstance(variables, Mapping):
                raise ValueError("not a reply")
            fields = {str(key): str(value) for key, value in variables.items()}
            return cls(channel, recipient, "", REPLY, fields, template=template)
        body = data.get("body")
        if not isinstance(body, str):
            raise ValueError("not a reply")
        return cls(channel, recipient, body, REPLY, forget=bool(data.get("forget")))

    @classmethod
    def reply(cls, channel: str, recipient: str, text: str, forget: bool = False) -> Notice:
        """A reply the channel rendered already, to send as it is."""
        return cls(channel, recipient, text, REPLY, forget=forget)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _buttons(rows: object) -> Buttons:
    """Rows of (choice id, label) as stored; what is no button is left out."""
    if not isinstance(rows, list):
        return ()
    kept = (
        tuple(
            (str(button[0]), str(button[1]))
            for button in row
            if isinstance(button, list | tuple) and len(button) == 2
        )
        for row in rows
        if isinstance(row, list | tuple)
    )
    return tuple(row for row in kept if row)
