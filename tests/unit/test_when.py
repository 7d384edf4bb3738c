"""Days and times as people type them, in every language the bot speaks."""

from __future__ import annotations

from datetime import date

import pytest

from bot.booking.when import AFTERNOON, MORNING, WhenReader, fold_digits, part_of

TODAY = date(2026, 11, 25)  # a Wednesday
WEDNESDAY, TOMORROW, AFTER = date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)
DECEMBER_2, DECEMBER_12 = date(2026, 12, 2), date(2026, 12, 12)


@pytest.mark.parametrize(
    ("language", "text", "day"),
    [
        ("it", "mercoledì", WEDNESDAY),
        ("it", "domani", TOMORROW),
        ("it", "dopodomani", AFTER),
        ("it", "2 dicembre", DECEMBER_2),
        ("it", "il 2 dic", DECEMBER_2),
        ("it", "12/12", DECEMBER_12),
        ("it", "12.12.2026", DECEMBER_12),
        ("it", "martedì 1 dicembre", date(2026, 12, 1)),
        ("en", "Wednesday", WEDNESDAY),
        ("en", "tomorrow", TOMORROW),
        ("en", "December 2nd", DECEMBER_2),
        ("en", "12/12", DECEMBER_12),
        ("en", "2/12", DECEMBER_2),  # day first, as English is written in Italy
        ("fr", "mercredi", WEDNESDAY),
        ("fr", "après-demain", AFTER),
        ("fr", "le 2 décembre", DECEMBER_2),
        ("ar", "الأربعاء", WEDNESDAY),
        ("ar", "الاربعاء", WEDNESDAY),  # written without the hamza
        ("ar", "غدا", TOMORROW),
        ("ar", "٢ ديسمبر", DECEMBER_2),
        ("ar", "١٢/١٢", DECEMBER_12),
        ("es", "miércoles", WEDNESDAY),
        ("es", "pasado mañana", AFTER),
        ("es", "2 de diciembre", DECEMBER_2),
        ("sq", "e mërkurë", WEDNESDAY),
        ("sq", "mërkurë", WEDNESDAY),
        ("sq", "nesër", TOMORROW),
        ("sq", "2 dhjetor", DECEMBER_2),
        ("uk", "середа", WEDNESDAY),
        ("uk", "завтра", TOMORROW),
        ("uk", "2 грудня", DECEMBER_2),
        ("ur", "بدھ", WEDNESDAY),
        ("ur", "۲ دسمبر", DECEMBER_2),  # Persian digits, as Urdu keyboards type them
        ("zh", "星期三", WEDNESDAY),
        ("zh", "周三", WEDNESDAY),
        ("zh", "明天", TOMORROW),
        ("zh", "12月2日", DECEMBER_2),
        ("zh", "12/2", DECEMBER_2),  # month first, as Chinese dates are written
        ("bn", "বুধবার", WEDNESDAY),
        ("bn", "আগামীকাল", TOMORROW),
        ("bn", "২ ডিসেম্বর", DECEMBER_2),
    ],
)
def test_days_in_every_language(language: str, text: str, day: date) -> None:
    assert WhenReader(language).read(text, TODAY).day == day


@pytest.mark.parametrize(
    ("language", "text", "clock"),
    [
        ("it", "9:30", (9, 30)),
        ("it", "alle 9.30", (9, 30)),
        ("it", "alle 10", (10, None)),
        ("it", "alle 3 del pomeriggio", (15, None)),
        ("en", "2pm", (14, None)),
        ("en", "10.30 am", (10, 30)),
        ("fr", "10h30", (10, 30)),
        ("fr", "à 10h", (10, None)),
        ("ar", "٩:٣٠", (9, 30)),
        ("ur", "۹:۳۰", (9, 30)),
        ("zh", "下午3点", (15, None)),
    ],
)
def test_times(language: str, text: str, clock: tuple[int, int | None]) -> None:
    assert WhenReader(language).read(text, TODAY, prefer="time").clock == clock


def test_a_day_and_a_time_together() -> None:
    said = WhenReader("fr").read("le 2 décembre à 10h30", TODAY)
    assert (said.day, said.clock) == (DECEMBER_2, (10, 30))
    said = WhenReader("it").read("lunedì alle 10", TODAY)
    assert (said.day, said.clock) == (date(2026, 11, 30), (10, None))


def test_what_settles_twelve_dot_twelve_is_the_question_asked() -> None:
    reader = WhenReader("it")
    assert reader.read("12.12", TODAY, prefer="day").day == DECEMBER_12
    said = reader.read("12.12", TODAY, prefer="time")
    assert (said.day, said.clock) == (None, (12, 12))


@pytest.mark.parametrize(
    ("language", "text", "part"),
    [
        ("it", "pomeriggio", AFTERNOON),
        ("it", "di mattina", MORNING),
        ("en", "in the afternoon", AFTERNOON),
        ("fr", "après-midi", AFTERNOON),
        ("fr", "le matin", MORNING),
        ("ar", "بعد الظهر", AFTERNOON),
        ("ar", "صباحا", MORNING),
        ("sq", "pasdite", AFTERNOON),
        ("zh", "上午", MORNING),
        ("bn", "বিকাল", AFTERNOON),
    ],
)
def test_parts_of_the_day_from_the_locale_data(language: str, text: str, part: str) -> None:
    assert WhenReader(language).read(text, TODAY).part == part


def test_the_interface_labels_fill_what_the_locale_data_lacks() -> None:
    # Babel names no morning in Spanish; "mañana" alone is tomorrow there.
    plain = WhenReader("es").read("mañana por la mañana", TODAY)
    assert (plain.day, plain.part) == (TOMORROW, None)
    labelled = WhenReader("es", {MORNING: ["Por la mañana"]}).read("mañana por la mañana", TODAY)
    assert (labelled.day, labelled.part) == (TOMORROW, MORNING)


def test_several_weekdays_are_all_kept() -> None:
    assert WhenReader("it").read("lunedì e mercoledì", TODAY).weekdays == {0, 2}
    assert WhenReader("en").read("mon, wed or fri", TODAY).weekdays == {0, 2, 4}


@pytest.mark.parametrize(("language", "text"), [("it", "mar"), ("it", "ciao"), ("en", "I am")])
def test_what_names_nothing(language: str, text: str) -> None:
    # "mar" is martedì and marzo: neither is guessed. "am" is not the morning.
    assert not WhenReader(language).read(text, TODAY).anything


def test_digits_of_every_script() -> None:
    assert fold_digits("١٢ ۱۲ １２ ১২") == "12 12 12 12"


def test_morning_runs_to_one_o_clock() -> None:
    from datetime import time

    assert part_of(time(12, 30)) == MORNING and part_of(time(13, 0)) == AFTERNOON
