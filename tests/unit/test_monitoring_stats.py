"""Monitoring statistics: exact figures from the known event fixture, in every output form."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from zoneinfo import ZoneInfo

from bot.monitoring.stats import NONE, BookingRow, UnansweredRow, summarise
from bot.monitoring.tables import as_csv, as_json, as_text
from tests.auxil.events import pseudonymous_events

ROME = ZoneInfo("Europe/Rome")
FIRST, LAST = date(2026, 1, 1), date(2026, 3, 31)


def test_the_quarter_in_figures() -> None:
    summary = summarise(pseudonymous_events(), ROME, FIRST, LAST)
    assert summary.consultations == 10
    assert summary.by_area == {"permits": 5, "citizenship": 2, NONE: 2, "family_reunification": 1}
    assert summary.by_topic == {
        "permit_renewal": 2,
        "citizenship_residence": 1,
        "family_reunification": 1,
    }
    assert summary.by_language == {"ar": 3, "fr": 3, "en": 1, "it": 1, "uk": 1, "ur": 1}
    assert summary.by_channel == {"telegram": 5, "whatsapp": 3, "desk": 1, "phone": 1}
    # Midnight of New Year's Day and 23:00 of 31 March (Rome time) are inside; 23:00 of New
    # Year's Eve and midnight of 1 April are not, though UTC says otherwise.
    assert summary.by_month == {"2026-01": 5, "2026-02": 4, "2026-03": 1}
    assert summary.by_month_area["2026-02"] == {"permits": 2, NONE: 1, "citizenship": 1}
    assert summary.questions == {"answered": 1, "unsure": 2, "unanswered": 2}
    assert summary.unique_users == 7
    assert summary.bookings == (
        BookingRow("a2_test", "cittiglio", made=1, attended=1),
        BookingRow("permit_renewal", "luino", made=3, moved=1, cancelled=1, attended=1, no_show=1),
    )
    assert summary.bookings[0].no_show_rate == 0.0
    assert summary.bookings[1].attendance_rate == summary.bookings[1].no_show_rate == 0.5
    assert (summary.handovers_requested, summary.handovers_answered) == (3, 2)
    assert summary.median_response_seconds == 600
    assert summary.unanswered == (
        UnansweredRow("permit_lost", "permits", "fr", unsure=2, unanswered=0),
        UnansweredRow(NONE, NONE, "fr", unsure=0, unanswered=1),
        UnansweredRow(NONE, NONE, "uk", unsure=0, unanswered=1),
    )


def test_one_office_keeps_online_consultations_and_drops_the_other_office() -> None:
    summary = summarise(pseudonymous_events(), ROME, FIRST, LAST, office="luino")
    assert summary.consultations == 9  # the phone call logged in Cittiglio is left out
    assert summary.by_channel == {"telegram": 5, "whatsapp": 3, "desk": 1}
    assert [(row.service, row.office) for row in summary.bookings] == [("permit_renewal", "luino")]


def test_an_empty_period_has_zeros_and_no_rates() -> None:
    summary = summarise(pseudonymous_events(), ROME, date(2027, 1, 1), date(2027, 1, 31))
    assert summary.consultations == summary.unique_users == 0
    assert summary.median_response_seconds is None
    assert "(nessun dato)" in as_text(summary)


def test_csv_is_one_long_table() -> None:
    rows = list(
        csv.DictReader(io.StringIO(as_csv(summarise(pseudonymous_events(), ROME, FIRST, LAST))))
    )
    values = {(row["table"], row["key"], row["measure"]): row["value"] for row in rows}
    assert values[("totals", "consultazioni", "valore")] == "10"
    assert values[("totals", "utenti unici", "valore")] == "7"
    assert values[("totals", "tempo mediano di risposta (minuti)", "valore")] == "10.0"
    assert values[("by_month", "2026-01 / permits", "consultazioni")] == "3"
    assert values[("bookings", "permit_renewal / luino", "tasso di assenza")] == "0.5"
    assert values[("unanswered", "permit_lost / permits / fr", "totale")] == "2"


def test_json_has_every_table() -> None:
    document = json.loads(as_json(summarise(pseudonymous_events(), ROME, FIRST, LAST)))
    assert (document["from"], document["to"], document["office"]) == (
        "2026-01-01",
        "2026-03-31",
        None,
    )
    assert set(document["tables"]) == {
        "totals",
        "by_area",
        "by_topic",
        "by_language",
        "by_channel",
        "by_month",
        "bookings",
        "unanswered",
    }
    assert document["tables"]["by_language"]["rows"][0] == ["ar", 3]
    assert document["tables"]["bookings"]["rows"][1] == [
        "permit_renewal",
        "luino",
        3,
        1,
        1,
        1,
        1,
        0.5,
        0.5,
    ]


def test_text_tables_print_rates_as_percentages() -> None:
    text = as_text(summarise(pseudonymous_events(), ROME, FIRST, LAST))
    assert text.startswith("Sportello Immigrati — attività dal 2026-01-01 al 2026-03-31\n")
    line = next(line for line in text.splitlines() if "permit_renewal  luino" in line)
    assert line.split()[-2:] == ["50.0%", "50.0%"]
