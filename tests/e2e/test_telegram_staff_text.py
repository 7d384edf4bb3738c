"""What people type reaches the staff group, and staff replies reach people, as typed: the
real python-telegram-bot against the fake Bot API, hostile names and messages."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.storage.handovers import HandoverStore
from tests.auxil.waiting import eventually
from tests.e2e.test_telegram import (
    STAFF_CHAT,
    USER,
    keyboard_ids,
    press,
    running_bot,
    staff_reply,
    start,
    text,
    update,
)

#: Fake headings, HTML, and a right-to-left override that would turn what follows around.
HOSTILE_NAME = "**Appuntamento annullato** <b>Amina</b>\u202e Rossi\u200b"
HOSTILE_MESSAGE = "**Conversazione chiusa** <i>x</i> \u202eok"


async def test_a_hostile_name_reaches_staff_literally(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        await bot.send(start(language_code="it"))
        await bot.send(text("vorrei un appuntamento"))
        (days,) = await bot.send(press("bk:svc:permit_renewal"))
        (times,) = await bot.send(press(keyboard_ids(days)[0]))
        await bot.send(press(keyboard_ids(times)[0]))
        await bot.send(text(HOSTILE_NAME))
        (summary,) = await bot.send(text("333 1234567"))
        shown = "**Appuntamento annullato** &lt;b&gt;Amina&lt;/b&gt; Rossi, +393331234567"
        assert shown in summary.params["text"]
        await bot.send(press("bk:confirm"))
        await bot.fake.wait_for(lambda: bool(bot.fake.sent(STAFF_CHAT)))
        (notice,) = bot.fake.sent(STAFF_CHAT)
        assert notice.params["parse_mode"] == "HTML"
        assert shown in notice.params["text"]
        assert "<b>" not in notice.params["text"]  # the booking notice has no bold of ours
        assert "\u202e" not in notice.params["text"] and "\u200b" not in notice.params["text"]


async def test_a_hostile_message_and_a_staff_reply_go_literally(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        await bot.send(start(language_code="it"))
        await bot.send(press("act:human"))
        await bot.send(text(HOSTILE_MESSAGE))
        await bot.fake.wait_for(lambda: bool(bot.fake.sent(STAFF_CHAT)))
        (request,) = bot.fake.sent(STAFF_CHAT)
        html = request.params["text"]
        assert "\n\n**Conversazione chiusa** &lt;i&gt;x&lt;/i&gt; ok\n\n" in html
        assert "<b>" not in html and "\u202e" not in html

        (answer,) = await bot.send(staff_reply(request, "**Urgente**: porti 2*3 foto <u>"))
        assert answer.params["text"].endswith("\n\n**Urgente**: porti 2*3 foto &lt;u&gt;")
        assert "<b>" not in answer.params["text"]


async def test_a_staff_reply_to_any_part_of_a_long_notice_reaches_the_user(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        await bot.send(start(language_code="it"))
        await bot.send(press("act:human"))
        # 2000 characters that Telegram counts twice: the notice is sent in two messages.
        await bot.send(text("😀" * 2000))
        await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) == 2)
        first, last = bot.fake.sent(STAFF_CHAT)
        assert "😀" in first.params["text"] and keyboard_ids(last)  # the close button
        # The bot writes down which messages the parts became once Telegram has answered for
        # both: a busy machine may get the test's reply in before (no person types that fast).
        assert bot.services.database is not None
        handovers = HandoverStore(bot.services.database)
        for part in (first, last):
            message_id = str(part.result["message_id"])

            async def known(message_id: str = message_id) -> int | None:
                return await handovers.by_staff_message("telegram", str(STAFF_CHAT), message_id)

            await eventually(known)

        (answer,) = await bot.send(staff_reply(first, "Risposta alla prima parte."))
        assert answer.params["text"].endswith("Risposta alla prima parte.")
        (answer,) = await bot.send(staff_reply(last, "E all'ultima."))
        assert answer.params["text"].endswith("E all'ultima.")
        await bot.fake.wait_for(
            lambda: sum("Inviato" in c.params["text"] for c in bot.fake.sent(STAFF_CHAT)) == 2
        )


#: What staff read when their reply reaches nobody (the catalog's Italian).
NOT_DELIVERED = (
    "⚠️ Questa risposta non arriva a nessun utente: il messaggio a cui rispondete non è (più) "
    "una conversazione o una richiesta in corso, oppure l'utente ha cancellato i suoi dati."
)


async def test_staff_are_told_when_a_reply_reaches_nobody(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        (agenda,) = await bot.send(update("group_message", text="/oggi"), chat_id=STAFF_CHAT)
        (told,) = await bot.send(staff_reply(agenda, "Chi la chiama?"), chat_id=STAFF_CHAT)
        assert told.params["text"] == NOT_DELIVERED
        # A command as a reply is still a command; someone who is not staff gets no answer.
        (again,) = await bot.send(staff_reply(agenda, "/oggi"), chat_id=STAFF_CHAT)
        assert again.params["text"].startswith("Agenda di ")
        before = len(bot.fake.sent(STAFF_CHAT))
        bot.fake.queue(staff_reply(agenda, "ciao", user=666))
        await asyncio.sleep(0.3)
        assert len(bot.fake.sent(STAFF_CHAT)) == before

        # The user of a conversation erases their data: a reply to it reaches nobody.
        await bot.send(start(language_code="it"))
        await bot.send(press("act:human"))
        await bot.send(text("Ho perso il permesso"))
        await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) == before + 1)
        request = bot.fake.sent(STAFF_CHAT)[-1]
        await bot.send(press("act:erase"))
        (told,) = await bot.send(staff_reply(request, "Venga lunedì."), chat_id=STAFF_CHAT)
        assert told.params["text"] == NOT_DELIVERED
        assert not any("Venga lunedì" in c.params["text"] for c in bot.fake.sent(USER))


async def test_staff_are_told_when_the_user_blocked_the_bot(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        await bot.send(start(language_code="it"))
        await bot.send(press("act:human"))
        await bot.send(text("Ho perso il permesso"))
        await bot.fake.wait_for(lambda: bool(bot.fake.sent(STAFF_CHAT)))
        (request,) = bot.fake.sent(STAFF_CHAT)
        bot.fake.blocked.add(USER)
        bot.fake.queue(staff_reply(request, "Venga lunedì."))
        await bot.fake.wait_for(
            lambda: any("bloccato il bot" in c.params["text"] for c in bot.fake.sent(STAFF_CHAT))
        )
        told = [c.params["text"] for c in bot.fake.sent(STAFF_CHAT)]
        assert (
            "Telegram: un messaggio (conversazione #1) non è arrivato: l'utente ha bloccato il "
            "bot. Contattate la persona in un altro modo."
        ) in told
        assert not any("Venga lunedì" in c.params["text"] for c in bot.fake.sent(USER))
