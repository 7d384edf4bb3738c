"""The deadline assistant measured on labelled sets: how well dates are read, and whether free
text reaches the right dialogue.

- ``--dates FILE ...``: items ``{lang, text, expected, precision}``; ``expected`` is the day the
  text names (missing: it names none), ``precision`` "day" unless told.
- ``--intents FILE``: items ``{lang, text, label}``; a label is a deadline kind
  (``permit_renewal_deadline``, ``family_arrival_deadline``, ``nulla_osta_wait``, ``a2_retry``,
  ``anagrafe_update``), ``checklist``, ``my_reminders`` or ``other`` (any answer but these
  dialogues). ``--show-misses`` prints the messages that went elsewhere.

Each message is sent, after /start in its language, to an engine with the content as it is,
on the day the sets were written for.

With no file named, it measures the sets in ``benchmarks/deadline-sets/``, written by people who
had seen neither the code nor the content: ``*-tuning.yaml`` were written first, measured, then
tuned on (their misses may be shown); ``*-heldout.yaml`` were written afterwards and are never
tuned on: ``--show-misses`` is refused for them, so that their figures keep saying how the bot
does on messages nobody wrote for it.

    .venv/bin/python -m benchmarks.deadlines [--intents FILE] [--dates FILE ...] [--show-misses]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.content.loader import load_catalog
from bot.core.engine import Engine
from bot.core.messages import Incoming, Kind, Reply
from bot.core.sessions import MemoryStateStore
from bot.deadlines.dates import parse_date
from bot.i18n import Interface

TODAY = date(2026, 11, 30)  # the day the sets were written for
SETS = PROJECT_ROOT / "benchmarks" / "deadline-sets"
#: The sets' labels of deadline kinds, by the rule ids of content/deadlines.yaml.
KINDS = {
    "permit_renewal": "permit_renewal_deadline",
    "family_arrival": "family_arrival_deadline",
    "nulla_osta_wait": "nulla_osta_wait",
    "a2_retry": "a2_retry",
    "anagrafe_update": "anagrafe_update",
}
ASKED_WHICH = "deadlines (which one asked)"
DIALOGUES = frozenset({*KINDS.values(), "checklist", "my_reminders", ASKED_WHICH})
WATCHED_FLOWS = ("deadlines", "reminders", "checklist")


def _items(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return items


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def dates(path: Path) -> None:
    """How many texts' dates are read right (and how many dateless texts are left dateless)."""
    right, total = Counter[str](), Counter[str]()
    for item in _items(path):
        language = item["lang"]
        total[language] += 1
        found = parse_date(item["text"], language, TODAY)
        expected = item.get("expected")
        if expected is None:
            right[language] += found is None
        else:
            precision = item.get("precision", "day")
            right[language] += (
                found is not None and found.day == expected and found.precision == precision
            )
    read, count = sum(right.values()), sum(total.values())
    print(f"dates, {path.name}: {read}/{count} read right ({_percent(read, count)})")
    print("  " + "  ".join(f"{code} {right[code]}/{total[code]}" for code in total))


def _engine() -> tuple[Engine, MemoryStateStore, list[str]]:
    """An engine on the content, and the list its watched flows write their names in when
    they start (a flow may start without leaving a trace in the session)."""
    catalog = load_catalog(Path(os.environ.get("SPORTELLO_CONTENT", PROJECT_ROOT / "content")))
    interface = Interface(
        PROJECT_ROOT / "locales",
        {lang.code: catalog.chain(lang.code) for lang in catalog.languages},
    )
    store = MemoryStateStore()
    engine = Engine(lambda: catalog, store, interface, today=lambda: TODAY)
    started: list[str] = []
    for name in WATCHED_FLOWS:
        flow = getattr(engine._flows, name)
        flow.start = _watched(flow.start, name, started)
    return engine, store, started


def _watched(
    start: Callable[..., Awaitable[Reply]], name: str, started: list[str]
) -> Callable[..., Awaitable[Reply]]:
    async def watched(*args: Any) -> Reply:
        started.append(name)
        return await start(*args)

    return watched


def _reached(session: dict[str, Any], replies: list[Reply], started: list[str]) -> str:
    """The dialogue a message reached, or the node it left the user on (and what it offers)."""
    draft, state = session.get("draft", {}), session.get("state", "")
    ids = [choice.id for reply in replies for choice in reply.choices]
    kind = str(draft.get("deadline", ""))
    if kind:
        return KINDS.get(kind, kind)
    if any(i.startswith("dl:k:") for i in ids) and "deadlines" in started:
        return ASKED_WHICH
    if state == "cl:ask" or "cl_service" in draft or "checklist" in started:
        return "checklist"
    if "reminders" in started or any(i.startswith("rem:") and i != "rem:mine" for i in ids):
        return "my_reminders"
    if "deadlines" in started:
        return ASKED_WHICH
    return _offering(session, ids)


def _offering(session: dict[str, Any], ids: list[str]) -> str:
    node = session.get("node") or "?"
    offered = sorted({i.split(":")[0] for i in ids} & {"dl", "cl", "rem"})
    return f"{node} (offers {'/'.join(offered)})" if offered else node


async def intents(path: Path, show_misses: bool) -> None:
    """How many messages reach the dialogue they are labelled with, per label."""
    engine, store, started = _engine()
    right, total = Counter[str](), Counter[str]()
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[str] = []
    for number, item in enumerate(_items(path)):
        user = f"u{number}"
        await engine.handle(Incoming("test", user, Kind.COMMAND, "start", None, item["lang"]))
        started.clear()
        replies = await engine.handle(Incoming("test", user, Kind.TEXT, item["text"]))
        stored = await store.get("test", user)
        got = _reached(json.loads(stored) if stored else {}, replies, started)
        label = item["label"]
        total[label] += 1
        hit = got == label or (label == "other" and got not in DIALOGUES)
        right[label] += hit
        confusion[label][got] += 1
        if not hit:
            misses.append(f"  [{item['lang']}] {label} -> {got}: {item['text']}")
    reached, count = sum(right.values()), sum(total.values())
    print(
        f"free text, {path.name}: {reached}/{count} reach the right dialogue "
        f"({_percent(reached, count)})"
    )
    for label in total:
        wrong = ", ".join(f"{k} {n}" for k, n in confusion[label].most_common() if k != label)
        print(f"  {label:26} {right[label]:3}/{total[label]:<3} {wrong}")
    if show_misses:
        print("misses:", *misses, sep="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dates", type=Path, nargs="*", default=[])
    parser.add_argument("--intents", type=Path)
    parser.add_argument("--show-misses", action="store_true")
    arguments = parser.parse_args()
    named = bool(arguments.dates or arguments.intents)
    date_sets = (
        arguments.dates if named else [SETS / "dates-tuning.yaml", SETS / "dates-heldout.yaml"]
    )
    intent_sets = (
        ([arguments.intents] if arguments.intents else [])
        if named
        else [SETS / "intents-tuning.yaml", SETS / "intents-heldout.yaml"]
    )
    if arguments.show_misses and any("heldout" in path.name for path in intent_sets):
        parser.error("the held-out set's misses are never shown: never tune on it")
    for path in date_sets:
        dates(path)
    for path in intent_sets:
        asyncio.run(intents(path, arguments.show_misses))


if __name__ == "__main__":
    main()
