"""The typed notice: what the outbox stores, and what channels are handed."""

from __future__ import annotations

import pytest

from bot.notice import REPLY, Notice
from bot.notify.worker import OutboxWorker
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from tests.auxil.databases import rows

FULL = Notice(
    "telegram",
    "-100",
    "📝 Nuova richiesta LU-9XYZ",
    "staff",
    {"1": "10:00"},
    code="LU-9XYZ",
    handover=3,
    language="ar",
    reference="#3",
    courtesy=True,
    buttons=((("rq:p:LU-9XYZ", "📅 Proponi"), ("rq:n:LU-9XYZ", "✖️ Rifiuta")),),
    alone=True,
    reply_action="ask:LU-9XYZ",
)


def test_a_notice_comes_back_from_the_outbox_as_it_went_in() -> None:
    for notice in (
        FULL,
        Notice("whatsapp", "+39333", "Promemoria", "reminder"),
        Notice.reply("whatsapp", "+39333", "I tuoi dati sono stati cancellati.", forget=True),
        Notice("whatsapp", "+39333", "", REPLY, {"1": "Scegli"}, template="HX" + "a" * 32),
    ):
        assert Notice.from_json(notice.to_json(), notice.channel, notice.recipient) == notice


def test_the_stored_form_is_the_one_earlier_versions_wrote() -> None:
    # Storage's SQL reads $.notice.handover, $.notice.reply_action and $.forget.
    stored = FULL.to_json()
    assert stored["notice"]["handover"] == 3 and stored["notice"]["reply_action"] == "ask:LU-9XYZ"
    assert stored["notice"]["buttons"] == [
        [["rq:p:LU-9XYZ", "📅 Proponi"], ["rq:n:LU-9XYZ", "✖️ Rifiuta"]]
    ]
    assert Notice.reply("whatsapp", "+39", "ciao", forget=True).to_json() == {
        "body": "ciao",
        "forget": True,
    }
    # A conversation's or a prompt's notice always goes alone, whatever it was built with.
    prompt = Notice("telegram", "-100", "?", "staff", reply_action="decline:LU-1")
    assert Notice.from_json(prompt.to_json()).alone


@pytest.mark.parametrize(
    "payload",
    [
        {"notice": "text"},
        {"notice": {"purpose": "staff"}},
        {"notice": {"text": "x", "handover": "3"}},
        {"n": 1},
        {"content_sid": "HX1", "variables": ["a"]},
    ],
)
def test_what_no_version_wrote_is_no_notice(payload: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Notice.from_json(payload)


async def test_the_worker_refuses_to_send_what_is_no_notice(database: Database) -> None:
    outbox = Outbox(database)
    # What no version wrote, as a damaged row would hold it.
    await rows(
        database,
        "INSERT INTO outbox (channel, recipient, payload, created_at, updated_at) "
        "VALUES ('wa', 'alice', :payload, 0, 0)",
        payload='{"n": 1}',
    )
    await outbox.add("wa", "alice", [Notice.reply("wa", "alice", "ok")])
    sent: list[Notice] = []

    async def send(recipient: str, notice: Notice) -> str:
        sent.append(notice)
        return "SM1"

    worker = OutboxWorker(outbox, "wa", send)
    while await worker.drain():
        pass
    assert sent == [Notice.reply("wa", "alice", "ok")]
    assert await outbox.errors("wa") == [("alice", "failed", "not a notice")]
