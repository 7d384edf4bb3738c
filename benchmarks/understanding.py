"""Free-text understanding, measured on two sets kept apart: accuracy per language, time per query.

Labelled questions are ``lang<TAB>label<TAB>question``; a label is an area, ``booking``,
``human`` or ``out_of_scope``.

- The **tuning set**: ``shared/eval/questions-dev.tsv`` (when present) and
  ``benchmarks/questions-extra.tsv``. Content and thresholds are tuned on it; ``--show-misses``
  prints its wrong answers.
- The **held-out set**: ``benchmarks/questions-heldout.tsv``, written before the tuning by
  someone who had not seen the content. Never tune on it: its misses are never printed, only
  its figures, so that they say how the bot does on questions nobody wrote for it.

For each set, per language and overall: top-1 accuracy and top-3 recall on in-scope
questions, out-of-scope rejection, median and p99 time per query; then the gap between the
sets, and the time per query with content ``--scale`` times bigger (10 unless told).

``--stopgap TOPIC ...`` measures instead the stop-gap model a server answers with right after
an edit: a model trained on the content without these topics' questions (the content before
the edit), then the stop-gap worked out from it for the content as it is (the questions added).

    .venv/bin/python -m benchmarks.understanding [--show-misses] [--tuning FILE ...] [--scale N]
        [--stopgap TOPIC ...]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.content.classifier import work_out_stopgap
from bot.content.loader import load_catalog
from bot.content.schema import Intent, Localized
from bot.core.understanding import Understanding, training_examples

TUNING_FILES = (
    PROJECT_ROOT.parent / "shared" / "eval" / "questions-dev.tsv",
    PROJECT_ROOT / "benchmarks" / "questions-extra.tsv",
)
HELD_OUT_FILE = PROJECT_ROOT / "benchmarks" / "questions-heldout.tsv"
ACTION_INTENTS = {
    Intent.BOOKING: "booking",
    Intent.CANCEL: "cancel",
    Intent.MY_APPOINTMENTS: "my_appointments",
    Intent.HUMAN: "human",
}


@dataclass
class Tally:
    in_scope: int = 0
    top1: int = 0
    top3: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.in_scope += other.in_scope
        self.top1 += other.top1
        self.top3 += other.top3
        self.out_of_scope += other.out_of_scope
        self.rejected += other.rejected
        self.seconds += other.seconds


def read_questions(paths: list[Path]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for path in paths:
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t")
            next(reader, None)
            rows.extend((lang, label, question) for lang, label, question in reader)
    return rows


# Alphabets whose letters a copy of the content swaps among themselves (all assigned code points).
ALPHABETS = (
    "abcdefghijklmnopqrstuvwxyz",
    "".join(map(chr, range(0x0621, 0x063B))) + "".join(map(chr, range(0x0641, 0x064B))),  # Arabic
    "".join(map(chr, range(0x0430, 0x0450))),  # Cyrillic
    "".join(map(chr, range(0x0995, 0x09A9))),  # Bengali consonants
)
CJK_FIRST, CJK_SIZE = 0x4E00, 0x5200  # unified ideographs


def disguise(copy: int) -> dict[int, int]:
    """A table for ``str.translate`` giving copy ``copy`` of the content its own words: each
    alphabet's letters shuffled (Chinese characters shifted), so that every copy brings new
    words and n-grams, as distinct content of the same size would; the same text in every run."""
    shuffler = random.Random(copy)
    table: dict[int, int] = {}
    for alphabet in ALPHABETS:
        letters = list(alphabet)
        shuffler.shuffle(letters)
        table.update(zip(map(ord, alphabet), map(ord, letters), strict=True))
    shift = 1009 * copy
    for code in range(CJK_FIRST, CJK_FIRST + CJK_SIZE):
        table[code] = CJK_FIRST + (code - CJK_FIRST + shift) % CJK_SIZE
    return table


def _disguised(texts: Localized, table: dict[int, int]) -> Localized:
    return Localized(MappingProxyType({c: t.translate(table) for c, t in texts.values.items()}))


def _disguised_lists(
    groups: Mapping[str, tuple[str, ...]], table: dict[int, int]
) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({c: tuple(t.translate(table) for t in g) for c, g in groups.items()})


def replicate(catalog: Catalog, times: int) -> Catalog:
    """Content ``times`` the size: each copy of every topic (ids made unique) with its title,
    keywords, questions and phrasings in its own disguise, so that the vocabulary grows too.
    Copies of the same text would not: the index would look faster than it is."""
    topics = dict(catalog.topics)
    phrasings = dict(catalog.phrasings.topics)
    for copy in range(1, times):
        table = disguise(copy)
        for topic in catalog.topics.values():
            twin = f"{topic.id}_r{copy}"
            topics[twin] = replace(
                topic,
                id=twin,
                title=_disguised(topic.title, table),
                keywords=_disguised_lists(topic.keywords, table),
                questions=_disguised_lists(topic.questions, table),
            )
            phrasings[twin] = _disguised_lists(
                catalog.phrasings.topics.get(topic.id, MappingProxyType({})), table
            )
    return replace(
        catalog,
        topics=MappingProxyType(topics),
        phrasings=replace(catalog.phrasings, topics=MappingProxyType(phrasings)),
    )


def evaluate(
    understanding: Understanding, rows: list[tuple[str, str, str]], misses: bool
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for language, label, question in rows:
        began = time.perf_counter()
        analysis = understanding.analyse(question)
        elapsed = time.perf_counter() - began
        tally = tallies[language]
        tally.seconds.append(elapsed)
        action = ACTION_INTENTS.get(analysis.intent) if analysis.intent else None
        answered = analysis.matches[0].area if analysis.confident and analysis.matches else None
        if analysis.intent is Intent.DANGER and understanding.danger_topic is not None:
            # A sign of danger is answered with the help topic, whatever else the message asks.
            answered = understanding.catalog.topics[understanding.danger_topic].area
        if label == "out_of_scope":
            tally.out_of_scope += 1
            rejected = answered is None and action is None
            tally.rejected += rejected
            right = rejected
        else:
            tally.in_scope += 1
            right = (action or answered) == label
            tally.top1 += right
            areas = [match.area for match in analysis.matches[:3]]
            tally.top3 += right or label in areas
        if misses and not right:
            found = action or answered or "(no confident answer)"
            shown = ", ".join(f"{m.topic} {m.score:.2f}" for m in analysis.matches[:3])
            print(f"  miss {language} {label:<22} {question!r} -> {found} [{shown}]")
    return tallies


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def report(title: str, tallies: dict[str, Tally]) -> Tally:
    print(f"\n{title}")
    print(
        f"{'lang':<6}{'in-scope':>9}{'top-1':>8}{'top-3':>8}{'out-of-scope':>14}{'rejected':>10}"
        f"{'median':>10}{'p99':>10}"
    )
    total = Tally()
    for language in sorted(tallies):
        tally = tallies[language]
        total.add(tally)
        _line(language, tally)
    _line("all", total)
    return total


def _share(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def _line(name: str, tally: Tally) -> None:
    ordered = sorted(tally.seconds)
    median = statistics.median(ordered) * 1000 if ordered else 0.0
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0
    print(
        f"{name:<6}{tally.in_scope:>9}{_percent(tally.top1, tally.in_scope):>8}"
        f"{_percent(tally.top3, tally.in_scope):>8}{tally.out_of_scope:>14}"
        f"{_percent(tally.rejected, tally.out_of_scope):>10}{median:>8.2f}ms{p99:>8.2f}ms"
    )


def stopgap(catalog: Catalog, edited: list[str]) -> Understanding:
    """The stop-gap understanding of ``catalog`` after the questions of ``edited`` topics were
    written (the understanding before: of the content without them)."""
    topics = {
        topic_id: replace(topic, questions=MappingProxyType({})) if topic_id in edited else topic
        for topic_id, topic in catalog.topics.items()
    }
    missing = set(edited) - set(catalog.topics)
    if missing:
        raise SystemExit(f"no such topic: {', '.join(sorted(missing))}")
    before = Understanding(replace(catalog, topics=MappingProxyType(topics)))
    # Worked out here, as the training child works it out for a server (the same arrays:
    # tests/unit/test_classifier.py), without the full training the child then runs.
    model = work_out_stopgap(before.classifier, training_examples(catalog), catalog.synonyms)
    if model is None:
        raise SystemExit("no stop-gap can be worked out (new synonyms?)")
    return Understanding.of(catalog, model)


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure free-text understanding.")
    parser.add_argument("--tuning", nargs="*", type=Path, help="tuning question files (TSV)")
    parser.add_argument(
        "--show-misses", action="store_true", help="print every wrong answer of the tuning set"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=10,
        help="time queries on content this many times bigger, each copy disguised (0: skip)",
    )
    parser.add_argument(
        "--stopgap",
        nargs="*",
        default=[],
        metavar="TOPIC",
        help="measure the stop-gap model after these topics' questions were written",
    )
    args = parser.parse_args()
    tuning = read_questions(args.tuning or list(TUNING_FILES))
    held_out = read_questions([HELD_OUT_FILE])
    if not tuning and not held_out:
        raise SystemExit("no questions found")
    catalog = load_catalog(PROJECT_ROOT / "content")
    began = time.perf_counter()
    understanding = stopgap(catalog, args.stopgap) if args.stopgap else Understanding(catalog)
    built = time.perf_counter() - began
    understanding.analyse("warm up the language models")
    print(
        f"{len(catalog.topics)} topics; understanding built in {built:.1f} s; "
        f"{len(tuning)} tuning and {len(held_out)} held-out questions"
    )
    tuned = report("tuning set", evaluate(understanding, tuning, args.show_misses))
    languages = evaluate(understanding, held_out, False)
    unseen = report("held-out set (never tuned on)", languages)

    def top1(code: str) -> float:
        return _share(languages[code].top1, languages[code].in_scope)

    weakest = min(languages, key=top1)
    gap = _share(tuned.top1, tuned.in_scope) - _share(unseen.top1, unseen.in_scope)
    print(
        f"\ngap tuning - held-out, top-1: {gap:+.1f} points; weakest held-out language: "
        f"{weakest} {top1(weakest):.1f}%"
    )
    if args.scale > 1:
        began = time.perf_counter()
        big = Understanding(replicate(catalog, args.scale))
        built = time.perf_counter() - began
        big.analyse("warm up")
        report(
            f"content {args.scale}x, each copy in its own letters ({len(big.catalog.topics)} "
            f"topics, {len(big.classifier.labels)} labels, built in {built:.1f} s): "
            "held-out set, for the time per query",
            evaluate(big, held_out, False),
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process (both indexes, language models): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
