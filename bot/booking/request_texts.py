"""This module contains the words of appointment requests: the request as staff read it (staff
texts, in Italian), and the proposal and the refusal as the user reads them (in their
language)."""

from __future__ import annotations

from datetime import date, datetime

from bot.booking.checklists import to_bring
from bot.booking.workdays import WEEKDAY_KEYS
from bot.content.catalog import Catalog
from bot.content.markup import typed_name, typed_text
from bot.i18n import N_, STAFF_LANGUAGE, Translator, format_date, format_time
from bot.monitoring.tables import language_name
from bot.storage.records import Appointment, AppointmentRequest

REQUEST = "rq:"  # the user's choices (accept, another time, withdraw...)

#: Reasons staff may give with one tap; the user reads them in their language.
DECLINE_REASONS = {
    "full": N_("There are no free times in the coming weeks. Please send a new request later."),
    "phone": N_("It is better to talk about it on the phone: please call the counter."),
    "not_here": N_("This counter does not handle this matter: call it to know where to go."),
}


def decline_labels(t: Translator) -> dict[str, str]:
    """The reasons of ``DECLINE_REASONS`` as staff see them on the buttons."""
    return {
        "full": t.pgettext("staff", "No free times in the coming weeks"),
        "phone": t.pgettext("staff", "Better to talk about it on the phone"),
        "not_here": t.pgettext("staff", "Not a matter for this counter"),
    }


def staff_text(
    catalog: Catalog,
    t: Translator,
    request: AppointmentRequest,
    headline: str,
    appointment: Appointment | None = None,
) -> str:
    """A request as staff read it: what, where, when the user can come, in which language,
    who (``t`` is the staff's translator)."""
    service = catalog.services.get(request.service)
    office = catalog.office(request.office)
    name = catalog.localize(service.name, STAFF_LANGUAGE).text if service else request.service
    place = catalog.localize(office.name, STAFF_LANGUAGE).text if office else request.office
    person = appointment or request
    speaks = language_name(request.speaks) or request.speaks
    chat = language_name(request.language) or request.language
    return "\n".join(
        (
            f"{headline} {request.code}",
            f"{name} — {place}",
            t.pgettext("staff", "When they can come: {availability}").format(
                availability=availability(request, t)
            ),
            t.pgettext(
                "staff", "Language for the meeting: {speaks} (chat in {chat}, {channel})"
            ).format(speaks=speaks, chat=chat, channel=request.channel),
            f"{typed_name(person.name)}, {person.phone or '-'}",
        )
    )


def proposal(
    catalog: Catalog,
    t: Translator,
    language: str,
    request: AppointmentRequest,
    start: datetime,
    answers: str = "",
) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    """The proposal in the user's language, its choices, and its template's variables
    (``answers``: the user's checklist answers, as kept with the request)."""
    office = catalog.office(request.office)
    service = catalog.services.get(request.service)
    address = office.address if office else ""
    when = f"{format_date(start.date(), language, 'EEEE d MMMM')}, {format_time(start, language)}"
    name = catalog.localize(service.name, language).text if service else request.service
    lines = [
        t._("The counter proposes a time for your request {code} ({service}):").format(
            code=request.code, service=name
        ),
        f"**{when}**",
        address,
    ]
    if office is not None and not office.confirmed:  # the address is the content's, unchecked
        lines.append("ℹ️ " + t._("These details are not yet confirmed."))
    if service is not None:
        lines += [
            "",
            t._("Bring with you:"),
            to_bring(catalog, service, answers, language, t),
        ]
    lines += ["", t._("Can you come?")]
    choices = [
        (f"{REQUEST}accept:{request.code}", t._("Yes, I accept")),
        (f"{REQUEST}other:{request.code}", t._("I need another time")),
    ]
    variables = {"1": request.code, "2": when, "3": address, "4": name}
    return "\n".join(lines), choices, variables


def declined(
    catalog: Catalog,
    t: Translator,
    request: AppointmentRequest,
    reason: str | None,
    typed: str | None,
) -> tuple[str, str]:
    """The refusal in the user's language, and its reason alone (a template's variable)."""
    if request.rescheduling:
        first = t._("The counter cannot move your appointment {code}: it stays as it was.")
    else:
        first = t._("The counter cannot give you an appointment for your request {code}.")
    because = typed or (t._(DECLINE_REASONS[reason]) if reason in DECLINE_REASONS else "")
    shown = typed_text(typed) if typed else because  # staff's own words: shown as typed
    lines = [first.format(code=request.code), *([shown] if shown else [])]
    office = catalog.office(request.office)
    contacts = []
    if office is not None and office.phone:
        contacts.append(t._("Phone: {phone}").format(phone=office.phone))
    if office is not None and office.email:
        contacts.append(t._("E-mail: {email}").format(email=office.email))
    if contacts:
        lines.append("\n".join(contacts))
    return "\n\n".join(lines), because or "-"


def availability(request: AppointmentRequest, t: Translator) -> str:
    """When the user can come, for staff: "lunedì, mercoledì; di mattina"."""
    if request.asap:
        return t.pgettext("staff", "as soon as possible, any day and time")
    days = ", ".join(
        format_date(_a_monday_plus(WEEKDAY_KEYS.index(day)), STAFF_LANGUAGE, "EEEE")
        for day in request.days
        if day in WEEKDAY_KEYS
    )
    parts = {
        "morning": t.pgettext("staff", "in the morning"),
        "afternoon": t.pgettext("staff", "in the afternoon"),
        "any": t.pgettext("staff", "at any time"),
    }
    return "{days}; {part}".format(
        days=days or t.pgettext("staff", "any day"), part=parts.get(request.part, request.part)
    )


def _a_monday_plus(offset: int) -> date:
    """A date of that weekday, to name it with Babel (2024-01-01 was a Monday)."""
    return date(2024, 1, 1 + offset)
