"""This module contains iCalendar invitations (RFC 5545) for confirmed appointments."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

LINK_TOKEN_LENGTH = 16  # hex digits: 64 bits, enough against guessing one booking's link


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continued with a space, as the standard asks."""
    parts, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            parts.append(current)
            current = " " + char
        else:
            current += char
    return [*parts, current]


def product_id(counter: str) -> str:
    """The calendar's PRODID: the counter that made the file (its name in ``desk.yaml``), in
    the standard's "-//owner//product//language" form; no "//" inside the name."""
    owner = " ".join(counter.replace("//", "/").split())
    return f"-//{_escape(owner)}//Sportello//IT"


def invitation(
    code: str,
    summary: str,
    location: str,
    description: str,
    start: datetime,
    end: datetime,
    counter: str,
) -> bytes:
    """One event, times in UTC, the booking code as its unique id; ``counter``: who made it."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{product_id(counter)}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{code}@sportello",
        f"DTSTAMP:{_stamp(datetime.now(UTC))}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    folded = [part for line in lines for part in _fold(line)]
    return ("\r\n".join(folded) + "\r\n").encode()


def link_token(secret: str, code: str) -> str:
    """The key in an appointment's calendar link: only who got the link can fetch the file."""
    key = hashlib.sha256(b"sportello calendar links\0" + secret.encode()).digest()
    digest = hmac.new(key, code.upper().encode(), hashlib.sha256).hexdigest()
    return digest[:LINK_TOKEN_LENGTH]


def link_matches(secret: str, code: str, token: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII text, and a link's key is whatever was typed.
    given = token.lower().encode("utf-8", "replace")
    return hmac.compare_digest(link_token(secret, code).encode(), given)
