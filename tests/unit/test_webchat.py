"""The web chat's API, called in-process (httpx's ASGI transport) on a real SQLite mailbox and
the engine on the fixture content: tokens, rate limits, CORS and CSP, garbage, delivery."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware

from bot.body_limit import BodyLimit
from bot.channels.webchat import WebchatChannel
from bot.channels.webchat.channel import POLLS_PER_TOKEN
from bot.channels.webchat.requests import BODY_LIMIT
from bot.config import ConfigError, Settings
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.notice import Notice
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from bot.storage.retention import erase_user, purge
from bot.storage.webchat import WebchatMailbox
from tests.auxil.databases import rows
from tests.auxil.hostile import any_text, forged_choices, json_values, texts
from tests.auxil.victim import failures_logged, in_one_loop
from tests.auxil.waiting import wait_until
from tests.conftest import TODAY

BASE = "http://bot.test"
SITE = "https://www.comune.example.it"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Browser:
    """One browser's calls to the API: its token, and the last message id it holds."""

    def __init__(self, client: httpx.AsyncClient, origin: str | None = SITE) -> None:
        self.client = client
        self.origin = origin
        self.token: str | None = None
        self.after = 0

    def headers(self) -> dict[str, str]:
        headers = {"Origin": self.origin} if self.origin else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def start(self, language: str = "fr-FR") -> httpx.Response:
        response = await self.client.post(
            "/webchat/api/session", json={"language": language}, headers=self.headers()
        )
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    async def send(self, **body: Any) -> httpx.Response:
        return await self.client.post("/webchat/api/send", json=body, headers=self.headers())

    async def poll(self, after: int | None = None) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/webchat/api/messages",
            params={"after": self.after if after is None else after},
            headers=self.headers(),
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        if messages:
            self.after = messages[-1]["id"]
        return messages


@asynccontextmanager
async def webchat(
    database: Database,
    catalog: Catalog,
    interface: Interface,
    clock: Callable[[], float] = time.monotonic,
    **options: Any,
) -> AsyncIterator[tuple[WebchatChannel, httpx.AsyncClient]]:
    engine = Engine(lambda: catalog, MemoryStateStore(), interface, today=lambda: TODAY)
    options.setdefault("poll_seconds", 0.2)
    channel = WebchatChannel(
        engine,
        interface,
        WebchatMailbox(database),
        lambda: catalog,
        Outbox(database),
        allowed_origins=(SITE,),
        clock=clock,
        **options,
    )
    app = Starlette(routes=list(channel.routes()), middleware=[Middleware(BodyLimit)])
    await channel.start()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield channel, client
    await channel.stop()


@pytest.fixture
async def api(
    database: Database, catalog: Catalog, interface: Interface
) -> AsyncIterator[tuple[WebchatChannel, httpx.AsyncClient]]:
    async with webchat(database, catalog, interface) as running:
        yield running


async def stored_rows(database: Database) -> list[tuple[Any, ...]]:
    return await rows(database, "SELECT user_id, payload FROM webchat_messages ORDER BY id")


# -- tokens ------------------------------------------------------------------------------


async def test_a_new_chat_gets_a_token_and_the_server_keeps_only_its_hash(
    api: tuple[WebchatChannel, httpx.AsyncClient], database: Database
) -> None:
    _, client = api
    browser = Browser(client)
    response = await browser.start("fr-FR")
    assert response.status_code == 200
    body = response.json()
    token = body["token"]
    assert len(token) == 43 and token.replace("-", "").replace("_", "").isalnum()
    # The chat box's words, in the browser's language when the bot speaks it.
    assert body["language"] == "fr" and body["dir"] == "ltr"
    assert body["strings"]["send"] == "Envoyer"
    rows = await stored_rows(database)
    assert {row[0] for row in rows} == {hashlib.sha256(token.encode()).hexdigest()}
    assert not any(token in str(row) for row in rows)
    # The first message is the language question, the browser's language first.
    (question,) = await browser.poll()
    assert question["choices"][0] == ["lang:fr", "Français"]


