"""The webhooks against malformed input that carries valid credentials: Telegram updates of
any shape with the right secret, Twilio forms with any fields and a right signature, bodies
that are not JSON, nested past the parser or huge. Never a 500 (Telegram and Twilio would send
it again and again), never a change to another user's data.

The web app is called in-process (httpx's ASGI transport): no socket, no platform.
"""

from __future__ import annotations

import itertools
import json
import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.app import Services
from bot.body_limit import MAX_BODY_BYTES
from bot.web import create_web_app
from tests.auxil.hostile import any_text, forged_choices, json_values, mutated
from tests.auxil.victim import (
    Failures,
    failures_logged,
    fresh_bot,
    in_one_loop,
    snapshot,
    victim_with_everything,
)
from tests.conftest import FIXTURE_CONTENT, LOCALES

DATA = Path(__file__).parent.parent / "data"
BASE = "http://sportello.test"
SECRET = "webhook-secret-0123456789"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
VICTIM_PHONE = "+393330000777"
TELEGRAM_VICTIM = "777"


def _recorded(folder: str, name: str) -> Any:
    return json.loads((DATA / folder / f"{name}.json").read_text(encoding="utf-8"))


UPDATES = [
    _recorded("telegram", name)
    for name in (
        "message_text",
        "command_start",
        "callback_query",
        "contact",
        "location",
        "photo",
        "edited_message",
        "group_message",
        "my_chat_member_added",
    )
]
FORMS = [
    _recorded("twilio", name) for name in ("inbound_text", "inbound_image", "inbound_location")
]


@asynccontextmanager
async def webhooks() -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """Both channels configured (never started: nothing leaves this process)."""
    async with fresh_bot(
        FIXTURE_CONTENT,
        LOCALES,
        {"telegram", "whatsapp"},
        telegram_bot_token="123456:TEST-token",
        telegram_webhook_url=f"{BASE}/telegram",
        telegram_webhook_secret=SECRET,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from="whatsapp:+390000000001",
    ) as running:
        transport = httpx.ASGITransport(app=create_web_app(running))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield running, client


async def post_update(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        "/telegram",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )


