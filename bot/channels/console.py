"""This module contains the terminal chat: the bot on standard input and output, no network.

Choices are numbered; the user types a number, a label or a question. Input may be piped,
so a conversation can be scripted; the chat ends cleanly at the end of input.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, TextIO

from bot.content.markup import spans
from bot.core.messages import Incoming, Kind, Reply
from bot.i18n import bidi_text

CHANNEL = "terminal"
QUIT_COMMANDS = {"/quit", "/exit"}


class Handler(Protocol):
    async def handle(self, incoming: Incoming) -> list[Reply]: ...

    async def forget(self, channel: str, user_id: str) -> None: ...


def render(reply: Reply, color: bool = False) -> str:
    """A reply as terminal text: bold marks become ANSI bold (or vanish), choices numbered."""
    text = "".join(
        f"\033[1m{run}\033[0m" if bold and color else run for run, bold in spans(reply.text)
    )
    lines = [bidi_text(text, reply.rtl)]
    for attachment in reply.attachments:
        lines.append(f"[{attachment.filename}, {len(attachment.data)} bytes]")
    if reply.choices:
        lines.append("")
        width = len(str(len(reply.choices)))
        for number, choice in enumerate(reply.choices, start=1):
            lines.append(bidi_text(f"{number:>{width}}. {choice.label}", reply.rtl))
    return "\n".join(lines)


class ConsoleChannel:
    """Runs one terminal conversation until end of input or ``/quit``."""

    def __init__(
        self,
        engine: Handler,
        stdin: TextIO,
        stdout: TextIO,
        user_id: str = "local",
        language: str | None = None,
        interactive: bool = False,
    ) -> None:
        self.engine = engine
        self.stdin = stdin
        self.stdout = stdout
        self.user_id = user_id
        self.language = language
        self.interactive = interactive

    def _show(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.stdout.write(render(reply, color=self.interactive) + "\n\n")
        self.stdout.flush()

    async def run(self) -> None:
        # Each run starts afresh, so a scripted conversation always gives the same output.
        await self.engine.forget(CHANNEL, self.user_id)
        start = Incoming(CHANNEL, self.user_id, Kind.COMMAND, "start", language_hint=self.language)
        self._show(await self.engine.handle(start))
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            text = line.rstrip("\r\n")
            if text.strip().lower() in QUIT_COMMANDS:
                break
            if text.startswith("/") and len(text) > 1:
                incoming = Incoming(CHANNEL, self.user_id, Kind.COMMAND, text[1:])
            else:
                incoming = Incoming(CHANNEL, self.user_id, Kind.TEXT, text)
            if not self.interactive:
                self.stdout.write(f"> {text}\n")
            self._show(await self.engine.handle(incoming))
