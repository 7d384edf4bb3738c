"""This module plays Telegram to bots under load: its updates, POSTed over a lean client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

POST_TIMEOUT = 10.0


def telegram_update(user: int, number: int, kind: str, value: str) -> dict[str, Any]:
    """What Telegram sends for ``user``'s message (``kind`` "text") or button tap
    (``kind`` "button", ``value`` its callback data), as update ``number``."""
    sender = {"id": user, "is_bot": False, "first_name": "U", "language_code": "it"}
    chat = {"id": user, "type": "private", "first_name": "U"}
    if kind == "button":
        return {
            "update_id": number,
            "callback_query": {
                "id": f"{user}-{number}",
                "from": sender,
                "chat_instance": str(user),
                "data": value,
                "message": {"message_id": 1, "date": 0, "chat": chat, "text": "menu"},
            },
        }
    return {
        "update_id": number,
        "message": {"message_id": number, "date": 0, "chat": chat, "from": sender, "text": value},
    }


class PostFailed(Exception):
    """A POST that got no 200: its kind is counted, the run goes on."""


class Connection:
    """One keep-alive HTTP/1.1 connection that only POSTs JSON.

    httpx costs the load generator 1 to 2 ms of CPU a request, as much as the echo bot it
    measures, on a machine where they share two cores: this costs a tenth of that. A
    connection idle for longer than ``IDLE`` is opened anew, well within uvicorn's 5 s
    keep-alive, so a connection the server has closed is never used.
    """

    IDLE = 2.0

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def post(self, path: str, body: bytes, headers: str = "") -> None:
        try:
            async with asyncio.timeout(POST_TIMEOUT):
                status = await self._exchange(path, body, headers)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
            self.close()
            raise PostFailed(type(error).__name__) from None
        if status != 200:
            raise PostFailed(f"HTTP {status}")

    async def _exchange(self, path: str, body: bytes, headers: str) -> int:
        if self.writer is None or time.monotonic() - self.used > self.IDLE:
            self.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
            .encode() + body
        )  # fmt: skip
        status = int((await self.reader.readuntil(b"\r\n")).split()[1])
        length, close = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
            elif name.lower() == "transfer-encoding":
                raise ValueError("chunked answers are not read")
        await self.reader.readexactly(length)
        self.used = time.monotonic()
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Connections:
    """Idle connections to one port, reused; as many as are busy at once."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []

    async def post(self, path: str, body: bytes, headers: str = "") -> None:
        connection = self.idle.pop() if self.idle else Connection(self.port)
        try:
            await connection.post(path, body, headers)
        finally:
            self.idle.append(connection)

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()
