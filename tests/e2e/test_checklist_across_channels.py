"""The documents to bring, on both channels through the real libraries and their fake servers:
a user writing in Bengali asks for their checklist and gets it with the Italian names beside;
a booking's confirmation, and the counter's proposal for a request, carry it."""

from __future__ import annotations

from pathlib import Path

from tests.auxil.checklists import add_checklist
from tests.e2e.test_requests_across_channels import counter, staff_press
from tests.e2e.test_telegram import STAFF_CHAT, keyboard_ids, press, running_bot, start, text
from tests.e2e.test_whatsapp import running_bot as running_whatsapp

BANGLADESH = "+8801712345678"
WHAT_DO_I_NEED = "আমার কী কী কাগজ লাগবে"  # "what documents do I need"


async def test_bengali_on_whatsapp_gets_the_list_then_the_proposal_carries_it(
    repo_content_copy: Path, database_target: str
) -> None:
    async with counter(database_target, repo_content_copy) as (bot, telegram):
        (topic,) = await bot.say(WHAT_DO_I_NEED, phone=BANGLADESH)
        assert "*1.* রেসিডেন্স পারমিট নবায়ন" in topic["Body"]  # one line per service
        (question,) = await bot.say("1", phone=BANGLADESH)
        assert "(1/2) আপনার থাকার অনুমতিপত্র কোন ধরনের?" in question["Body"]
        assert "*1.* কাজ" in question["Body"]
        await bot.say("1", phone=BANGLADESH)  # work
        (answer,) = await bot.say("হ্যাঁ", phone=BANGLADESH)  # "yes", typed
        body = answer["Body"]
        assert "- পাসপোর্ট, আসল ও সব পাতার ফটোকপি (passaporto)" in body
        assert "(Modulo 2 del kit)" in body and "(documenti sul lavoro)" in body
        assert "kit per il permesso di soggiorno" not in body  # they have the kit
        assert "আর কিছু লাগলে অফিস জানিয়ে দেবে।" in body
        assert "https://questure.poliziadistato.it/" in body

        # Then a request at the counter: the same questions first, the list in its summary.
        (services,) = await bot.say("অ্যাপয়েন্টমেন্ট", phone=BANGLADESH)
        assert "*1.* রেসিডেন্স পারমিট নবায়ন" in services["Body"]
        (question,) = await bot.say("1", phone=BANGLADESH)
        assert "(1/2)" in question["Body"]
        await bot.say("1", phone=BANGLADESH)  # work
        await bot.say("2", phone=BANGLADESH)  # no kit yet: the request goes on
        await bot.say("1", phone=BANGLADESH)  # as soon as possible
        await bot.say("1", phone=BANGLADESH)  # the language at the counter
        (summary,) = await bot.say("Rahim Uddin", phone=BANGLADESH)
        assert "(kit per il permesso di soggiorno)" in summary["Body"]
        assert "Modulo 2 del kit" not in summary["Body"]
        (sent,) = await bot.say("1", phone=BANGLADESH)
        code = "LU-" + str(sent["Body"]).split("LU-", 1)[1][:4]
        await telegram.wait_for(
            lambda: any(code in call.params["text"] for call in telegram.sent(STAFF_CHAT))
        )
        before = len(bot.fake.to(BANGLADESH))
        telegram.queue(staff_press(f"staff:rq:t:{code}:202612021030"))
        await bot.fake.wait_for(lambda: len(bot.fake.to(BANGLADESH)) > before)
        proposal = bot.fake.to(BANGLADESH)[-1]["Body"]
        assert code in proposal
        assert "(kit per il permesso di soggiorno)" in proposal
        assert "(documenti sul lavoro)" in proposal and "Modulo 2 del kit" not in proposal
        accepted, _calendar = await bot.say("1", phone=BANGLADESH, expect=2)
        assert code in accepted["Body"] and "(kit per il permesso di soggiorno)" in accepted["Body"]


async def test_bengali_on_telegram_gets_the_list_with_buttons(
    tmp_path: Path, repo_content_copy: Path, database_target: str
) -> None:
    async with running_bot(
        tmp_path, repo_content_copy, webhook=False, database=database_target
    ) as bot:
        await bot.send(start(language_code="bn"))
        (topic,) = await bot.send(text(WHAT_DO_I_NEED))
        assert "cl:svc:citizenship" in keyboard_ids(topic)
        (question,) = await bot.send(press("cl:svc:citizenship"))
        assert "(1/3)" in question.params["text"]
        await bot.send(press("cl:a:way:marriage"))
        await bot.send(press("cl:a:exempt:no"))
        (checklist,) = await bot.send(press("cl:skip:abroad"))
        listed = checklist.params["text"]
        assert "(atto di nascita)" in listed
        assert "(certificato di italiano B1 o titolo di studio italiano)" in listed
        assert "dichiarazioni dei redditi" not in listed  # by marriage, not by residence
        # The skipped question: its document is listed as "if it applies to you".
        maybe = listed.split("আর, যদি আপনার ক্ষেত্রে খাটে:", 1)[1]
        assert "(certificato penale degli altri Paesi)" in maybe


async def test_a_telegram_booking_is_confirmed_with_the_list(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    add_checklist(content_copy)
    async with running_bot(tmp_path, content_copy, webhook=True, database=database_target) as bot:
        await bot.send(start(language_code="en"))
        (services,) = await bot.send(text("I want an appointment"))
        assert keyboard_ids(services)[0] == "bk:svc:permit_renewal"
        (question,) = await bot.send(press("bk:svc:permit_renewal"))
        assert keyboard_ids(question)[:2] == ["cl:a:permit:work", "cl:a:permit:family"]
        await bot.send(press("cl:a:permit:family"))
        (days,) = await bot.send(press("cl:a:kit:yes"))
        (times,) = await bot.send(press(keyboard_ids(days)[0]))
        await bot.send(press(keyboard_ids(times)[0]))
        await bot.send(text("Amina Rossi"))
        (summary,) = await bot.send(text("333 1234567"))
        assert "Papers about your family (documenti sulla famiglia)" in summary.params["text"]
        (booked,) = await bot.send(press("bk:confirm"))
        confirmation = booked.params["text"]
        assert "LU-" in confirmation
        assert "Passport and a photocopy (passaporto)" in confirmation
        assert "Papers about your family (documenti sulla famiglia)" in confirmation
        assert "Form 2" not in confirmation


async def test_a_whatsapp_booking_is_confirmed_with_the_list(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    add_checklist(content_copy)
    async with running_whatsapp(tmp_path, content_copy, database=database_target) as bot:
        await bot.say("ciao")
        await bot.say("vorrei un appuntamento")
        (question,) = await bot.say("1")  # the only service: its questions first
        assert "(1/2) Che permesso hai?" in question["Body"]
        await bot.say("lavoro")  # typed: a word of "Lavoro dipendente"
        (days,) = await bot.say("sì")
        assert "*1.*" in days["Body"]
        await bot.say("1")
        await bot.say("1")
        (summary,) = await bot.say("Amina Rossi")
        assert "- Il Modulo 2 del kit" in summary["Body"]
        confirmation, _calendar = await bot.say("1", expect=2)
        assert "LU-" in confirmation["Body"]
        assert "- Passaporto e fotocopia\n- Il Modulo 2 del kit" in confirmation["Body"]
        assert "famiglia" not in confirmation["Body"]
