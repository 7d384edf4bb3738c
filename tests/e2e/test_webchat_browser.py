"""The web chat in a real browser (Debian's chromium, headless, driven by playwright).

A `serve`-like app runs on 127.0.0.1 with the repository's content; a municipality's page on
another origin (``localhost``) embeds the widget with one script tag, so the API is called
cross-origin as on a real site. The browser may reach nothing but these two servers.
Screenshots are left in ``tests/artifacts/`` (the README's come from there).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.app import Services, services
from bot.channels.webchat import WebchatChannel
from bot.config import Settings
from bot.notice import Notice
from bot.storage.outbox import Outbox
from bot.web import create_web_app
from tests.auxil.browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, needs_chromium
from tests.auxil.databases import drop_target, new_target, rows
from tests.auxil.fake_telegram import free_port, serve
from tests.conftest import LOCALES, REPO_CONTENT

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=ZoneInfo("Europe/Rome"))
WAIT_MS = 20_000

pytestmark = [
    needs_chromium,
    # One bot and one browser for the module (each test has its own users and browser
    # context): starting them for every test would cost most of the time.
    pytest.mark.asyncio(loop_scope="module"),
]

HOST_PAGE = """<!DOCTYPE html>
<html lang="it">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Comune di Luino</title></head>
<body>
<header><h1>Comune di Luino</h1></header>
<main><p>Servizi per i cittadini stranieri: orari, documenti, appuntamenti.</p></main>
<script src="{bot}/webchat/widget.js" defer></script>
</body>
</html>
"""


@dataclass
class Chat:
    services: Services
    bot: str  # the bot's base URL (127.0.0.1)
    site: str  # the municipality's page (localhost: another origin)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chat(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Chat]:
    folder = tmp_path_factory.mktemp("webchat")
    target = new_target(folder)  # the module's database: a SQLite file or a PostgreSQL schema
    site_port = free_port()
    site = f"http://localhost:{site_port}"
    settings = Settings(
        db_path=target,
        content_dir=REPO_CONTENT,
        locales_dir=LOCALES,
        cache_dir=folder / "model",
        webchat_enabled=True,
        webchat_allowed_origins=(site,),
        webchat_start_limit=1000,  # every browser context here is a new chat from 127.0.0.1
    )
    bot = f"http://127.0.0.1:{free_port()}"

    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(HOST_PAGE.format(bot=bot))

    try:
        async with (
            services(settings, channels=True, clock=lambda: NOW) as running,
            serve(create_web_app(running), int(bot.rsplit(":", 1)[1])),
            serve(Starlette(routes=[Route("/", page)]), site_port),
        ):
            yield Chat(running, bot, site)
    finally:
        drop_target(target)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@contextlib.asynccontextmanager
async def browser_page(
    chat: Chat, browser: Any, locale: str, width: int = 1280, height: int = 800
) -> AsyncIterator[Any]:
    """A fresh browser context (no storage: a new user) that may reach only the bot and the
    municipality's page."""
    from playwright.async_api import Route as Routed

    allowed = (chat.bot, chat.site)
    refused: list[str] = []

    async def only_ours(route: Routed) -> None:
        if route.request.url.startswith(allowed):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    context = await browser.new_context(locale=locale, viewport={"width": width, "height": height})
    try:
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        await page.route("**/*", only_ours)
        yield page
    finally:
        await context.close()
    assert refused == []


async def bot_says(page: Any, pattern: str) -> str:
    """Wait for a bot message matching ``pattern``; returns its text."""
    message = page.locator(".msg.bot").filter(has_text=re.compile(pattern)).last
    await message.wait_for()
    return str(await message.inner_text())


async def expect_count(locator: Any, count: int) -> None:
    from playwright.async_api import expect

    await expect(locator).to_have_count(count, timeout=WAIT_MS)


async def type_message(page: Any, text: str) -> None:
    await page.locator("#input").fill(text)
    await page.locator("#input").press("Enter")


