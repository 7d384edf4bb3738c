"""This module contains the staff digest: several staff notices waiting for the staff group
joined into one message.

Telegram lets a bot post about 20 messages a minute to a group: 200 bookings after a news item
would reach the group one by one, ten minutes late. When notices pile up behind the one being
sent, the outbox worker asks for a digest: their texts one under the other, and under them
each notice's buttons in a row of its own, named by its code. Conversations with a person
never join one (staff answer them by replying to their message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STAFF_PURPOSE = "staff"
SEPARATOR = "\n\n— — —\n\n"
#: A booking notice's buttons, as the staff keyboard shows them (data after "staff:").
BOOKING_ROW = (("attended", "✅ {code}"), ("no_show", "🚫 Assente"), ("cancel", "❌ Annulla"))


def _notice(payload: dict[str, Any]) -> dict[str, Any] | None:
    notice = payload.get("notice")
    return notice if isinstance(notice, dict) and isinstance(notice.get("text"), str) else None


def rows_of(notice: dict[str, Any]) -> list[list[list[str]]]:
    """A notice's buttons as rows of [data, label], its code in front of the first label."""
    code = notice.get("code") or notice.get("reference")
    rows = notice.get("buttons")
    if isinstance(rows, list) and rows:
        named = [[list(button) for button in row] for row in rows]
        if isinstance(code, str) and named[0]:
            first = named[0][0]
            named[0][0] = [first[0], f"{first[1]} {code}"]
        return named
    if isinstance(code, str) and code:
        return [[[f"{action}:{code}", label.format(code=code)] for action, label in BOOKING_ROW]]
    return []


class StaffDigest:
    """Joins staff notices for a channel whose messages hold ``limit`` characters, as
    ``length`` counts them."""

    def __init__(self, limit: int, length: Callable[[str], int]) -> None:
        self.limit = limit
        self.length = length

    def joins(self, payload: dict[str, Any]) -> bool:
        notice = _notice(payload)
        return (
            notice is not None
            and notice.get("purpose") == STAFF_PURPOSE
            and not notice.get("alone")
            and notice.get("handover") is None
        )

    def combine(self, payloads: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        texts: list[str] = []
        rows: list[list[list[str]]] = []
        for payload in payloads:
            notice = _notice(payload)
            if notice is None:
                break
            candidate = [*texts, notice["text"]]
            if texts and self.length(self._text(candidate)) > self.limit:
                break
            texts = candidate
            rows += rows_of(notice)
        combined: dict[str, Any] = {"text": self._text(texts), "purpose": STAFF_PURPOSE}
        if rows:
            combined["buttons"] = rows
        return max(len(texts), 1), {"notice": combined}

    @staticmethod
    def _text(texts: list[str]) -> str:
        if len(texts) == 1:
            return texts[0]
        return f"📬 {len(texts)} avvisi{SEPARATOR}" + SEPARATOR.join(texts)
