"""Monitoring statistics: exact figures from the known event fixture, in every output form."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from zoneinfo import ZoneInfo

from bot.content.catalog import Catalog
from bot.monitoring.stats import NONE, BookingRow, UnansweredRow, summarise
from bot.monitoring.tables import (
    Names,
    as_csv,
    as_json,
    as_text,
    number,
    percent,
    spreadsheet_cell,
)
from tests.auxil.events import pseudonymous_events

ROME = ZoneInfo("Europe/Rome")
FIRST, LAST = date(2026, 1, 1), date(2026, 3, 31)
NAMES = Names(
    topics={
        "permit_renewal": "Rinnovo del permesso di soggiorno",
        "permit_lost": "Permesso perso o rubato",
        "citizenship_residence": "Cittadinanza per residenza",
        "family_reunification": "Ricongiungimento familiare",
    },
    services={"permit_renewal": "Rinnovo del permesso di soggiorno", "a2_test": "Test A2"},
    offices={"luino": "Sportello di Luino", "cittiglio": "Sportello di Cittiglio"},
    areas={
        "permits": "Permesso di soggiorno",
        "citizenship": "Cittadinanza",
        "family_reunification": "Ricongiungimento familiare",
    },
    counter="Sportello Immigrati",
)


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


def test_one_office_counts_only_what_names_it_and_the_shared_rest_apart() -> None:
    luino = summarise(pseudonymous_events(), ROME, FIRST, LAST, office="luino")
    assert luino.consultations == 1  # the desk consultation logged in Luino
    assert luino.by_channel == {"desk": 1}
    assert luino.shared == 8  # read or asked online: no office's
    assert luino.unique_users == 3  # the people of Luino's bookings
    assert [(row.service, row.office) for row in luino.bookings] == [("permit_renewal", "luino")]
    assert luino.unanswered == () and luino.handovers_requested == 0
    cittiglio = summarise(pseudonymous_events(), ROME, FIRST, LAST, office="cittiglio")
    assert (cittiglio.consultations, cittiglio.shared) == (1, 8)
    assert cittiglio.by_channel == {"phone": 1}
    whole = summarise(pseudonymous_events(), ROME, FIRST, LAST)
    # The offices and the shared figures add up to the whole: nothing counted twice.
    assert luino.consultations + cittiglio.consultations + luino.shared == whole.consultations
    assert whole.shared == 0


def test_one_office_says_what_its_figures_hold() -> None:
    summary = summarise(pseudonymous_events(), ROME, FIRST, LAST, office="luino")
    text = as_text(summary, NAMES)
    lines = text.splitlines()
    assert lines[0].endswith(", sede Sportello di Luino")
    assert lines[1].startswith("Solo gli appuntamenti di questa sede")
    assert "(8: quelle online" in lines[1]
    shared = next(line for line in lines if "senza sede (online e non attribuite)" in line)
    assert shared.split()[-1] == "8"
    assert "Cittiglio" not in text
    document = json.loads(as_json(summary, NAMES))
    assert document["office"] == "luino" and "escluse" in document["office_note"]
    totals = dict(document["tables"]["totals"]["rows"])
    assert totals["consultazioni senza sede (online e non attribuite), escluse"] == 8
    # Without an office there is nothing shared to leave out, and no such row.
    assert "senza sede" not in as_text(summarise(pseudonymous_events(), ROME, FIRST, LAST))


def test_an_empty_period_has_zeros_and_no_rates() -> None:
    summary = summarise(pseudonymous_events(), ROME, date(2027, 1, 1), date(2027, 1, 31))
    assert summary.consultations == summary.unique_users == 0
    assert summary.median_response_seconds is None
    assert "(nessun dato)" in as_text(summary)


def test_csv_is_for_an_italian_spreadsheet() -> None:
    text = as_csv(summarise(pseudonymous_events(), ROME, FIRST, LAST), NAMES)
    assert text.startswith("\ufeffSportello Immigrati — attività dal 1 gennaio 2026 al 31 marzo")
    sections = text.removeprefix("\ufeff").split("\r\n\r\n")
    parsed = [list(csv.reader(io.StringIO(section), delimiter=";")) for section in sections]
    by_title = {rows[0][0]: rows[1:] for rows in parsed[1:]}
    assert list(by_title) == [
        "Totali",
        "Consultazioni per area",
        "Argomenti consultati",
        "Consultazioni per lingua",
        "Consultazioni per canale",
        "Consultazioni per mese e area",
        "Appuntamenti per servizio e sede",
        "Promemoria di scadenze per mese e tipo (senza date né persone)",
        "Domande senza risposta diretta, per argomento più vicino e lingua",
    ]
    totals = dict(by_title["Totali"][1:])
    assert by_title["Totali"][0] == ["misura", "valore"]
    assert (totals["consultazioni"], totals["utenti unici"]) == ("10", "7")
    assert totals["tempo mediano di risposta (minuti)"] == "10,0"
    assert by_title["Consultazioni per lingua"][1] == ["arabo", "3"]
    assert by_title["Consultazioni per canale"][3:] == [
        ["allo sportello", "1"],
        ["al telefono", "1"],
    ]
    assert ["gennaio 2026", "Permesso di soggiorno", "3"] in by_title[
        "Consultazioni per mese e area"
    ]
    bookings = by_title["Appuntamenti per servizio e sede"]
    assert bookings[2] == [
        "Rinnovo del permesso di soggiorno",
        "Sportello di Luino",
        "3",
        "1",
        "1",
        "1",
        "1",
        "50,0%",
        "50,0%",
    ]
    assert bookings[1][-2:] == ["100,0%", "0,0%"]
    # Deadline reminders by month and kind (the kind named after its topic), never a date.
    assert by_title["Promemoria di scadenze per mese e tipo (senza date né persone)"] == [
        ["mese", "scadenza", "impostati", "inviati"],
        ["gennaio 2026", "anagrafe_update", "1", "0"],
        ["gennaio 2026", "Rinnovo del permesso di soggiorno", "2", "0"],
        ["febbraio 2026", "Rinnovo del permesso di soggiorno", "0", "1"],
    ]
    assert (
        totals["promemoria di scadenze impostati"],
        totals["promemoria di scadenze inviati"],
    ) == (
        "3",
        "1",
    )
    unanswered = by_title["Domande senza risposta diretta, per argomento più vicino e lingua"]
    assert unanswered[1] == [
        "Permesso perso o rubato",
        "Permesso di soggiorno",
        "francese",
        "2",
        "0",
        "2",
    ]
    assert unanswered[2][:3] == ["(nessun argomento vicino)", "(nessuna)", "francese"]
    for rows in parsed[1:]:
        for row in rows[2:]:
            assert not any(
                value in ("permits", "permit_renewal", "luino", "ar", "desk") for value in row
            )


def test_no_cell_starts_a_formula() -> None:
    hostile = {
        '=HYPERLINK("http://evil.example","Clicca")': '\'=HYPERLINK("http://evil.example","Clicca")',
        "+39 333": "'+39 333",
        "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A9)": "'@SUM(A1:A9)",
        "\t=1+1": "'\t=1+1",
        "\r=1+1": "'\r=1+1",
        "Amina = Rossi": "Amina = Rossi",  # only the first character starts a formula
        "": "",
    }
    assert {text: spreadsheet_cell(text) for text in hostile} == hostile


def test_a_csv_from_hostile_names_starts_no_formula() -> None:
    names = Names(
        topics={"permit_renewal": "=cmd|' /C calc'!A0", "permit_lost": "@SUM(1+1)"},
        services={"permit_renewal": "+Rinnovo"},
        offices={"luino": "-Luino"},
    )
    rows = list(
        csv.reader(
            io.StringIO(as_csv(summarise(pseudonymous_events(), ROME, FIRST, LAST), names)),
            delimiter=";",
        )
    )
    cells = [cell for row in rows for cell in row]
    assert {"'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'+Rinnovo", "'-Luino"} <= set(cells)
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells)


def test_csv_leaves_no_value_empty() -> None:
    empty = as_csv(summarise([], ROME, FIRST, LAST))
    assert "tempo mediano di risposta (minuti);\r\n" in empty


def test_json_has_every_table() -> None:
    document = json.loads(as_json(summarise(pseudonymous_events(), ROME, FIRST, LAST), NAMES))
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
        "deadlines",
        "unanswered",
    }
    assert document["tables"]["deadlines"]["rows"] == [
        ["2026-01", "anagrafe_update", 1, 0],
        ["2026-01", "permit_renewal", 2, 0],
        ["2026-02", "permit_renewal", 0, 1],
    ]
    assert document["tables"]["by_language"]["rows"][0] == ["ar", 3]
    assert document["tables"]["by_language"]["names"][0] == ["arabo"]
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
    assert document["tables"]["bookings"]["names"][1] == [
        "Rinnovo del permesso di soggiorno",
        "Sportello di Luino",
    ]
    assert document["tables"]["by_month"]["names"][0] == ["gennaio 2026", "Permesso di soggiorno"]


def test_text_tables_show_names_and_italian_numbers() -> None:
    text = as_text(summarise(pseudonymous_events(), ROME, FIRST, LAST), NAMES)
    assert text.startswith("Sportello Immigrati — attività dal 1 gennaio 2026 al 31 marzo 2026\n")
    line = next(line for line in text.splitlines() if "Sportello di Luino" in line)
    assert line.split()[:5] == ["Rinnovo", "del", "permesso", "di", "soggiorno"]
    assert line.split()[-2:] == ["50,0%", "50,0%"]
    assert "  tempo mediano di risposta (minuti)      10,0" in text
    assert "  arabo " in text and "  allo sportello " in text and "  gennaio 2026 " in text
    for identifier in (" permits ", " permit_renewal ", " luino ", " ar ", " desk "):
        assert identifier not in text


def test_names_fall_back_to_ids_and_name_what_is_missing() -> None:
    names = Names()
    assert names.of("topic", "permit_renewal") == "permit_renewal"
    assert names.of("topic", NONE) == "(nessun argomento vicino)"
    assert names.of("area", NONE) == "(nessuna)"
    assert names.of("language", "xx-unknown") == "xx-unknown"
    assert names.of("month", "2026-11") == "novembre 2026"


def test_numbers_are_italian() -> None:
    assert (number(1234), number(1234, grouping=False), number(0.3)) == ("1.234", "1234", "0,3")
    assert (percent(1.0), percent(0.125)) == ("100,0%", "12,5%")


def test_names_come_from_the_content_in_italian(catalog: Catalog) -> None:
    names = Names.of_catalog(catalog)
    assert names.of("office", "luino") == "Sportello di Luino"
    assert names.of("service", "permit_renewal") == "Rinnovo del permesso"
    assert names.of("topic", "permit_renewal") == catalog.title("permit_renewal", "it")
    assert names.of("area", "permits") == "Permesso di soggiorno"
    assert names.counter == "Sportello di prova di Luino"
    # An area of an older content, still in the database's events, shows as its id.
    assert names.of("area", "weather") == "weather"
    assert Names.of_catalog(None) == Names()