async def tap(page: Any, label: str) -> None:
    await page.locator(".choices button", has_text=label).first.click()


async def test_a_french_user_asks_then_requests_an_appointment_and_gets_its_code(
    chat: Chat, browser: Any
) -> None:
    async with browser_page(chat, browser, "fr-FR") as page:
        await page.goto(chat.site)
        launcher = page.locator(".launcher")
        await launcher.click()
        assert await launcher.get_attribute("aria-expanded") == "true"
        assert await page.locator("#input").evaluate(
            "node => node === node.getRootNode().activeElement"
        )
        # A new user is asked their language; the browser's comes first.
        first = page.locator(".choices button").first
        await first.wait_for()
        assert await first.inner_text() == "Français"
        await first.click()
        await bot_says(page, "Menu principal")
        assert await page.locator(".title").inner_text() == "Discuter avec le guichet"
        await type_message(page, "comment renouveler mon titre de séjour")
        answer = await bot_says(page, "Renouveler le titre de séjour")
        assert "au moins 60 jours" in answer
        await type_message(page, "je voudrais un rendez-vous")
        await bot_says(page, "objet du rendez-vous")
        await tap(page, "Renouvellement du titre de séjour")
        # The checklist's questions first: one answered, one skipped.
        await bot_says(page, "Quel type de titre de séjour avez-vous")
        await tap(page, "Travail")
        await bot_says(page, "Avez-vous déjà le kit")
        await tap(page, "Passer")
        await bot_says(page, "Quand pouvez-vous venir")
        await tap(page, "Le plus tôt possible")
        await bot_says(page, "Dans quelle langue")
        await tap(page, "Français")
        await bot_says(page, "nom et prénom")
        await type_message(page, "Amina Diallo")
        await bot_says(page, "numéro de téléphone")
        await type_message(page, "333 1234567")
        summary = await bot_says(page, "Vérifiez votre demande")
        assert "(documenti sul lavoro)" in summary  # the personal list, the Italian names beside
        await tap(page, "Envoyer la demande")
        sent = await bot_says(page, r"LU-[A-Z0-9]{4}")
        code = re.search(r"LU-[A-Z0-9]{4}", sent)
        assert code is not None
    database = chat.services.database
    assert database is not None
    sql = "SELECT channel, name FROM appointment_requests WHERE code = :code"
    found = await rows(database, sql, code=code.group())
    assert found == [("webchat", "Amina Diallo")]


async def focused(page: Any) -> str:
    """What has the keyboard's focus inside the widget: "tag.class" or "tag#id"."""
    return str(
        await page.evaluate(
            """() => {
                const host = document.getElementById("sportello-webchat");
                const node = host && host.shadowRoot.activeElement;
                return node ? node.tagName.toLowerCase() + (node.id ? "#" + node.id
                    : "." + node.className) : "none";
            }"""
        )
    )


async def test_the_chat_works_with_the_keyboard_alone(chat: Chat, browser: Any) -> None:
    async with browser_page(chat, browser, "fr-FR") as page:
        await page.goto(chat.site)
        await page.keyboard.press("Tab")
        assert await focused(page) == "button.launcher"
        await page.keyboard.press("Enter")
        assert await focused(page) == "textarea#input"
        await page.locator(".choices button").first.wait_for()
        await page.keyboard.type("français")
        await page.keyboard.press("Enter")
        await bot_says(page, "Menu principal")
        # Back from the text box: the last choice of the menu, taken with Enter.
        await page.keyboard.press("Shift+Tab")
        assert (
            await page.evaluate(
                "() => document.getElementById('sportello-webchat').shadowRoot"
                ".activeElement.textContent"
            )
            == "🌐 Langue"
        )
        bots = await page.locator(".msg.bot").count()
        await page.keyboard.press("Enter")
        await expect_count(page.locator(".msg.bot"), bots + 1)
        assert "Choisissez votre langue" in await page.locator(".msg.bot").last.inner_text()
        # The tapped button went with its menu: the focus stayed in the conversation, and
        # the next Tab reaches the new menu.
        assert await focused(page) == "div#log"
        await page.keyboard.press("Tab")
        assert (
            await page.evaluate(
                "() => document.getElementById('sportello-webchat').shadowRoot"
                ".activeElement.textContent"
            )
            == await page.locator(".choices button").first.inner_text()
        )
        # Escape closes the panel and gives the focus back to the button that opened it.
        await page.keyboard.press("Escape")
        assert await page.locator("#panel").is_hidden()
        assert await focused(page) == "button.launcher"
        launcher = page.locator(".launcher")
        assert await launcher.get_attribute("aria-expanded") == "false"
        assert await launcher.get_attribute("aria-label") == "Ouvrir la discussion"


