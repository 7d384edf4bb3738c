"""This module contains what the web chat's API reads from a request: the JSON body, the
message (typed text or a tapped choice), the browser's language, the id of the last message
held; and the refusal, with its status, of anything else."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.core.messages import Incoming, Kind

CHANNEL = "webchat"

#: What a user may type in one message (the engine reads 2000, passes 4000 on to staff).
TEXT_LIMIT = 4000
#: A request's JSON body: a message of TEXT_LIMIT characters, even all in four-byte letters.
BODY_LIMIT = 20_000
_CHOICE_ID = re.compile(r"[\w:.@+-]{1,200}")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


class Refused(Exception):
    """A request answered with an error status and a short reason (no personal data)."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after else None
        return JSONResponse({"error": self.reason}, self.status, headers=headers)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else is refused cleanly."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > BODY_LIMIT:
        raise Refused(413, "the message is too long")
    raw = await request.body()
    if len(raw) > BODY_LIMIT:
        raise Refused(413, "the message is too long")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body is not a JSON object")
    return body


def parse_message(user: str, body: Mapping[str, Any]) -> Incoming:
    """What the user sent: ``{"text": ...}`` or ``{"choice": id}``, with the browser's
    language as a guess (the engine asks before relying on it)."""
    guess = language_tag(body.get("language"))
    text, choice = body.get("text"), body.get("choice")
    if isinstance(choice, str) and text is None:
        if not _CHOICE_ID.fullmatch(choice):
            raise Refused(400, "choice: not a choice of this chat")
        return Incoming(CHANNEL, user, Kind.CHOICE, choice_id=choice, language_guess=guess)
    if isinstance(text, str) and choice is None:
        if len(text) > TEXT_LIMIT:
            raise Refused(413, f"text: at most {TEXT_LIMIT} characters")
        if not text.strip():
            raise Refused(400, "text: empty")
        if text.startswith("/") and text[1:].strip() and len(text.split()) == 1:
            return Incoming(CHANNEL, user, Kind.COMMAND, text[1:], language_guess=guess)
        return Incoming(CHANNEL, user, Kind.TEXT, text, language_guess=guess)
    raise Refused(400, 'send {"text": "..."} or {"choice": "..."}')


def language_tag(value: object) -> str | None:
    """A browser's language tag ("fr-FR") as the language code the content uses ("fr")."""
    if not isinstance(value, str) or not _LANGUAGE_TAG.fullmatch(value):
        return None
    return value.replace("_", "-").split("-")[0].lower()


def after_id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise Refused(400, "after: the id of the last message held, a whole number")
    return int(value)