async def post_form(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{BASE}/whatsapp", form)
    return await client.post("/whatsapp", data=form, headers={"X-Twilio-Signature": signature})


# -- Telegram ------------------------------------------------------------------------------


telegram_payloads = st.one_of(st.sampled_from(UPDATES).flatmap(mutated), json_values)


def test_any_update_shape_with_the_secret_gets_200_or_400() -> None:
    with in_one_loop(webhooks()) as (runner, (running, client)):
        victim = runner.run(victim_with_everything(running, "telegram", TELEGRAM_VICTIM))
        before = runner.run(snapshot(running, victim))
        answered: set[int] = set()

        async def post_all(payloads: list[Any], failures: Failures) -> None:
            for payload in payloads:
                response = await post_update(client, json.dumps(payload).encode())
                answered.add(response.status_code)
                assert response.status_code in (200, 400), payload
            assert failures.messages() == []
            assert await snapshot(running, victim) == before

        @given(st.lists(telegram_payloads, min_size=1, max_size=5))
        @example([{"update_id": 1, "message": "a message that is a string"}])
        @example([{"update_id": 2, "callback_query": {"id": 1}}])
        @example([{"update_id": 3, "message": {"message_id": 1, "date": 10**20, "chat": {}}}])
        @example([{"update_id": 4, "message": []}])
        def updates_get_200_or_400(payloads: list[Any]) -> None:
            with failures_logged() as failures:
                runner.run(post_all(payloads, failures))

        updates_get_200_or_400()
        assert answered == {200, 400}  # both kinds were drawn: the property is not vacuous


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,  # nested past the JSON parser's recursion limit
        json.dumps({"update_id": 1, "message": "a string"}).encode(),
        b'"just a string"',
        b"null",
        json.dumps({"update_id": 1, "message": {"message_id": 1, "date": 1}}).encode(),
        json.dumps({**UPDATES[0], "message": {**UPDATES[0]["message"], "text": 5}}).encode(),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "deeply-nested",
        "message-is-a-string",
        "a-string",
        "null",
        "message-without-chat",
        "text-is-a-number",
    ],
)
async def test_a_malformed_update_is_400_and_logged_once_without_its_content(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhooks() as (_running, client):
        with caplog.at_level(logging.WARNING, logger="bot"):
            first = await post_update(client, body)
            again = await post_update(client, body)  # Telegram sends it again
        assert (first.status_code, again.status_code) == (400, 400)
        lines = [record.getMessage() for record in caplog.records]
        assert 1 <= len(lines) <= 2  # the body that is not JSON has no update_id to remember
        if b"update_id" in body:
            assert len(lines) == 1
        assert all("a string" not in line and "[[" not in line for line in lines)
        assert all("Amina" not in line and "ciao" not in line for line in lines)
        assert all(record.exc_info is None for record in caplog.records)  # one line, no trace


async def test_a_huge_body_is_refused_before_it_is_read() -> None:
    async with webhooks() as (_running, client):
        padding = "x" * MAX_BODY_BYTES
        huge = json.dumps({"update_id": 1, "message": {"text": padding}}).encode()
        assert (await post_update(client, huge)).status_code == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
            for _ in range(MAX_BODY_BYTES // 65536 + 2):
                yield b" " * 65536

        response = await client.post(
            "/telegram", content=chunks(), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status_code == 413
        form = {**FORMS[0], "Body": padding}
        assert (await post_form(client, form)).status_code == 413
        # Under the cap everything works as before.
        assert (await post_update(client, json.dumps(UPDATES[0]).encode())).status_code == 200


# -- WhatsApp ------------------------------------------------------------------------------

field_names = st.sampled_from([*sorted(FORMS[0]), "ButtonPayload", "ListId", "Latitude"]) | (
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", min_size=1)
)
# B's codes are known once B has booked: forged values carry placeholders swapped for them.
BOOKING, REQUEST = "<B-booking>", "<B-request>"
field_values = (
    any_text
    | forged_choices((BOOKING, REQUEST))
    | st.sampled_from(
        ("", "0", "-1", "1e9", "whatsapp:", "whatsapp:+", "whatsapp:+393330000001", "nan", "٣")
    )
)


@st.composite
def twilio_forms(draw: st.DrawFn) -> dict[str, str]:
    """A recorded form with fields removed, changed or added: what Twilio may post, signed."""
    form = dict(draw(st.sampled_from(FORMS)))
    for name in draw(st.lists(field_names, max_size=5)):
        if draw(st.booleans()) and name in form:
            del form[name]
        else:
            form[name] = draw(field_values)
    assume(form.get("From") != f"whatsapp:{VICTIM_PHONE}")  # that would be B writing
    return form


def test_any_signed_form_gets_twiml_or_400_and_never_b_s_data() -> None:
    with in_one_loop(webhooks()) as (runner, (running, client)):
        victim = runner.run(victim_with_everything(running, "whatsapp", VICTIM_PHONE))
        before = runner.run(snapshot(running, victim))
        sids = itertools.count(1)
        answered: set[int] = set()

        async def post_all(forms: list[dict[str, str]], failures: Failures) -> None:
            for form in forms:
                form = {
                    name: value.replace(BOOKING, victim.booking).replace(REQUEST, victim.request)
                    for name, value in form.items()
                }
                if form.get("MessageSid") == FORMS[0]["MessageSid"]:  # else a retry: skipped
                    form["MessageSid"] = f"SM{next(sids):032x}"
                response = await post_form(client, form)
                answered.add(response.status_code)
                assert response.status_code in (200, 400), form
                if response.status_code == 200:  # the replies, for Twilio to send
                    answer = ElementTree.fromstring(response.text)
                    assert answer.tag == "Response"
                    assert {message.tag for message in answer} <= {"Message"}
                    assert "Bruna" not in response.text and VICTIM_PHONE[3:] not in response.text
            assert failures.messages() == []
            assert await snapshot(running, victim) == before

        @given(st.lists(twilio_forms(), min_size=1, max_size=5))
        @example([{**FORMS[0], "ButtonPayload": f"bk:cancelyes:{BOOKING}"}])
        @example([{**FORMS[0], "ListId": f"rq:withdrawyes:{REQUEST}"}])
        @example([{key: value for key, value in FORMS[0].items() if key != "From"}])
        def forms_get_twiml_or_400(forms: list[dict[str, str]]) -> None:
            with failures_logged() as failures:
                runner.run(post_all(forms, failures))

        forms_get_twiml_or_400()
        assert answered == {200, 400}  # both kinds were drawn: the property is not vacuous


status_forms = st.dictionaries(
    field_names | st.sampled_from(("MessageStatus", "ErrorCode")),
    field_values | st.sampled_from(("failed", "undelivered", "delivered")),
    max_size=6,
)


def test_any_signed_delivery_report_gets_204_or_400() -> None:
    with in_one_loop(webhooks()) as (runner, (_running, client)):

        async def post(form: dict[str, str]) -> int:
            url = f"{BASE}/whatsapp/status"
            signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
            response = await client.post(url, data=form, headers={"X-Twilio-Signature": signature})
            return response.status_code

        @given(status_forms)
        def reports_get_204_or_400(form: dict[str, str]) -> None:
            with failures_logged() as failures:
                assert runner.run(post(form)) in (204, 400)
                assert failures.messages() == []

        reports_get_204_or_400()


async def test_a_signed_form_that_is_no_message_is_400_with_one_line_without_its_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with webhooks() as (_running, client):
        form = {key: value for key, value in FORMS[0].items() if key != "From"}
        with caplog.at_level(logging.WARNING, logger="bot"):
            response = await post_form(client, form)
        assert response.status_code == 400
        (line,) = [record.getMessage() for record in caplog.records]
        assert "refused" in line and "ciao" not in line and "Amina" not in line