async def test_an_arabic_user_sees_the_chat_right_to_left(chat: Chat, browser: Any) -> None:
    async with browser_page(chat, browser, "ar") as page:
        await page.goto(f"{chat.bot}/chat")
        first = page.locator(".choices button").first
        await first.wait_for()
        assert await first.inner_text() == "العربية"
        await first.click()
        await bot_says(page, "القائمة الرئيسية")
        panel = page.locator("#panel")
        await page.wait_for_function(
            "() => document.documentElement.lang === 'ar'", timeout=WAIT_MS
        )
        assert await panel.get_attribute("dir") == "rtl"
        assert await panel.evaluate("node => getComputedStyle(node).direction") == "rtl"
        # The bot's messages start at the right, the input's text too.
        log = await page.locator("#log").bounding_box()
        message = await page.locator(".msg.bot").last.bounding_box()
        assert log is not None and message is not None
        right_gap = log["x"] + log["width"] - (message["x"] + message["width"])
        left_gap = message["x"] - log["x"]
        assert right_gap < left_gap
        assert (
            await page.locator("#input").evaluate("node => getComputedStyle(node).direction")
            == "rtl"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "webchat-arabic.png"))


async def test_a_reload_keeps_the_conversation(chat: Chat, browser: Any) -> None:
    async with browser_page(chat, browser, "fr-FR") as page:
        await page.goto(chat.site)
        await page.locator(".launcher").click()
        await tap(page, "Français")
        await type_message(page, "comment renouveler mon titre de séjour")
        await bot_says(page, "au moins 60 jours")
        before = await page.locator(".msg").all_inner_texts()
        token = await page.evaluate(
            "() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).token"
        )
        await page.reload()
        await page.locator(".launcher").click()
        await page.locator(".msg.bot").filter(has_text="au moins 60 jours").wait_for()
        assert await page.locator(".msg").all_inner_texts() == before
        # The same conversation goes on: French, no language question again.
        await type_message(page, "menu")
        await expect_count(page.locator(".msg"), len(before) + 2)
        texts = await page.locator(".msg").all_inner_texts()
        assert texts[: len(before)] == before
        assert texts[-2] == "menu" and "Menu principal" in texts[-1]
        assert (
            await page.evaluate(
                "() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).token"
            )
            == token
        )


async def test_erasing_my_data_clears_the_browser_too(chat: Chat, browser: Any) -> None:
    async with browser_page(chat, browser, "it-IT") as page:
        await page.goto(f"{chat.bot}/chat")
        await tap(page, "Italiano")
        await bot_says(page, "Menu principale")
        assert await page.evaluate("() => localStorage.length") == 1
        await type_message(page, "cancella i miei dati")
        await tap(page, "Sì, cancella i miei dati")
        await bot_says(page, "I tuoi dati sono stati cancellati")
        # Neither the token nor the transcript stays in this browser.
        assert await page.evaluate("() => localStorage.length") == 0
        # Writing again starts a new conversation, whose messages arrive as before.
        bots = await page.locator(".msg.bot").count()
        await type_message(page, "ciao")
        await expect_count(page.locator(".msg.bot"), bots + 2)  # the greeting, the answer
        assert await page.evaluate("() => localStorage.length") == 1
        await page.evaluate("() => localStorage.clear()")
        await page.reload()
        first = page.locator(".choices button").first
        await first.wait_for()
        assert await first.inner_text() == "Italiano"  # a new conversation
        assert await page.locator(".msg").count() == 1


