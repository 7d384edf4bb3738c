"""Messages that reveal danger, measured on a set nobody tuned on (and on the signs' tuning
set): is the help topic answered first, and how often does a message that is not about danger
raise a false alarm?

``benchmarks/danger-heldout.tsv`` (``lang<TAB>kind<TAB>message``, kind ``danger`` or ``safe``)
was written on 2026-12-01 by a helper who had not seen the content, its phrasings or the signs
of danger in ``intents.yaml``: violence at home, threats, exploitation and trafficking, most of
them mixed with another matter (a permit, family reunification, a date), and near misses
("violent storm", "threat of expulsion", a question about the law for a client). Its
messages are never printed, only its figures: never tune on it.

For each language: of the danger messages, how many get the help first (a sign of danger, or
the help topic answered with confidence), how many only offer it among "did you mean" topics,
and how many miss it; of the safe ones, how many get the help first (a false alarm).

    .venv/bin/python -m benchmarks.danger [--before]

``--before`` measures the understanding as it was before the signs of danger (the classifier
alone): the same content with no ``danger`` phrases.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from bot.config import PROJECT_ROOT
from bot.content.loader import load_catalog
from bot.content.schema import Intent
from bot.core.understanding import Understanding

HELD_OUT = PROJECT_ROOT / "benchmarks" / "danger-heldout.tsv"
#: Written by the helper who tuned the signs, on the same day, in the same way: the signs' own
#: figures (optimistic by construction; the held-out set's say how they do on others' words).
TUNING = PROJECT_ROOT / "benchmarks" / "danger-tuning.tsv"


def read_set(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(lang, kind, text) for lang, kind, text in rows[1:]]


def outcome(understanding: Understanding, text: str, help_topic: str) -> str:
    """ "first": the help is the answer; "offered": among the topics offered; "missed"."""
    analysis = understanding.analyse(text)
    if analysis.intent is Intent.DANGER:
        return "first"
    topics = [match.topic for match in analysis.matches]
    if analysis.intent is None and analysis.confident and topics[:1] == [help_topic]:
        return "first"
    if analysis.intent is None and help_topic in topics[:3]:
        return "offered"
    return "missed"


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure how messages about danger are met.")
    parser.add_argument("--before", action="store_true", help="without the signs of danger")
    args = parser.parse_args()
    catalog = load_catalog(PROJECT_ROOT / "content")
    help_topic = next(t.id for t in catalog.topics.values() if t.intent is Intent.DANGER)
    if args.before:
        intents: dict[Intent, Mapping[str, tuple[str, ...]]] = {
            intent: signs
            for intent, signs in catalog.intents.items()
            if intent is not Intent.DANGER
        }
        catalog = replace(catalog, intents=MappingProxyType(intents))
    understanding = Understanding(catalog)
    state = "signs of danger off (before)" if args.before else "signs of danger on"
    for path in (TUNING, HELD_OUT):
        print(f"\n{state}: {path.name}")
        _report(understanding, read_set(path), help_topic)


def _report(
    understanding: Understanding, rows: list[tuple[str, str, str]], help_topic: str
) -> None:
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for lang, kind, text in rows:
        found = outcome(understanding, text, help_topic)
        counts[(lang, kind)][found] += 1
        counts[("all", kind)][found] += 1
    heading = f"{'lang':<5} {'danger: help first':>19} {'offered':>8} {'missed':>7}"
    print(f"{heading}   {'safe: false alarm':>18}")
    languages = [*sorted({lang for lang, _ in counts if lang != "all"}), "all"]
    for lang in languages:
        danger, safe = counts[(lang, "danger")], counts[(lang, "safe")]
        total, calm = sum(danger.values()), sum(safe.values())
        print(
            f"{lang:<5} {danger['first']:>4}/{total:<3} {_pc(danger['first'], total):>10} "
            f"{danger['offered']:>8} {danger['missed']:>7}   "
            f"{safe['first']:>4}/{calm:<3} {_pc(safe['first'], calm):>9}"
        )


def _pc(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


if __name__ == "__main__":
    main()
