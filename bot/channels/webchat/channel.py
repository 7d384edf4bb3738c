"""This module contains the web chat channel: its routes, its mailbox and its long polls.

The browser posts what the user types or taps (``/webchat/api/send``); the engine's replies,
and the notices the outbox hands to :meth:`WebchatChannel.send` (a staff answer, a reminder),
are kept in the mailbox until the browser fetches them with a long poll
(``/webchat/api/messages?after=<last id it holds>``): the poll waits up to ``poll_seconds``
for something new, so an idle chat costs one request every ``poll_seconds``, and a browser
may hold only a few polls at a time (no polling storms). Replies do not come back in the
post's answer: one path for everything the user receives, so each arrives once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import string
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any, Protocol

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from bot.channels.base import Handler, Reach
from bot.channels.flood import FloodControl, Verdict
from bot.channels.webchat import security, tokens
from bot.channels.webchat.render import notice_message, reply_message
from bot.channels.webchat.requests import (
    CHANNEL,
    Refused,
    after_id,
    json_body,
    language_tag,
    parse_message,
)
from bot.channels.webchat.strings import widget_strings
from bot.content.catalog import Catalog
from bot.content.identity import staff_name
from bot.core.messages import Incoming, Kind
from bot.i18n import Interface
from bot.notice import Notice
from bot.notify.leadership import Leadership
from bot.notify.worker import Meter, OutboxQueue, OutboxWorker

log = logging.getLogger(__name__)

#: How long a poll waits for a message before it answers "nothing yet".
POLL_SECONDS = 25.0
#: Polls one token may hold at once (a few tabs); more are refused, not queued.
POLLS_PER_TOKEN = 3
#: Polls one address may hold at once (an office, or a mobile network's shared address, has
#: many users; a waiting poll costs about 20 KiB and no CPU: benchmarks/webchat.py).
POLLS_PER_ADDRESS = 200
#: How many users a process remembers having let in (about 100 bytes each).
KNOWN_USERS = 50_000
#: The files the channel serves, with their media types.
STATIC = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "chat.html": "text/html; charset=utf-8",
}


class Mailbox(Protocol):
    """Where messages wait for the browser (``bot.storage.webchat.WebchatMailbox``)."""

    async def put(self, user_id: str, payloads: list[dict[str, Any]]) -> list[int]: ...

    async def fetch(self, user_id: str, after: int) -> list[tuple[int, dict[str, Any]]]: ...

    async def forget(self, user_id: str) -> None: ...


class WebchatChannel:
    """The web chat: serves the widget, the chat page and the JSON API the widget uses."""

    name = CHANNEL
    #: A browser receives files (the .ics, as a download) and the notices the outbox hands
    #: over at any time (they wait in the mailbox for the browser's next poll).
    reach = Reach(user_id_is_phone=False, files=True, window_hours=None, unprompted=True)

    def __init__(
        self,
        engine: Handler,
        interface: Interface,
        mailbox: Mailbox,
        catalog: Callable[[], Catalog],
        outbox: OutboxQueue,
        allowed_origins: Sequence[str] = (),
        rate_limit: int = 20,
        address_limit: int = 300,
        start_limit: int = 30,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        meter: Meter | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.engine = engine
        #: Hands the outbox's notices for web chat users (staff answers, reminders) to
        #: :meth:`send`, which puts them in the mailbox.
        self.worker = OutboxWorker(outbox, CHANNEL, self.send, meter=meter, leadership=leadership)
        self.interface = interface
        self.mailbox = mailbox
        self.catalog = catalog
        self.allowed_origins = tuple(allowed_origins)
        self.poll_seconds = poll_seconds
        #: What each token may send (as on the other channels: 20 a minute by default).
        self.flood = FloodControl(rate_limit, clock=clock)
        #: Every API call of an address, and the conversations it starts.
        self.address_flood = FloodControl(address_limit, clock=clock)
        self.start_flood = FloodControl(start_limit, clock=clock)
        #: Users this process has let in. A token it has not seen counts as a new conversation
        #: (a made-up one is), so the limit on new conversations cannot be dodged by making
        #: tokens up; after a restart a returning browser counts once.
        self._known: OrderedDict[str, None] = OrderedDict()
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._address_polls: dict[str, int] = defaultdict(int)
        self._closing = False
        self._static: dict[str, bytes] = {}

    # -- the Channel interface -------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        api = Router(
            routes=[
                Route("/session", self._session, methods=["POST"]),
                Route("/send", self._send_message, methods=["POST"]),
                Route("/messages", self._messages, methods=["GET"]),
                Route("/strings", self._strings, methods=["GET"]),
            ]
        )
        cors = CORSMiddleware(
            api,
            allow_origins=list(self.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
        return [
            Route("/webchat/widget.js", self._asset, methods=["GET"], name="webchat-js"),
            Route("/webchat/widget.css", self._asset, methods=["GET"], name="webchat-css"),
            Route("/chat", self._page, methods=["GET"]),
            Mount("/webchat/api", app=cors),
        ]

    async def start(self) -> None:
        self._closing = False
        self.worker.start()
        self.worker.wake()  # notices queued while the server was down

    async def stop(self) -> None:
        # Open polls answer now rather than hold the server's shutdown for their full wait.
        self._closing = True
        for events in self._waiters.values():
            for event in events:
                event.set()
        await self.worker.stop()

    def wake(self) -> None:
        self.worker.wake()

    def health(self) -> Mapping[str, object]:
        return {"polls": sum(len(events) for events in self._waiters.values())}

    async def send(self, recipient: str, notice: Notice) -> str | None:
        """A notice from the outbox, kept for the user's browser; its id in the mailbox.

        A notice in doubt (the process died after storing it, before the outbox knew) is
        stored again: the browser shows it twice rather than never.
        """
        return await self.send_notice(recipient, notice.text, notice.buttons, notice.language)

    async def send_notice(
        self,
        recipient: str,
        text: str,
        buttons: Sequence[Sequence[tuple[str, str]]] = (),
        language: str | None = None,
    ) -> str | None:
        """Keep a notice for the user's browser; returns its id in the mailbox."""
        code = language or await self.engine.language_of(CHANNEL, recipient)
        message = notice_message(text, buttons, code, self.catalog().is_rtl(code))
        (stored,) = await self.deliver(recipient, [message])
        return str(stored)

    async def deliver(self, user: str, messages: list[dict[str, Any]]) -> list[int]:
        """Store messages for a user and wake the user's waiting polls."""
        ids = await self.mailbox.put(user, messages)
        for event in self._waiters.get(user, ()):
            event.set()
        return ids

    # -- static files ----------------------------------------------------------------------

    def _file(self, name: str) -> bytes:
        if name not in self._static:
            package = resources.files("bot.channels.webchat") / "static" / name
            self._static[name] = package.read_bytes()
        return self._static[name]

    async def _asset(self, request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        return Response(self._file(name), media_type=STATIC[name], headers=security.asset_headers())

    async def _page(self, request: Request) -> Response:
        # The tab's title names the counter (desk.yaml), as the content names it now.
        title = html.escape(f"{staff_name(self.catalog())} — chat", quote=False)
        page = string.Template(self._file("chat.html").decode()).safe_substitute(title=title)
        return Response(
            page.encode(),
            media_type=STATIC["chat.html"],
            headers=security.page_headers(self.allowed_origins),
        )

    # -- the API ---------------------------------------------------------------------------

    async def _session(self, request: Request) -> Response:
        """Start a conversation (a new token) or resume one (the browser's token)."""
        try:
            self._check_caller(request)
            body = await json_body(request)
            guess = language_tag(body.get("language"))
            token = body.get("token")
            if isinstance(token, str) and tokens.is_token(token):
                user = tokens.user_id(token)
                self._admit(user, request)
                language = await self.engine.language_of(CHANNEL, user)
                return JSONResponse({"token": token, **self._interface_of(language)})
            if token is not None:
                raise Refused(400, "token: not a token of this chat")
            token = tokens.new_token()
            user = tokens.user_id(token)
            self._admit(user, request)
            start = Incoming(CHANNEL, user, Kind.COMMAND, "start", language_guess=guess)
            await self._answer(start)
            language = self._ui_language(guess)
            return JSONResponse({"token": token, **self._interface_of(language)})
        except Refused as refused:
            return refused.response()

    async def _send_message(self, request: Request) -> Response:
        """One thing the user typed or tapped; the replies come through the poll."""
        try:
            user = self._check_caller(request, token_needed=True)
            assert user is not None
            self._admit(user, request)
            body = await json_body(request)
            incoming = parse_message(user, body)
            verdict = self.flood.check(user)
            if verdict is not Verdict.ALLOW:
                if verdict is Verdict.WARN:
                    t = self.interface.translator(await self.engine.language_of(CHANNEL, user))
                    slow = t._(
                        "You are sending messages very quickly. "
                        "Please wait a minute, then write again."
                    )
                    await self.send_notice(user, slow)
                raise Refused(429, "too many messages: wait a minute", 60)
            await self._answer(incoming)
            return JSONResponse({"ok": True}, 202)
        except Refused as refused:
            return refused.response()

    async def _answer(self, incoming: Incoming) -> None:
        replies = await self.engine.handle(incoming)
        try:
            await self.deliver(incoming.user_id, [reply_message(reply) for reply in replies])
        except Exception as error:
            # The database fails (a full disk): the browser says so and the user tries again.
            log.error("webchat: replies cannot be stored (%s)", type(error).__name__)
            raise Refused(503, "the chat cannot answer now: try again in a moment") from error

    async def _messages(self, request: Request) -> Response:
        """The user's messages after ``after``, waiting up to ``poll_seconds`` for one."""
        try:
            user = self._check_caller(request, token_needed=True)
            assert user is not None
            after = after_id(request.query_params.get("after", "0"))
            address = security.client_address(request)
            if len(self._waiters.get(user, ())) >= POLLS_PER_TOKEN:
                raise Refused(429, "too many open polls for this conversation", 5)
            if self._address_polls.get(address, 0) >= POLLS_PER_ADDRESS:
                raise Refused(429, "too many open polls from this address", 5)
            try:
                messages = await self._poll(user, address, after, request)
                if any(payload.get("forget") for _, payload in messages):
                    # The confirmation of an erasure: once handed over, no copy stays here.
                    await self.mailbox.forget(user)
            except Exception as error:
                # The database fails (a full disk): the widget waits and asks again.
                log.error("webchat: messages cannot be read (%s)", type(error).__name__)
                raise Refused(
                    503, "the chat cannot answer now: try again in a moment", 10
                ) from error
        except Refused as refused:
            return refused.response()
        body = [{"id": number, **payload} for number, payload in messages]
        return JSONResponse({"messages": body}, headers={"Cache-Control": "no-store"})

    async def _poll(
        self, user: str, address: str, after: int, request: Request
    ) -> list[tuple[int, dict[str, Any]]]:
        event = asyncio.Event()
        # Registered before the first look: a message stored in between still wakes it.
        self._waiters[user].add(event)
        self._address_polls[address] += 1
        try:
            messages = await self.mailbox.fetch(user, after)
            if messages or self._closing:
                return messages
            woken = asyncio.create_task(event.wait())
            # A closed tab gives its place back at once, not at the end of the wait.
            gone = asyncio.create_task(_disconnected(request))
            try:
                await asyncio.wait(
                    (woken, gone), timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for task in (woken, gone):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if gone.done() and not gone.cancelled():
                return []  # nobody is there to read it: it waits for the next poll
            return await self.mailbox.fetch(user, after)
        finally:
            self._waiters[user].discard(event)
            if not self._waiters[user]:
                del self._waiters[user]
            self._address_polls[address] -= 1
            if self._address_polls[address] <= 0:
                del self._address_polls[address]

    async def _strings(self, request: Request) -> Response:
        """The chat box's words in a language (the widget asks when the user changes it)."""
        try:
            self._check_caller(request)
            language = self._ui_language(language_tag(request.query_params.get("language")))
        except Refused as refused:
            return refused.response()
        return JSONResponse(
            self._interface_of(language), headers={"Cache-Control": "public, max-age=300"}
        )

    # -- helpers ---------------------------------------------------------------------------

    def _check_caller(self, request: Request, token_needed: bool = False) -> str | None:
        """The caller's user id (when a token is needed); refuses other origins and floods."""
        if not security.origin_allowed(request, self.allowed_origins):
            raise Refused(403, "this page may not use the chat")
        if self.address_flood.check(security.client_address(request)) is not Verdict.ALLOW:
            raise Refused(429, "too many requests from this address", 60)
        if not token_needed:
            return None
        token = tokens.bearer(request.headers.get("authorization"))
        if token is None:
            raise Refused(401, "a chat token is needed (Authorization: Bearer)")
        return tokens.user_id(token)

    def _admit(self, user: str, request: Request) -> None:
        """Let a user in; one this process has not seen counts against the address's new
        conversations."""
        if user in self._known:
            self._known.move_to_end(user)
            return
        if self.start_flood.check(security.client_address(request)) is not Verdict.ALLOW:
            raise Refused(429, "too many new conversations from this address", 60)
        self._known[user] = None
        if len(self._known) > KNOWN_USERS:
            self._known.popitem(last=False)

    def _ui_language(self, guess: str | None) -> str:
        catalog = self.catalog()
        return guess if guess and catalog.language(guess) else catalog.default_language

    def _interface_of(self, language: str) -> dict[str, Any]:
        return {
            "language": language,
            "dir": "rtl" if self.catalog().is_rtl(language) else "ltr",
            "strings": widget_strings(self.interface.translator(language)),
        }


async def _disconnected(request: Request) -> None:
    """Return when the client has gone (a GET's body is read already: what comes next is
    the disconnection)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