async def test_two_tabs_show_the_same_conversation(chat: Chat, browser: Any) -> None:
    async with browser_page(chat, browser, "fr-FR") as first:
        await first.goto(f"{chat.bot}/chat")
        await tap(first, "Français")
        await bot_says(first, "Menu principal")
        second = await first.context.new_page()
        await second.goto(f"{chat.bot}/chat")
        await second.locator(".msg.bot").filter(has_text="Menu principal").wait_for()
        await type_message(second, "comment renouveler mon titre de séjour")
        # The answer shows in both tabs, once in each.
        for page in (first, second):
            await bot_says(page, "au moins 60 jours")
            await expect_count(page.locator(".msg"), 5)
        assert await first.locator(".msg").all_inner_texts() == (
            await second.locator(".msg").all_inner_texts()
        )


async def test_a_notice_reaches_the_open_chat_once(chat: Chat, browser: Any) -> None:
    """A staff answer (through the outbox, as from the Telegram group) arrives in the chat."""
    async with browser_page(chat, browser, "fr-FR") as page:
        await page.goto(chat.site)
        await page.locator(".launcher").click()
        await tap(page, "Français")
        await bot_says(page, "Menu principal")
        token = await page.evaluate(
            "() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).token"
        )
        from bot.channels.webchat.tokens import user_id

        database = chat.services.database
        assert database is not None
        await Outbox(database).add_notices(
            [Notice("webchat", user_id(token), "Bonjour, ici le guichet.", "handover_reply")]
        )
        webchat = chat.services.channel(WebchatChannel)
        assert webchat is not None
        webchat.wake()
        await bot_says(page, "ici le guichet")
        await page.reload()
        await page.locator(".launcher").click()
        await page.locator(".msg.bot").filter(has_text="ici le guichet").wait_for()
        await page.wait_for_timeout(500)
        assert await page.locator(".msg.bot").filter(has_text="ici le guichet").count() == 1


async def test_the_widget_passes_axe_core(chat: Chat, browser: Any) -> None:
    from axe_playwright_python.async_playwright import Axe

    axe = Axe()
    for locale, url in (("fr-FR", chat.site), ("ar", f"{chat.bot}/chat")):
        async with browser_page(chat, browser, locale) as page:
            await page.goto(url)
            if url == chat.site:
                await page.locator(".launcher").click()
            await page.locator(".choices button").first.click()
            await page.locator(".msg.bot").nth(1).wait_for()
            await type_message(page, "bonjour")
            await page.locator(".msg.bot").nth(2).wait_for()
            results = await axe.run(page)
            serious = [
                (violation["id"], violation["impact"], len(violation["nodes"]))
                for violation in results.response["violations"]
                if violation["impact"] in ("serious", "critical")
            ]
            assert serious == [], results.generate_report()
            # The check sees the widget (inside its shadow root), not just the host page.
            checked = await page.evaluate("() => typeof window.axe === 'object'")
            assert checked


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 800), ("phone", 360, 740)])
async def test_screenshots_at_desktop_and_phone_width(
    chat: Chat, browser: Any, name: str, width: int, height: int
) -> None:
    async with browser_page(chat, browser, "fr-FR", width, height) as page:
        await page.goto(chat.site)
        await page.locator(".launcher").click()
        await tap(page, "Français")
        await type_message(page, "comment renouveler mon titre de séjour")
        await bot_says(page, "au moins 60 jours")
        panel = await page.locator("#panel").bounding_box()
        assert panel is not None
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= width
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"webchat-{name}.png"))
