"""This module contains the e-mail copies of staff notices, sent over SMTP from the outbox.

Off unless ``SMTP_HOST`` is set. smtplib blocks, so each message is sent in a worker thread;
the outbox worker retries temporary failures (4xx replies, connection problems).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from starlette.routing import BaseRoute

from bot.channels.base import Reach
from bot.config import Settings
from bot.content.markup import plain
from bot.notice import Notice
from bot.notify.leadership import Leadership
from bot.notify.worker import Meter, OutboxQueue, OutboxWorker, SendError

log = logging.getLogger(__name__)

CHANNEL = "email"
SUBJECT_LENGTH = 90
TIMEOUT_SECONDS = 30


def compose(
    settings: Settings, recipient: str, text: str, sender: str | None = None
) -> EmailMessage:
    """A plain-text e-mail whose subject is the notice's first line; ``sender``: the name it
    comes from (the counter's, so that a mailbox that serves several counters tells them
    apart)."""
    text = plain(text)  # bold marks and escapes are for chats; names show as typed
    first_line = text.strip().splitlines()[0] if text.strip() else "Sportello"
    message = EmailMessage()
    address = settings.smtp_from or ""
    message["From"] = formataddr((sender, address)) if sender and address else address
    message["To"] = recipient
    message["Subject"] = f"[Sportello] {first_line[:SUBJECT_LENGTH]}"
    message["Date"] = formatdate(localtime=True)
    domain = (settings.smtp_from or "sportello.invalid").rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    return message


class EmailChannel:
    """Sends the ``email`` part of the outbox: a channel nobody writes to."""

    name = CHANNEL
    #: Staff copies only: no user is reached by e-mail.
    reach = Reach(
        user_id_is_phone=False, files=False, window_hours=None, unprompted=True, inbound=False
    )

    def __init__(
        self,
        settings: Settings,
        outbox: OutboxQueue,
        meter: Meter | None = None,
        sender: Callable[[], str | None] = lambda: None,
        leadership: Leadership | None = None,
    ) -> None:
        self.settings = settings
        self._sender = sender  # the counter's name, from the content as it is now
        self.worker = OutboxWorker(outbox, CHANNEL, self.send, meter=meter, leadership=leadership)

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    def health(self) -> Mapping[str, object]:
        return {}  # the outbox's figures say it all (``Metrics.channel_health``)

    async def start(self) -> None:
        self.worker.start()
        self.worker.wake()

    async def stop(self) -> None:
        await self.worker.stop()

    def wake(self) -> None:
        self.worker.wake()

    async def send(self, recipient: str, notice: Notice) -> str | None:
        message = compose(self.settings, recipient, notice.text, self._sender())
        try:
            await asyncio.to_thread(self._deliver, message)
        except smtplib.SMTPResponseException as error:
            temporary = 400 <= error.smtp_code < 500
            raise SendError(f"SMTP {error.smtp_code}", retry=temporary) from error
        except smtplib.SMTPRecipientsRefused as error:
            raise SendError("SMTP: recipient refused", retry=False) from error
        except (smtplib.SMTPException, OSError) as error:
            raise SendError(f"SMTP unavailable: {type(error).__name__}", retry=True) from error
        return str(message["Message-ID"])

    def _deliver(self, message: EmailMessage) -> None:
        settings = self.settings
        assert settings.smtp_host is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=context)
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
