"""A fake Telegram Bot API server on 127.0.0.1, for the real python-telegram-bot to talk to."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.waiting import wait_until

BOT_ID = 7_000_000
BOT_USERNAME = "sportello_test_bot"


class ApiError(Exception):
    """An error answer of the Bot API, such as 400 "Bad Request: chat not found"."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None


@dataclass
class FakeTelegram:
    """Records every Bot API call; serves queued updates to getUpdates."""

    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # method -> retry_after seconds
    listeners: list[Callable[[Call], None]] = field(default_factory=list)
    unavailable: bool = False  # every call answered 502, as during an outage
    webhook_url: str = ""  # what setWebhook registered, as getWebhookInfo reports it
    webhook_error: str = ""  # getWebhookInfo's last_error_message
    # The chats the bot is in, with its status there as getChatMember tells it ("member",
    # "administrator", "restricted" (may not send), "left", "kicked"); getChat and
    # getChatMember answer 400 "chat not found" for any other chat.
    chats: dict[int, str] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)  # users who blocked the bot: 403 to them
    _next_update_id: int = 1
    #: As Telegram does, getUpdates with an offset confirms (forgets) every update before it.
    confirmed_below: int = 0
    #: Seconds between taking a message (recorded) and answering: a bot killed meanwhile
    #: never learns that its message went.
    answer_delay: float = 0.0
    _next_message_id: int = 1
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        if self.unavailable:
            return JSONResponse({"ok": False, "description": "Bad Gateway"}, 502)
        method = request.path_params["method"]
        params = await _params(request)
        if method in self.fail_next:
            retry_after = self.fail_next.pop(method)
            self._record(Call(f"{method}:429", params))
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status_code=429,
            )
        try:
            result = await self._result(method, params)
        except ApiError as error:
            self._record(Call(f"{method}:{error.code}", params))
            return JSONResponse(
                {"ok": False, "error_code": error.code, "description": error.description},
                status_code=error.code,
            )
        if method != "getUpdates":
            self._record(Call(method, params, result))
        if method in ("sendMessage", "sendDocument") and self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return JSONResponse({"ok": True, "result": result})

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Sportello",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            self.confirmed_below = max(self.confirmed_below, int(params.get("offset") or 0))
            offset = self.confirmed_below
            timeout = min(float(params.get("timeout") or 0), 0.25)
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if not pending and timeout:
                self._new_update.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
                pending = [u for u in self.updates if u["update_id"] >= offset]
            return pending
        if method in ("sendMessage", "sendDocument"):
            if int(params["chat_id"]) in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            message_id = self._next_message_id
            self._next_message_id += 1
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Sportello"},
                "text": params.get("text", ""),
            }
        if method in ("getChat", "getChatMember"):
            return self._chat(method, params)
        if method == "setWebhook":
            self.webhook_url = str(params.get("url") or "")
        if method == "deleteWebhook":
            self.webhook_url = ""
        if method == "getWebhookInfo":
            info: dict[str, Any] = {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            if self.webhook_error:
                info["last_error_date"] = int(time.time())
                info["last_error_message"] = self.webhook_error
            return info
        return True  # setWebhook, deleteWebhook, setMyCommands, answerCallbackQuery, leaveChat...

    def _chat(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params.get("chat_id", ""))
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if method == "getChat":
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": "Sportello staff"}
        if int(params.get("user_id") or 0) != BOT_ID:
            raise ApiError(400, "Bad Request: user not found")
        status = self.chats[chat_id]
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Sportello", "username": BOT_USERNAME}
        member: dict[str, Any] = {"status": status, "user": bot}
        if status == "restricted":
            member |= {"is_member": True, "can_send_messages": False}
        return member

    def queue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Give ``update`` an id and make it available to getUpdates."""
        update = {**update, "update_id": self._next_update_id}
        self._next_update_id += 1
        self.updates.append(update)
        self._new_update.set()
        return update

    def sent(self, chat_id: int | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.method == "sendMessage"
            and (chat_id is None or int(call.params["chat_id"]) == chat_id)
        ]

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, predicate: Any, seconds: float = 10.0) -> None:
        await wait_until(
            predicate, seconds, lambda: f"calls so far: {[c.method for c in self.calls]}"
        )


async def _params(request: Request) -> dict[str, Any]:
    """PTB sends form fields whose values are JSON (or plain strings), or a JSON body; a GET
    (as ``sportello doctor`` makes) has them in its query string."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        return dict(json.loads(body)) if body else {}
    params: dict[str, Any] = {}
    for key, text in request.query_params.items():
        try:
            params[key] = json.loads(text)
        except ValueError:
            params[key] = text
    async with request.form() as form:  # closes the uploaded files' temporary storage
        for key, value in form.items():
            if not isinstance(value, str):
                data = (await value.read()).decode("utf-8", "replace")
                params[key] = {"filename": value.filename, "data": data}
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
    return params


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 in this event loop; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
