"""This module contains the staff digest: several staff notices waiting for the staff group
joined into one message.

Telegram lets a bot post about 20 messages a minute to a group: 200 bookings after a news item
would reach the group one by one, ten minutes late. When notices pile up behind the one being
sent, the outbox worker asks for a digest: their texts one under the other, and under them
each notice's buttons in a row of its own, named by its code. Conversations with a person
never join one (staff answer them by replying to their message).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.notice import Buttons, Notice

STAFF_PURPOSE = "staff"
SEPARATOR = "\n\n— — —\n\n"
#: A booking notice's buttons, as the staff keyboard shows them (data after "staff:").
BOOKING_ROW = (("attended", "✅ {code}"), ("no_show", "🚫 Assente"), ("cancel", "❌ Annulla"))


def rows_of(notice: Notice) -> Buttons:
    """A notice's buttons as rows of (data, label), its code in front of the first label."""
    code = notice.code or notice.reference
    if notice.buttons:
        rows = list(notice.buttons)
        if code and rows[0]:
            (data, label), *rest = rows[0]
            rows[0] = ((data, f"{label} {code}"), *rest)
        return tuple(rows)
    if code:
        return (
            tuple((f"{action}:{code}", label.format(code=code)) for action, label in BOOKING_ROW),
        )
    return ()


class StaffDigest:
    """Joins staff notices for a channel whose messages hold ``limit`` characters, as
    ``length`` counts them."""

    def __init__(self, limit: int, length: Callable[[str], int]) -> None:
        self.limit = limit
        self.length = length

    def joins(self, notice: Notice) -> bool:
        return (
            notice.purpose == STAFF_PURPOSE
            and not notice.alone
            and notice.handover is None
            and notice.reply_action is None
        )

    def combine(self, notices: Sequence[Notice]) -> tuple[int, Notice]:
        texts: list[str] = []
        rows: Buttons = ()
        for notice in notices:
            candidate = [*texts, notice.text]
            if texts and self.length(self._text(candidate)) > self.limit:
                break
            texts = candidate
            rows += rows_of(notice)
        first = notices[0]
        digest = Notice(
            first.channel, first.recipient, self._text(texts), STAFF_PURPOSE, buttons=rows
        )
        return max(len(texts), 1), digest

    @staticmethod
    def _text(texts: list[str]) -> str:
        if len(texts) == 1:
            return texts[0]
        return f"📬 {len(texts)} avvisi{SEPARATOR}" + SEPARATOR.join(texts)