async def test_two_chats_get_different_tokens(
    api: tuple[WebchatChannel, httpx.AsyncClient],
) -> None:
    _, client = api
    first, second = Browser(client), Browser(client)
    await first.start()
    await second.start()
    assert first.token != second.token


async def test_the_token_resumes_the_conversation_in_its_language(
    api: tuple[WebchatChannel, httpx.AsyncClient],
) -> None:
    _, client = api
    browser = Browser(client)
    await browser.start("en-GB")
    await browser.poll()
    assert (await browser.send(choice="lang:ar")).status_code == 202
    (menu,) = await browser.poll()
    assert menu["language"] == "ar" and menu["rtl"] is True
    response = await client.post(
        "/webchat/api/session", json={"token": browser.token}, headers=browser.headers()
    )
    assert response.status_code == 200
    assert response.json()["token"] == browser.token
    assert response.json()["language"] == "ar" and response.json()["dir"] == "rtl"
    assert response.json()["strings"]["send"] == "إرسال"
    assert await browser.poll() == []  # resuming sends nothing new
    await browser.send(text="menu")
    (again,) = await browser.poll()
    assert again["language"] == "ar"


async def test_calls_without_a_token_of_ours_are_refused(
    api: tuple[WebchatChannel, httpx.AsyncClient], database: Database
) -> None:
    _, client = api
    browser = Browser(client)
    assert (await browser.send(text="ciao")).status_code == 401
    browser.token = "not-a-token"
    assert (await browser.send(text="ciao")).status_code == 401
    response = await client.get("/webchat/api/messages", headers={"Authorization": "Basic x"})
    assert response.status_code == 401
    forged = await client.post("/webchat/api/session", json={"token": "x" * 10})
    assert forged.status_code == 400 and "token" in forged.json()["error"]
    assert await stored_rows(database) == []


