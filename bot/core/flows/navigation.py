"""This module contains navigation: the language question, menus, topics, help and commands
(see ``dialogue.mmd`` in ``bot/core``).

A user without a language is asked for one (unless the platform's hint or the text itself
says which); then they browse menus and topics, type numbers or labels of the choices last
offered, navigation words ("menu", "indietro", "langue"), or questions in free text, which
``questions.py`` answers. Between the other flows, a conversation rests here.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.content import identity
from bot.content.schema import Intent, Language, Menu, Office, Topic
from bot.content.text import normalise
from bot.core.counting import count_topic
from bot.core.flows.questions import SHARE, QuestionBox, Questions
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.i18n import checked_on

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class NavigationState(StrEnum):
    """Where a conversation rests between flows."""

    LANGUAGE = "language"  # the language question is open: a language name answers it
    BROWSE = "browse"  # at the menus and topics; free text is a question


GO, LANG, NAV = "go:", "lang:", "nav:"
BACK, HOME, LANGUAGE_MENU = "nav:back", "nav:home", "nav:language"

# Sources under an answer, official pages first: a phone screen of links would bury the answer.
# The content keeps every source; `content check` and the editors see them all.
SOURCES_SHOWN = 3

_NUMBER_BEFORE = " *_([#"
_NUMBER_AFTER = " *_.):]#\ufe0f\u20e3"  # "2.", "*2.*", "2)", the keycap in "2️⃣"


def as_number(text: str) -> int | None:
    """The choice number in "2", "2.", "*2.*", "(2)", "2️⃣", "٢", "２" or "②"; else None."""
    folded = unicodedata.normalize("NFKC", text).lstrip(_NUMBER_BEFORE).rstrip(_NUMBER_AFTER)
    if not folded or len(folded) > 4 or not all(unicodedata.digit(c, -1) >= 0 for c in folded):
        return None
    return int("".join(str(unicodedata.digit(c)) for c in folded))


class Navigation:
    """Menus, topics, the language, help and commands; free text through ``questions``."""

    states = NavigationState
    choices = (GO, LANG, NAV, SHARE)

    def __init__(self, questions: QuestionBox | None) -> None:
        self.questions = Questions(questions)

    # -- the flow --------------------------------------------------------------------------

    async def start(self, turn: Turn) -> Reply:
        return self.home(turn, self.welcome(turn))

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        if choice_id.startswith(LANG) and turn.catalog.language(choice_id.removeprefix(LANG)):
            turn.set_language(choice_id.removeprefix(LANG))
            return self.home(turn, self.welcome(turn))
        if choice_id == HOME:
            return self.home(turn)
        if choice_id == BACK:
            return self.back(turn)
        if choice_id == LANGUAGE_MENU:
            return self.language_menu(turn)
        if choice_id == SHARE:
            return await self.questions.share(turn)
        node = choice_id.removeprefix(GO)
        if choice_id.startswith(GO) and turn.catalog.node(node):
            await count_topic(turn.monitor, turn.catalog, turn.session, turn.code, node)
            topic = turn.catalog.topics.get(node)
            if topic is not None and topic.intent is Intent.DEADLINES:
                return await turn.flows.deadlines.start(turn)  # "My dates": the dialogue itself
            return self.open(turn, node)
        return None

    async def step(self, turn: Turn, state: NavigationState, typed: Typed) -> Reply | None:
        """Browsing waits for no answer in particular: a question goes to ``questions``."""
        return None

    # -- the language ----------------------------------------------------------------------

    def settle_language(self, turn: Turn, incoming: Incoming, text: str) -> Reply | None:
        """The language question, while it is open; None when the message can go on."""
        session = turn.session
        if session.language is None:
            return self._first_language(turn, incoming, text)
        if session.state == NavigationState.LANGUAGE and incoming.kind is Kind.TEXT and text:
            chosen = self._language_from_text(turn, text)
            if chosen is not None:
                turn.set_language(chosen)
                return self.home(turn, self.welcome(turn))
        return None

    def _first_language(self, turn: Turn, incoming: Incoming, text: str) -> Reply | None:
        """Find the new user's language; returns the language question if it is still open."""
        if incoming.kind is Kind.CHOICE and (incoming.choice_id or "").startswith(LANG):
            return None  # handled as a choice
        if turn.session.state == NavigationState.LANGUAGE and incoming.kind is Kind.TEXT:
            chosen = self._language_from_text(turn, text)
            if chosen is not None:
                turn.set_language(chosen)
                return self.home(turn, self.welcome(turn))
        hint = (incoming.language_hint or "").split("-")[0].lower()
        if turn.catalog.language(hint):
            turn.set_language(hint)
            return None
        if incoming.kind is Kind.TEXT and text:
            understanding = turn.understanding()
            detected = understanding.detect_language(text)
            intent = understanding.detect_intent(text)
            if intent is not None and intent[0] is not Intent.LANGUAGE:
                detected = detected or intent[1]
            if detected is not None:
                turn.set_language(detected)
                return None
        return self.language_menu(turn, suggested=incoming.language_guess)

    def _language_from_text(self, turn: Turn, text: str) -> str | None:
        """A language typed as its number in the list, code, native or English name."""
        key = normalise(text)
        number = as_number(text)
        if number is not None:
            choice = offered_by_number(turn, number)
            if choice is not None and choice.id.startswith(LANG):
                return choice.id.removeprefix(LANG)
        for language in turn.catalog.enabled_languages:
            names = {language.code, normalise(language.name), normalise(language.english)}
            if key in names:
                return language.code
        return None

    def choosing_language(self, turn: Turn) -> bool:
        return turn.session.state == NavigationState.LANGUAGE

    def language_choice(self, language: Language, mark: str = "") -> Choice:
        return Choice(LANG + language.code, mark + language.name)

    def language_menu(self, turn: Turn, suggested: str | None = None) -> Reply:
        """The language question; a likely language (from a phone's country) comes first."""
        turn.session.state = NavigationState.LANGUAGE
        languages = list(turn.catalog.enabled_languages)
        first = turn.catalog.language(suggested)
        if first is not None:
            languages.remove(first)
            languages.insert(0, first)
        lines = [
            turn.interface.translator(language.code)._("Choose your language")
            for language in languages
        ]
        choices = [self.language_choice(language) for language in languages]
        turn.session.offered = choices
        return Reply(
            text="\n".join(dict.fromkeys(lines)),
            choices=tuple(choices),
            language=first.code if first is not None else turn.code,
            rtl=False,  # a list in many scripts: each line keeps its own direction
        )

    # -- commands, help ----------------------------------------------------------------------

    def command(self, turn: Turn, name: str) -> Reply:
        if name == "start":
            return self.home(turn, self.welcome(turn))
        if name in ("menu", "home"):
            return self.home(turn)
        if name in ("language", "lingua", "lang"):
            return self.language_menu(turn)
        if name == "back":
            return self.back(turn)
        return self.help(turn)

    def help(self, turn: Turn) -> Reply:
        words = {
            intent: self._first_phrase(turn, intent, fallback)
            for intent, fallback in (
                (Intent.MENU, "menu"),
                (Intent.BACK, "back"),
                (Intent.LANGUAGE, "language"),
            )
        }
        text = turn.t._(
            "How to use this chat:\n- choose an option by its number or its name;\n- or write "
            "your question in your own words;\n- write “{menu}” for the main menu, “{back}” to go "
            "back, “{language}” to change language."
        ).format(menu=words[Intent.MENU], back=words[Intent.BACK], language=words[Intent.LANGUAGE])
        return turn.again(text)

    def _first_phrase(self, turn: Turn, intent: Intent, fallback: str) -> str:
        phrases = turn.catalog.phrases(intent)
        for code in turn.catalog.chain(turn.code):
            if phrases.get(code):
                return phrases[code][0]
        return fallback

    def number_hint(self, turn: Turn) -> str:
        count = len(turn.session.offered)
        if count == 0:
            return turn.t._("Please write your question, or “menu” for the main menu.")
        return turn.t._("Please choose a number from 1 to {count}.").format(count=count)

    # -- menus and topics --------------------------------------------------------------------

    def welcome(self, turn: Turn) -> str:
        """The counter's own welcome (``desk.yaml``) in the user's language."""
        return identity.welcome(turn.catalog, turn.t)

    def home(self, turn: Turn, before: str | None = None) -> Reply:
        session = turn.session
        session.history.clear()
        session.draft.clear()
        session.node = turn.catalog.root
        session.state = NavigationState.BROWSE
        return self._render(turn, turn.catalog.root, before)

    def open(self, turn: Turn, node_id: str, also: tuple[str, ...] = ()) -> Reply:
        """The menu or topic ``node_id``; a topic offers the nodes ``also`` after its own
        buttons."""
        session = turn.session
        if session.node and session.node != node_id:
            session.history.append(session.node)
            del session.history[:-20]
        session.node = node_id
        session.state = NavigationState.BROWSE
        return self._render(turn, node_id, also=also)

    def back(self, turn: Turn) -> Reply:
        session = turn.session
        session.state = NavigationState.BROWSE
        session.draft.clear()
        while session.history:
            previous = session.history.pop()
            if turn.catalog.node(previous) is not None:
                session.node = previous
                return self._render(turn, previous)
        return self.home(turn)

    def _render(
        self, turn: Turn, node_id: str, before: str | None = None, also: tuple[str, ...] = ()
    ) -> Reply:
        catalog = turn.catalog
        node = catalog.node(node_id)
        if isinstance(node, Topic):
            return self._topic(turn, node, also)
        menu = node if isinstance(node, Menu) else catalog.menus[catalog.root]
        parts = [before] if before else []
        parts.append(f"**{catalog.localize(menu.title, turn.code).text}**")
        if menu.text is not None:
            parts.append(catalog.localize(menu.text, turn.code).text)
        choices = self.menu_choices(turn, menu)
        if menu.id == catalog.root:
            choices.append(turn.flows.handover.choice(turn))
            if not self._leads_to_dates(turn, menu):  # the dates' screen offers it there
                choices += turn.flows.reminders.buttons(turn)
            choices.append(Choice(LANGUAGE_MENU, "🌐 " + turn.t._("Language")))
        else:
            choices += [Choice(BACK, turn.t._("Back")), self.home_choice(turn)]
        return turn.reply("\n\n".join(parts), choices)

    def _leads_to_dates(self, turn: Turn, menu: Menu) -> bool:
        """Whether the menu has the deadlines' entry ("My dates and reminders")."""
        topics = (turn.catalog.topics.get(item) for item in menu.items)
        return any(topic is not None and topic.intent is Intent.DEADLINES for topic in topics)

    def menu_choices(self, turn: Turn, menu: Menu) -> list[Choice]:
        return [self.node_choice(turn, item) for item in menu.items]

    def node_choice(self, turn: Turn, node_id: str) -> Choice:
        """The button that opens a menu or a topic."""
        return Choice(GO + node_id, turn.catalog.title(node_id, turn.code))

    def root_choices(self, turn: Turn) -> list[Choice]:
        """The main menu's topics and menus (without its other buttons)."""
        return self.menu_choices(turn, turn.catalog.menus[turn.catalog.root])

    @staticmethod
    def before_back(choices: tuple[Choice, ...], added: Choice) -> list[Choice]:
        """``choices`` with ``added`` before their Back and Main menu buttons."""
        ends = [index for index, choice in enumerate(choices) if choice.id in (BACK, HOME)]
        at = ends[0] if ends else len(choices)
        return [*choices[:at], added, *choices[at:]]

    def home_choice(self, turn: Turn) -> Choice:
        return Choice(HOME, turn.t._("Main menu"))

    def _topic(self, turn: Turn, topic: Topic, also: tuple[str, ...] = ()) -> Reply:
        catalog, code, t = turn.catalog, turn.code, turn.t
        title = catalog.localize(topic.title, code).text
        answer = catalog.localize(topic.answer, code)
        parts = [f"**{title}**", answer.text]
        if topic.links:
            lines = [
                f"- {catalog.localize(link.label, code).text}: {link.url}" for link in topic.links
            ]
            parts.append(t._("Useful links:") + "\n" + "\n".join(lines))
        shown = sorted(topic.sources, key=lambda source: source.secondary)[:SOURCES_SHOWN]
        sources = "\n".join(f"- {source.title}: {source.url}" for source in shown)
        checked = checked_on(topic.reviewed, code, t)
        # Not inside an f-string: Babel's extractor would not see the message there.
        sources_title = t._("Official sources:")
        parts.append(f"{sources_title}\n{sources}\n{checked}")
        if answer.fallback:
            language = catalog.language(answer.language)
            name = language.name if language else answer.language
            parts.append(
                "ℹ️ "
                + t._(
                    "This answer is not yet available in your language: here it is in {language}."
                ).format(language=name)
            )
        elif topic.is_draft(answer.language):
            parts.append(
                "ℹ️ " + t._("This translation has not yet been checked by the counter's staff.")
            )
        choices = [self.node_choice(turn, child) for child in topic.children]
        for action in topic.actions:
            if action.kind == "book" and action.service:
                choices.append(turn.flows.booking.choice(turn, action.service))
            elif action.kind == "human":
                choices.append(turn.flows.handover.choice(turn))
            elif action.kind == "checklist":
                choices.extend(turn.flows.checklist.buttons(turn, action.service))
        choices.extend(turn.flows.deadlines.buttons(turn, topic))
        choices += [self.node_choice(turn, node) for node in also if catalog.node(node)]
        choices += [Choice(BACK, t._("Back")), self.home_choice(turn)]
        return turn.reply("\n\n".join(parts), choices)

    # -- the counter's contacts ----------------------------------------------------------------

    def contacts(self, turn: Turn, intro: str) -> Reply:
        blocks = [intro]
        blocks.extend(self._office(turn, office) for office in turn.catalog.offices)
        choices = [Choice(BACK, turn.t._("Back")), self.home_choice(turn)]
        if turn.session.node in (None, turn.catalog.root):
            choices = [self.home_choice(turn)]
        return turn.reply("\n\n".join(blocks), choices)

    def _office(self, turn: Turn, office: Office) -> str:
        catalog, t = turn.catalog, turn.t
        lines = [f"**{catalog.localize(office.name, turn.code).text}**", office.address]
        if office.phone:
            lines.append(t._("Phone: {phone}").format(phone=office.phone))
        if office.email:
            lines.append(t._("E-mail: {email}").format(email=office.email))
        if office.hours is not None:
            lines.append(catalog.localize(office.hours, turn.code).text)
        if not office.confirmed:
            lines.append("ℹ️ " + t._("These details are not yet confirmed."))
        return "\n".join(lines)


def offered_by_number(turn: Turn, number: int) -> Choice | None:
    """The choice last offered under this number (counting from 1), if any."""
    if 1 <= number <= len(turn.session.offered):
        return turn.session.offered[number - 1]
    return None
