"""iCalendar invitations: what a phone's calendar app needs to import them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.booking.ical import invitation, product_id

ROME = ZoneInfo("Europe/Rome")


def test_invitation_is_valid_icalendar() -> None:
    start = datetime(2026, 11, 30, 9, 30, tzinfo=ROME)
    end = datetime(2026, 11, 30, 10, 0, tzinfo=ROME)
    data = invitation(
        "LU-4K7P",
        "Rinnovo; permesso, kit",
        "via Ronchetto 1, 21016 Luino",
        "x\n" * 60,
        start,
        end,
        counter="Sportello Stranieri di Como",
    )
    text = data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "PRODID:-//Sportello Stranieri di Como//Sportello//IT\r\n" in text
    assert "UID:LU-4K7P@sportello\r\n" in text
    assert "DTSTART:20261130T083000Z\r\n" in text  # 09:30 in Rome, winter time
    assert "DTEND:20261130T090000Z\r\n" in text
    assert "SUMMARY:Rinnovo\\; permesso\\, kit\r\n" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\r\n " in text  # the long description is folded


def test_the_product_id_names_the_counter_and_keeps_its_shape() -> None:
    assert product_id("Sportello Immigrati di Luino e Cittiglio") == (
        "-//Sportello Immigrati di Luino e Cittiglio//Sportello//IT"
    )
    # A name's "//" would add a field; commas and semicolons are escaped as in any text.
    assert product_id("Comune // Ufficio, stranieri;\n  sede") == (
        "-//Comune / Ufficio\\, stranieri\\; sede//Sportello//IT"
    )