# -- garbage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b"{" * 100_000, 413),
        (b'{"text": 5}', 400),
        (b'{"text": "   "}', 400),
        (b'{"text": "ciao", "choice": "menu"}', 400),
        (b'{"choice": "<script>"}', 400),
        (b'{"choice": ["a"]}', 400),
        (b'{"nothing": true}', 400),
        ('{"text": "%s"}' % ("a" * 4001), 413),
    ],
)
async def test_garbage_gets_a_clean_refusal(
    api: tuple[WebchatChannel, httpx.AsyncClient],
    database: Database,
    body: bytes | str,
    status: int,
) -> None:
    _, client = api
    browser = Browser(client)
    await browser.start()
    await browser.poll()
    response = await client.post(
        "/webchat/api/send",
        content=body,
        headers={**browser.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert isinstance(response.json()["error"], str)
    assert await browser.poll() == []  # nothing reached the engine


@pytest.mark.parametrize("after", ["-1", "abc", "1e3", "9" * 40, ""])
async def test_a_poll_with_a_bad_id_is_refused(
    api: tuple[WebchatChannel, httpx.AsyncClient], after: str
) -> None:
    _, client = api
    browser = Browser(client)
    await browser.start()
    response = await client.get(
        "/webchat/api/messages", params={"after": after}, headers=browser.headers()
    )
    assert response.status_code == 400


async def test_the_body_limit_holds_for_a_long_text_in_any_script(
    api: tuple[WebchatChannel, httpx.AsyncClient],
) -> None:
    """4000 characters of a four-byte script fit the body limit: the text limit decides."""
    _, client = api
    browser = Browser(client)
    await browser.start()
    await browser.poll()
    assert len(("😀" * 4000).encode()) + 20 < BODY_LIMIT
    assert (await browser.send(text="😀" * 4000)).status_code == 202
    assert len(await browser.poll()) == 1


# -- rate limits -------------------------------------------------------------------------


async def test_a_browser_sending_too_fast_is_told_once_then_ignored(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    clock = Clock()
    async with webchat(database, catalog, interface, clock, rate_limit=3) as (_, client):
        browser = Browser(client)
        await browser.start("it")
        await browser.poll()
        for _ in range(3):
            assert (await browser.send(text="menu")).status_code == 202
        assert len(await browser.poll()) == 3
        first_over = await browser.send(text="menu")
        assert first_over.status_code == 429 and first_over.headers["Retry-After"] == "60"
        (warning,) = await browser.poll()
        assert "molto velocemente" in warning["text"][0][0]
        assert (await browser.send(text="menu")).status_code == 429
        assert await browser.poll() == []  # told once only
        clock.now += 61
        assert (await browser.send(text="menu")).status_code == 202
        # Another browser is not slowed down by this one.
        other = Browser(client)
        await other.start("it")
        await other.poll()
        assert (await other.send(text="menu")).status_code == 202


async def test_an_address_calling_too_often_is_refused(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    clock = Clock()
    async with webchat(database, catalog, interface, clock, address_limit=12) as (_, client):
        browser = Browser(client)
        await browser.start()
        statuses = [(await client.get("/webchat/api/strings")).status_code for _ in range(12)]
        assert statuses == [200] * 11 + [429]
        assert (await browser.send(text="menu")).status_code == 429
        clock.now += 61
        assert (await browser.send(text="menu")).status_code == 202


async def test_an_address_may_start_only_so_many_chats_a_minute(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    clock = Clock()
    async with webchat(database, catalog, interface, clock, start_limit=5) as (_, client):
        statuses = [(await Browser(client).start()).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        rows = await stored_rows(database)
        assert len({row[0] for row in rows}) == 5  # the refused one: nothing
        clock.now += 61
        assert (await Browser(client).start()).status_code == 200


async def test_a_browser_may_hold_only_a_few_polls(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    async with webchat(database, catalog, interface, poll_seconds=5) as (channel, client):
        browser = Browser(client)
        await browser.start()
        await browser.poll()
        polls = [
            asyncio.create_task(
                client.get(
                    "/webchat/api/messages",
                    params={"after": browser.after},
                    headers=browser.headers(),
                )
            )
            for _ in range(POLLS_PER_TOKEN)
        ]
        await wait_until(
            lambda: channel.health()["polls"] == POLLS_PER_TOKEN, 5, lambda: str(channel.health())
        )
        extra = await client.get(
            "/webchat/api/messages", params={"after": browser.after}, headers=browser.headers()
        )
        assert extra.status_code == 429 and extra.headers["Retry-After"] == "5"
        await channel.send_notice(str(hashlib.sha256(str(browser.token).encode()).hexdigest()), "x")
        answers = await asyncio.gather(*polls)
        assert [len(answer.json()["messages"]) for answer in answers] == [1] * POLLS_PER_TOKEN


# -- origins and policies ----------------------------------------------------------------


async def test_only_configured_origins_may_call_the_api(
    api: tuple[WebchatChannel, httpx.AsyncClient], database: Database
) -> None:
    _, client = api
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    allowed = await client.options("/webchat/api/send", headers={"Origin": SITE, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers  # no cookies
    refused = await client.options(
        "/webchat/api/send", headers={"Origin": "https://evil.example", **preflight}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    # A browser would not send it after that preflight; the server refuses it anyway.
    evil = Browser(client, origin="https://evil.example")
    assert (await evil.start()).status_code == 403
    assert await stored_rows(database) == []
    # The chat page itself (this server's own origin) and non-browser callers are served.
    assert (await Browser(client, origin=BASE).start()).status_code == 200
    assert (await Browser(client, origin=None).start()).status_code == 200
    simple = await Browser(client).start()
    assert simple.headers["access-control-allow-origin"] == SITE


async def test_the_page_and_assets_carry_a_content_security_policy(
    api: tuple[WebchatChannel, httpx.AsyncClient],
) -> None:
    _, client = api
    page = await client.get("/chat")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy and "style-src 'self'" in policy
    assert f"frame-ancestors 'self' {SITE}" in policy
    assert "'unsafe-inline'" not in policy
    assert '<script src="/webchat/widget.js" data-mode="page" defer></script>' in page.text
    assert "<title>Sportello di prova di Luino — chat</title>" in page.text  # desk.yaml's name
    assert "<style" not in page.text and " style=" not in page.text  # nothing inline to allow
    for path, media in (
        ("/webchat/widget.js", "text/javascript"),
        ("/webchat/widget.css", "text/css"),
    ):
        asset = await client.get(path)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert (
            asset.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        )
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cross-origin-resource-policy"] == "cross-origin"
    script = (await client.get("/webchat/widget.js")).text
    assert "innerHTML" not in script and "eval(" not in script  # text nodes only
    assert "document.cookie" not in script and 'credentials: "omit"' in script


# -- delivery ----------------------------------------------------------------------------


async def test_notices_reach_a_reconnecting_browser_exactly_once(
    api: tuple[WebchatChannel, httpx.AsyncClient], database: Database
) -> None:
    channel, client = api
    browser = Browser(client)
    await browser.start("it")
    await browser.poll()
    user = hashlib.sha256(str(browser.token).encode()).hexdigest()
    # The outbox worker hands a staff answer over while no browser is connected.
    sent = await channel.send(
        user, Notice("webchat", user, "Risposta dello **sportello**", "handover_reply")
    )
    assert sent is not None
    held = browser.after
    (notice,) = await browser.poll()
    assert notice["id"] == int(sent)
    assert notice["text"] == [["Risposta dello ", False], ["sportello", True]]
    # The answer to that poll was lost: the browser asks again from what it holds.
    (again,) = await browser.poll(after=held)
    assert again == notice
    # Confirmed by the next poll: gone from the server, never delivered again.
    assert await browser.poll() == []
    assert await stored_rows(database) == []
    assert await browser.poll(after=held) == []


async def test_a_waiting_poll_answers_as_soon_as_a_notice_comes(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    async with webchat(database, catalog, interface, poll_seconds=10) as (channel, client):
        browser = Browser(client)
        await browser.start("it")
        await browser.poll()
        user = hashlib.sha256(str(browser.token).encode()).hexdigest()
        started = time.monotonic()
        waiting = asyncio.create_task(browser.poll())
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await channel.send(
            user,
            Notice(
                "webchat",
                user,
                "Vi proponiamo lunedì alle 10:00.",
                "proposal",
                language="it",
                buttons=((("rq:accept:LU-AAAA", "Va bene"),), (("rq:other", "Un'altra"),)),
            ),
        )
        (notice,) = await waiting
        assert time.monotonic() - started < 5
        assert notice["choices"] == [["rq:accept:LU-AAAA", "Va bene"], ["rq:other", "Un'altra"]]


async def test_an_idle_poll_ends_empty_after_its_wait(
    api: tuple[WebchatChannel, httpx.AsyncClient],
) -> None:
    channel, client = api
    browser = Browser(client)
    await browser.start()
    await browser.poll()
    started = time.monotonic()
    assert await browser.poll() == []
    assert time.monotonic() - started >= channel.poll_seconds * 0.9
    assert channel.health()["polls"] == 0


async def test_a_reply_with_a_calendar_file_carries_it() -> None:
    from bot.channels.webchat.render import reply_message
    from bot.core.messages import Attachment, Choice, Reply

    message = reply_message(
        Reply(
            "Prenotato: **LU-AAAA**",
            (Choice("bk:mine", "I miei appuntamenti"),),
            (Attachment("LU-AAAA.ics", "text/calendar", b"BEGIN:VCALENDAR"),),
            language="it",
        )
    )
    assert message["files"] == [
        {"name": "LU-AAAA.ics", "type": "text/calendar", "data": "QkVHSU46VkNBTEVOREFS"}
    ]
    assert message["choices"] == [["bk:mine", "I miei appuntamenti"]]
    assert "forget" not in message


# -- storage -----------------------------------------------------------------------------


async def test_erasure_and_retention_empty_the_mailbox(database: Database) -> None:
    mailbox = WebchatMailbox(database)
    await mailbox.put("alice", [{"text": [["uno", False]]}, {"text": [["due", False]]}])
    await mailbox.put("bob", [{"text": [["tre", False]]}])
    await erase_user(database, "webchat", "alice")
    assert [row[0] for row in await stored_rows(database)] == ["bob"]
    await erase_user(database, "telegram", "bob")  # another channel's "bob": not this one
    assert [row[0] for row in await stored_rows(database)] == ["bob"]
    await rows(
        database, "UPDATE webchat_messages SET created_at = :old", old=time.time() - 91 * 86400
    )
    removed = await purge(database, retention_days=90)
    assert removed["webchat_messages"] == 1
    assert await stored_rows(database) == []


# -- settings ----------------------------------------------------------------------------


def test_the_settings_read_the_web_chat_block(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "WEBCHAT_ENABLED": "true",
            "WEBCHAT_ALLOWED_ORIGINS": "https://www.comune.luino.va.it, https://example.org/",
            "WEBCHAT_RATE_LIMIT": "10",
            "WEBCHAT_START_LIMIT": "50",
        },
        env_file=None,
    )
    assert settings.webchat_enabled
    assert settings.webchat_allowed_origins == (
        "https://www.comune.luino.va.it",
        "https://example.org",
    )
    assert settings.webchat_rate_limit == 10 and settings.webchat_start_limit == 50
    assert not Settings.from_env({}, env_file=None).webchat_enabled
    with pytest.raises(ConfigError) as error:
        Settings.from_env(
            {"WEBCHAT_ENABLED": "maybe", "WEBCHAT_ALLOWED_ORIGINS": "https://x.org/page, *"},
            env_file=None,
        )
    assert len(error.value.problems) == 3


async def test_an_erasure_confirmation_leaves_no_copy_once_fetched(
    api: tuple[WebchatChannel, httpx.AsyncClient], database: Database
) -> None:
    channel, client = api
    browser = Browser(client)
    await browser.start("it")
    await browser.poll()
    user = hashlib.sha256(str(browser.token).encode()).hexdigest()
    await channel.deliver(user, [{"text": [["Dati cancellati.", False]], "forget": True}])
    (done,) = await browser.poll()
    assert done["forget"] is True
    assert await stored_rows(database) == []  # not waiting for the next poll to confirm it


class BrokenMailbox:
    """A database that refuses everything (a full disk, a damaged file)."""

    async def put(self, user_id: str, payloads: list[dict[str, Any]]) -> list[int]:
        raise OSError("disk full")

    async def fetch(self, user_id: str, after: int) -> list[tuple[int, dict[str, Any]]]:
        raise OSError("disk full")

    async def forget(self, user_id: str) -> None:
        raise OSError("disk full")


async def test_a_failing_database_gets_a_503_not_a_crash(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    engine = Engine(lambda: catalog, MemoryStateStore(), interface, today=lambda: TODAY)
    channel = WebchatChannel(engine, interface, BrokenMailbox(), lambda: catalog, Outbox(database))
    app = Starlette(routes=list(channel.routes()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        browser = Browser(client, origin=None)
        assert (await browser.start()).status_code == 503
        browser.token = "A" * 43
        assert (await browser.send(text="ciao")).status_code == 503
        response = await client.get(
            "/webchat/api/messages", params={"after": 0}, headers=browser.headers()
        )
        assert response.status_code == 503 and response.headers["Retry-After"] == "10"
        assert channel.health()["polls"] == 0


# -- anything at all ---------------------------------------------------------------------

bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"text": texts}).map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"choice": any_text}).map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"choice": forged_choices()}).map(
        lambda value: json.dumps(value).encode()
    ),
    st.binary(max_size=300),
)


def test_any_body_gets_an_answer_or_a_clean_refusal(
    tmp_path: Path, catalog: Catalog, interface: Interface
) -> None:
    @asynccontextmanager
    async def running() -> AsyncIterator[Browser]:
        async with (
            Database(tmp_path / "any.sqlite3") as database,
            webchat(database, catalog, interface, rate_limit=1000, address_limit=100_000) as (
                _,
                client,
            ),
        ):
            browser = Browser(client)
            await browser.start("it")
            await browser.poll()
            yield browser

    with in_one_loop(running()) as (runner, browser), failures_logged() as failures:

        async def post(body: bytes) -> None:
            response = await browser.client.post(
                "/webchat/api/send",
                content=body,
                headers={**browser.headers(), "Content-Type": "application/json"},
            )
            assert response.status_code in (202, 400, 413), (body, response.text)
            if response.status_code == 202:
                assert await browser.poll(), body  # an answer for everything accepted
            else:
                assert isinstance(response.json()["error"], str)

        @given(bodies)
        @example(b'{"text": "\\u0000"}')
        @example(b'{"choice": "lang:xx"}')
        @example(b'{"text": "/start"}')
        @example(b'{"text": "/"}')
        def check(body: bytes) -> None:
            runner.run(post(body))

        check()
        assert failures.messages() == []


# -- wiring ------------------------------------------------------------------------------


async def test_the_app_builds_the_web_chat_and_mounts_its_routes(
    tmp_path: Path, content_copy: Path
) -> None:
    from starlette.routing import Mount, Route

    from bot.app import services
    from bot.ops.metrics import MeteredHandler
    from bot.web import create_web_app
    from tests.conftest import LOCALES

    settings = Settings(
        db_path=tmp_path / "bot.sqlite3",
        content_dir=content_copy,
        locales_dir=LOCALES,
        webchat_enabled=True,
        webchat_allowed_origins=(SITE,),
    )
    async with services(settings, channels=True) as bot:
        assert [channel.name for channel in bot.listening] == ["webchat"]
        channel = bot.channel(WebchatChannel)
        assert channel is not None and channel.allowed_origins == (SITE,)
        assert isinstance(channel.engine, MeteredHandler)
        assert bot.desk is not None
        router = bot.desk.router
        assert router.reaches("webchat") and router.channels["webchat"].files
        assert not router.channels["webchat"].user_id_is_phone
        channel.worker._wake.clear()
        router.wake()  # a notice queued for anyone wakes the web chat's worker too
        assert channel.worker._wake.is_set()
        app = create_web_app(bot)
        paths = {route.path for route in app.routes if isinstance(route, Route | Mount)}
        assert {"/chat", "/webchat/widget.js", "/webchat/widget.css", "/webchat/api"} <= paths
    async with services(
        Settings(db_path=tmp_path / "off.sqlite3", content_dir=content_copy, locales_dir=LOCALES),
        channels=True,
    ) as bot:
        assert bot.channel(WebchatChannel) is None


async def test_made_up_tokens_count_as_new_chats(
    database: Database, catalog: Catalog, interface: Interface
) -> None:
    """Any well-formed token was taken as an old conversation: a script could start 300
    conversations a minute instead of the limit on new ones."""
    async with webchat(database, catalog, interface, Clock(), start_limit=2) as (_, client):
        first = Browser(client)
        assert (await first.start()).status_code == 200
        made_up = Browser(client)
        made_up.token = secrets.token_urlsafe(32)
        assert (await made_up.send(text="ciao")).status_code == 202  # the second new one
        another = Browser(client)
        another.token = secrets.token_urlsafe(32)
        assert (await another.send(text="ciao")).status_code == 429
        resumed = await client.post(
            "/webchat/api/session",
            json={"token": secrets.token_urlsafe(32)},
            headers={"Origin": SITE},
        )
        assert resumed.status_code == 429
        # Those already let in go on.
        assert (await first.send(text="ciao")).status_code == 202
        assert (await made_up.send(text="menu")).status_code == 202
