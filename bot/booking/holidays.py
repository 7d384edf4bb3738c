"""This module contains the days the counters are closed by law: Italian national holidays.

Local patron days and other closures are configured per office, as dates and ranges.
"""

from __future__ import annotations

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher")."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


# Fixed national holidays (law 260/1949 and later changes), as (month, day).
FIXED_HOLIDAYS = (
    (1, 1),  # Capodanno
    (1, 6),  # Epifania
    (4, 25),  # Festa della Liberazione
    (5, 1),  # Festa del Lavoro
    (6, 2),  # Festa della Repubblica
    (8, 15),  # Ferragosto
    (11, 1),  # Ognissanti
    (12, 8),  # Immacolata Concezione
    (12, 25),  # Natale
    (12, 26),  # Santo Stefano
)


def national_holidays(year: int) -> set[date]:
    holidays = {date(year, month, day) for month, day in FIXED_HOLIDAYS}
    easter = easter_sunday(year)
    holidays.update({easter, easter + timedelta(days=1)})  # Pasqua and Pasquetta
    return holidays
