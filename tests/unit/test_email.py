"""E-mail copies of staff notices: a real SMTP conversation with a server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.booking.notices import NoticeRouter
from bot.channels.email import EmailChannel
from bot.config import ConfigError, Settings
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import free_port


class Inbox:
    """An SMTP server's handler: keeps what it receives; can answer with an error instead."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply: str = "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply.startswith("250"):
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return self.reply


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def outbox(database: Database) -> Outbox:
    return Outbox(database)


def settings(port: int) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="sportello@comune.example",
        smtp_to=("sportello.immigrati@comune.example",),
    )


async def test_staff_notices_are_copied_by_e_mail_but_not_conversations(
    smtp: tuple[Inbox, int], outbox: Outbox
) -> None:
    inbox, port = smtp
    router = NoticeRouter(
        staff=[("telegram", "-100")], copies=[("email", "sportello.immigrati@comune.example")]
    )
    await outbox.add_notices(
        router.to_staff("📅 Nuovo appuntamento LU-4K7P\nRinnovo del permesso", "LU-4K7P")
    )
    await outbox.add_notices(router.to_staff("🙋 Richiesta #1\n\nuna domanda", handover=1))
    channel = EmailChannel(settings(port), outbox, sender=lambda: "Sportello Stranieri di Como")
    assert await channel.worker.drain() == 1  # the conversation went to Telegram only
    ((sender, recipients),) = inbox.envelopes
    assert sender == "sportello@comune.example"
    assert recipients == ["sportello.immigrati@comune.example"]
    (message,) = inbox.messages
    assert message["Subject"] == "[Sportello] 📅 Nuovo appuntamento LU-4K7P"
    assert message["From"] == "Sportello Stranieri di Como <sportello@comune.example>"
    assert isinstance(message, EmailMessage)
    body = message.get_body()
    assert body is not None and "Rinnovo del permesso" in body.get_content()
    assert await outbox.counts("email") == {"sent": 1}
    assert len(await outbox.pending("telegram")) == 2


async def test_temporary_smtp_errors_are_retried_permanent_ones_are_not(
    smtp: tuple[Inbox, int], outbox: Outbox
) -> None:
    inbox, port = smtp
    router = NoticeRouter(copies=[("email", "a@comune.example")])
    await outbox.add_notices(router.to_staff("Agenda di oggi: nessun appuntamento."))
    channel = EmailChannel(settings(port), outbox)
    inbox.reply = "451 Try again later"
    await channel.worker.drain()
    assert await outbox.counts("email") == {"pending": 1}
    inbox.reply = "250 OK"
    await rows(outbox._db, "UPDATE outbox SET next_attempt_at = 0")
    await channel.worker.drain()
    assert await outbox.counts("email") == {"sent": 1}
    await outbox.add_notices(router.to_staff("Un'altra"))
    inbox.reply = "550 No such user"
    await channel.worker.drain()
    assert await outbox.counts("email") == {"sent": 1, "failed": 1}


async def test_an_unreachable_server_is_retried(outbox: Outbox) -> None:
    router = NoticeRouter(copies=[("email", "a@comune.example")])
    await outbox.add_notices(router.to_staff("x"))
    await EmailChannel(settings(free_port()), outbox).worker.drain()  # nobody listens there
    assert await outbox.counts("email") == {"pending": 1}


def test_smtp_settings_are_checked() -> None:
    environment = {"SMTP_HOST": "smtp.example.org", "SMTP_TO": "a@example.org"}
    with pytest.raises(ConfigError, match="SMTP_FROM"):
        Settings.from_env(environment, env_file=None)
    with pytest.raises(ConfigError, match="starttls, tls or none"):
        Settings.from_env({**environment, "SMTP_SECURITY": "ssl3"}, env_file=None)
    with pytest.raises(ConfigError, match="e-mail addresses"):
        Settings.from_env({**environment, "SMTP_FROM": "not an address"}, env_file=None)
    tls = Settings.from_env(
        {**environment, "SMTP_FROM": "b@example.org", "SMTP_SECURITY": "tls"}, env_file=None
    )
    assert tls.email_enabled and tls.smtp_port == 465 and tls.smtp_to == ("a@example.org",)
    assert not Settings.from_env({}, env_file=None).email_enabled


async def test_e_mail_sends_are_counted_in_the_metrics(
    smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    from dataclasses import replace

    from bot.app import services
    from tests.conftest import FIXTURE_CONTENT, LOCALES

    _, port = smtp
    configured = replace(
        settings(port),
        db_path=tmp_path / "bot.sqlite3",
        content_dir=FIXTURE_CONTENT,
        locales_dir=LOCALES,
    )
    async with services(configured, channels=True) as running:
        email = running.channel(EmailChannel)
        assert email is not None and running.database is not None
        before = await running.metrics.render(running.database)
        assert 'sportello_messages_sent_total{channel="email"} 0' in before
        router = NoticeRouter(copies=[("email", "a@comune.example")])
        await Outbox(running.database).add_notices(router.to_staff("Agenda: 0"))
        await email.worker.drain()
        after = await running.metrics.render(running.database)
        assert 'sportello_messages_sent_total{channel="email"} 1' in after
