"""This module contains the checklist dialogue (see ``checklist.mmd`` beside this file): a
few questions about the user's case, then the documents they need to bring, in their language
with the Italian names beside.

On its own (a topic's "documents to bring" button, or "what documents do I need" in free
text): service -> the questions, one at a time, each skippable -> the list, with its sources.
Before an appointment or a request, the booking dialogue asks the same questions once the
service is chosen, then goes on; the answers (ids only) go with the booking, for its
confirmation and its reminder. Answers are buttons, or typed: the label, a word of it, or
its number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from bot.booking.checklists import checklist_text
from bot.content.checklist import Checklist, Question, decode_answers, encode_answers
from bot.content.schema import Service
from bot.content.text import normalise, tokens
from bot.core.messages import Choice, Reply
from bot.i18n import checked_on

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class ChecklistState(StrEnum):
    """Where the checklist waits for a typed answer (its buttons answer too)."""

    ASK = "cl:ask"  # a question is offered: an answer may be typed


CHECKLIST = "cl:"
#: The draft's keys (the booking dialogue keeps its own beside them).
SERVICE, THEN, ANSWERS = "cl_service", "cl_then", "checklist"
SKIPPED, DONE, ASKED = "cl_skipped", "cl_done", "cl_asked"
BOOKING = "book"  # the booking dialogue goes on once the questions are answered


class ChecklistFlow:
    """The documents to bring, made personal by a few questions."""

    states = ChecklistState
    choices = (CHECKLIST,)

    # -- what other flows use ---------------------------------------------------------------

    def services(self, turn: Turn) -> list[Service]:
        """The services whose documents the content asks questions about, in the order the
        offices list them (the catalog's)."""
        services = turn.catalog.services.values()
        return [service for service in services if service.checklist is not None]

    def buttons(self, turn: Turn, service: str | None = None) -> list[Choice]:
        """A topic's buttons to a checklist: "documents to bring" for its service, or one
        button per service that has a checklist (named after the service)."""
        content = turn.catalog.services.get(service or "")
        if content is not None and content.checklist is not None:
            return [Choice(f"{CHECKLIST}svc:{content.id}", turn.t._("Documents to bring"))]
        return self._service_choices(turn)

    def _service_choices(self, turn: Turn) -> list[Choice]:
        return [
            Choice(
                f"{CHECKLIST}svc:{service.id}",
                turn.catalog.localize(service.name, turn.code).text,
            )
            for service in self.services(turn)
        ]

    async def before_booking(self, turn: Turn, service: Service) -> Reply | None:
        """The questions, before an appointment for ``service``; None when there are none to
        ask (no checklist, or already answered in this booking)."""
        draft = turn.session.draft
        if service.checklist is None or (draft.get(DONE) and draft.get(SERVICE) == service.id):
            return None
        draft.update({SERVICE: service.id, THEN: BOOKING, ANSWERS: "", SKIPPED: ""})
        draft.pop(DONE, None)
        return self._next(turn, service, service.checklist)

    # -- the flow ---------------------------------------------------------------------------

    async def start(self, turn: Turn) -> Reply:
        """On its own: which appointment the documents are for (the only one, straight)."""
        services = self.services(turn)
        if not services:
            return turn.flows.navigation.open(turn, turn.catalog.root)
        if len(services) == 1:
            return self._begin(turn, services[0])
        return turn.reply(
            turn.t._("I can make you a list of the documents to bring. What is it for?"),
            [*self._service_choices(turn), turn.home_choice()],
        )

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        step, _, value = choice_id.removeprefix(CHECKLIST).partition(":")
        if step == "start":
            return await self.start(turn)
        if step == "svc":
            service = turn.catalog.services.get(value)
            if service is None or service.checklist is None:
                return None
            return self._begin(turn, service)
        if step == "book":
            return await self._book(turn, value)
        current = self._current(turn)
        if current is None:
            return turn.home(turn.t._("That option is no longer available. Here is the main menu."))
        service, checklist = current
        question_id, _, answer_id = value.partition(":")
        question = checklist.question(question_id)
        if question is None:
            return self._next(turn, service, checklist)
        if step == "a" and question.answer(answer_id) is not None:
            return await self._answered(turn, service, checklist, question, answer_id)
        if step == "skip":
            return await self._skipped(turn, service, checklist, question)
        return self._next(turn, service, checklist)

    async def step(self, turn: Turn, state: ChecklistState, typed: Typed) -> Reply | None:
        """A typed answer to the question offered: its label or a word only it has."""
        current = self._current(turn)
        if current is None or typed.number is not None or typed.intent is not None:
            return None  # a way out ("menu"), another request, or a number no choice has
        service, checklist = current
        question = checklist.question(turn.session.draft.get(ASKED, ""))
        if question is None:
            return None
        answer = _answer_typed(turn, question, typed.text)
        if answer is None:
            return self._next(
                turn,
                service,
                checklist,
                turn.t._("Sorry, I did not understand. Please choose an answer, or skip."),
            )
        return await self._answered(turn, service, checklist, question, answer)

    # -- steps -----------------------------------------------------------------------------

    def _begin(self, turn: Turn, service: Service) -> Reply:
        assert service.checklist is not None
        draft = turn.session.draft
        draft.clear()
        draft.update({SERVICE: service.id, THEN: "", ANSWERS: "", SKIPPED: ""})
        return self._next(turn, service, service.checklist)

    def _current(self, turn: Turn) -> tuple[Service, Checklist] | None:
        """The service whose questions are being asked, if any (the content may have
        dropped its checklist since)."""
        draft = turn.session.draft
        service = turn.catalog.services.get(draft.get(SERVICE, ""))
        if service is None or service.checklist is None or DONE in draft or ANSWERS not in draft:
            return None
        return service, service.checklist

    async def _answered(
        self, turn: Turn, service: Service, checklist: Checklist, question: Question, answer: str
    ) -> Reply:
        draft = turn.session.draft
        answers = decode_answers(draft.get(ANSWERS))
        answers[question.id] = answer
        draft[ANSWERS] = encode_answers(answers)
        return await self._after(turn, service, checklist)

    async def _skipped(
        self, turn: Turn, service: Service, checklist: Checklist, question: Question
    ) -> Reply:
        draft = turn.session.draft
        skipped = set(filter(None, draft.get(SKIPPED, "").split(",")))
        draft[SKIPPED] = ",".join(sorted(skipped | {question.id}))
        return await self._after(turn, service, checklist)

    async def _after(self, turn: Turn, service: Service, checklist: Checklist) -> Reply:
        """The next question, or, when none is left, the list (or the booking goes on)."""
        if _waiting(turn, checklist):
            return self._next(turn, service, checklist)
        draft = turn.session.draft
        draft[ANSWERS] = encode_answers(checklist.known(decode_answers(draft.get(ANSWERS))))
        draft[DONE] = "1"
        draft.pop(ASKED, None)
        turn.browse()
        if draft.get(THEN) == BOOKING:
            return await turn.flows.booking.after_checklist(turn)
        return self._show(turn, service, checklist)

    def _next(
        self, turn: Turn, service: Service, checklist: Checklist, before: str | None = None
    ) -> Reply:
        """The first question not yet answered or skipped, with its answers as buttons."""
        waiting = _waiting(turn, checklist)
        if not waiting:
            return turn.home()
        question = waiting[0]
        t, code = turn.t, turn.code
        draft = turn.session.draft
        draft[ASKED] = question.id
        turn.session.state = ChecklistState.ASK
        number = checklist.questions.index(question) + 1
        lines = [before] if before else []
        if number == 1 and not before:
            title = t._("Documents to bring: {service}").format(
                service=turn.catalog.localize(service.name, code).text
            )
            lines.append(f"**{title}**")
            lines.append(t._("A few questions to make your list. You can skip any of them."))
        lines.append(
            f"({number}/{len(checklist.questions)}) "
            + turn.catalog.localize(question.text, code).text
        )
        choices = [
            Choice(
                f"{CHECKLIST}a:{question.id}:{answer.id}",
                turn.catalog.localize(answer.text, code).text,
            )
            for answer in question.answers
        ]
        choices += [Choice(f"{CHECKLIST}skip:{question.id}", t._("Skip")), turn.home_choice()]
        return turn.reply("\n\n".join(lines), choices)

    def _show(self, turn: Turn, service: Service, checklist: Checklist) -> Reply:
        """The list on its own, with its sources and date, and the way to book."""
        t, code, catalog = turn.t, turn.code, turn.catalog
        answers = decode_answers(turn.session.draft.get(ANSWERS))
        title = t._("Documents to bring: {service}").format(
            service=catalog.localize(service.name, code).text
        )
        sources = "\n".join(f"- {source.title}: {source.url}" for source in checklist.sources)
        # Outside the f-string: Babel's extractor must see these messages.
        sources_title = t._("Official sources:")
        checked = checked_on(checklist.reviewed, code, t)
        parts = [
            f"**{title}**",
            checklist_text(catalog, checklist, answers, code, t),
            f"{sources_title}\n{sources}\n{checked}",
        ]
        choices = []
        if turn.flows.booking.available(turn, service.id):
            choices.append(Choice(f"{CHECKLIST}book:{service.id}", t._("Book an appointment")))
        choices.append(turn.home_choice())
        return turn.reply("\n\n".join(parts), choices)

    async def _book(self, turn: Turn, service_id: str) -> Reply:
        """Book after the list: the answers just given go with the booking."""
        draft = turn.session.draft
        if draft.get(SERVICE) == service_id and draft.get(DONE):
            draft[THEN] = BOOKING
            return await turn.flows.booking.after_checklist(turn)
        return await turn.flows.booking.start(turn, service_id)


def _waiting(turn: Turn, checklist: Checklist) -> list[Question]:
    """The questions neither answered nor skipped, in order."""
    draft = turn.session.draft
    answered = decode_answers(draft.get(ANSWERS))
    skipped = set(draft.get(SKIPPED, "").split(","))
    return [
        question
        for question in checklist.questions
        if question.answer(answered.get(question.id)) is None and question.id not in skipped
    ]


def _answer_typed(turn: Turn, question: Question, text: str) -> str | None:
    """The answer a typed text names: its label in the user's language or in Italian, or a
    word of the text that only one answer's label has ("lavoro" for "Lavoro dipendente")."""
    key = normalise(text)
    if not key:
        return None
    labels = {
        answer.id: {
            normalise(turn.catalog.localize(answer.text, code).text) for code in (turn.code, "it")
        }
        for answer in question.answers
    }
    for answer_id, names in labels.items():
        if key in names or key == answer_id:
            return answer_id
    words = set(tokens(text))
    having = [
        answer_id
        for answer_id, names in labels.items()
        if words & {word for name in names for word in tokens(name) if len(word) > 2}
    ]
    return having[0] if len(having) == 1 else None
