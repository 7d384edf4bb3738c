"""This module contains the checks that keep law-adjacent content honest.

Valid content can still hurt people: an answer nobody has re-read for years, a "source" that is
a portal's home page, a translation that says 90 days where the Italian says 150. These checks
do not stop the bot from loading the content (a fix must never wait for them), but
``sportello content check`` reports every problem with its file and line and fails, so wrong
content is hard to ship.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bot.content.catalog import Catalog
from bot.content.loader import ContentIssue
from bot.content.schema import Topic
from bot.content.yamlfile import YamlDict, YamlList, YamlSyntaxError, read_yaml

_URL = re.compile(r"https?://\S+")
_DIGITS = re.compile(r"\d+")
# Chinese and Japanese dates carry the month as a number ("2025年12月1日") where other
# languages write its name: the month is left out of the comparison, the day and year stay.
_CJK_MONTH = re.compile(r"(?<=年)\s*\d{1,2}\s*月|\d{1,2}\s*月(?=\s*\d{1,2}\s*[日号])")
# What makes an Italian answer state a fee or a deadline: an amount of money, or a number
# of days, weeks, months, years or hours.
_FEE = re.compile(
    r"(€|\beuro\b|\bEUR\b)\s*\d(?:[\d.,]*\d)?|\d[\d.,]*\s*(€|\beuro\b)", re.IGNORECASE
)
_DEADLINE = re.compile(
    r"\b\d+\s*(giorn[oi]|settiman[ae]|mes[ei]|ann[oi]|ore)\b(\s+lavorativi)?", re.IGNORECASE
)
# A home page: no path, or only a language prefix ("/it/", "/en-gb").
_HOME_PATH = re.compile(r"^/?([a-z]{2}([-_][a-z]{2})?/?)?(index\.(html?|php|aspx?))?$")
# Front pages that look like deeper ones: each Prefettura's home page on the Ministry's site
# (/it/prefetture/varese), the source most often cited for facts it does not hold.
_SECTION_HOMES = re.compile(r"^prefettura\.interno\.gov\.it/it/prefetture/[a-z_-]+/?$")


@dataclass(frozen=True)
class QualityRules:
    """How strict the checks are: a topic reviewed before ``today - max_age_days`` is stale."""

    today: date
    max_age_days: int = 365

    @property
    def reviewed_after(self) -> date:
        return self.today - timedelta(days=self.max_age_days)


def is_home_page(url: str) -> bool:
    """True for a site's front page: it holds no particular fact, so it proves nothing."""
    parts = urlsplit(url)
    if parts.query:
        return False
    host = parts.netloc.lower().removeprefix("www.")
    return bool(_HOME_PATH.match(parts.path.lower()) or _SECTION_HOMES.match(host + parts.path))


def numbers_in(text: str) -> frozenset[int]:
    """The numbers a text states, whatever the script of its digits; links are left out."""
    text = _CJK_MONTH.sub(" ", _URL.sub(" ", text))
    return frozenset(int(run) for run in _DIGITS.findall(text))


def fee_or_deadline(text: str) -> str | None:
    """The first fee or deadline an Italian text states ("60 giorni", "16 euro"), if any."""
    match = _FEE.search(text) or _DEADLINE.search(text)
    return " ".join(match.group(0).split()) if match else None


def norm_key(norm: str) -> str:
    """A norm's name as compared by ``--law``: "D.Lgs. 286/1998 art. 29" -> "dlgs286/1998art29"."""
    key = norm.lower()
    for long, short in (
        ("decreto legislativo", "dlgs"),
        ("decreto-legge", "dl"),
        ("decreto legge", "dl"),
        ("legge", "l"),
    ):
        key = key.replace(long, short)
    return re.sub(r"[\s.,;:'’-]+", "", key)


def topics_citing(catalog: Catalog, norm: str) -> list[Topic]:
    """Topics whose ``law:`` names ``norm`` or one of its articles ("L. 91/1992" finds art. 9)."""
    wanted = norm_key(norm)
    found = []
    for topic in catalog.topics.values():
        for cited in topic.law:
            key = norm_key(cited)
            if key == wanted or (key.startswith(wanted) and not key[len(wanted)].isdigit()):
                found.append(topic)
                break
    return sorted(found, key=lambda topic: topic.file)


def review(root: Path, catalog: Catalog, rules: QualityRules) -> list[ContentIssue]:
    """Every quality problem of valid content, with the file and line where to fix it."""
    problems: list[ContentIssue] = []
    for topic in catalog.topics.values():
        data = _reread(root / topic.file)
        if data is not None:
            problems.extend(_topic_problems(topic.file, data, rules))
    for service_id in catalog.services:
        name = f"services/{service_id}.yaml"
        data = _reread(root / name)
        if data is not None:
            problems.extend(_source_problems(name, data, rules))
            problems.extend(_translation_problems(name, data, "documents"))
    return sorted(problems)


def _reread(path: Path) -> YamlDict | None:
    """The file again, for its line numbers (the catalog keeps none)."""
    try:
        data = read_yaml(path)
    except (OSError, YamlSyntaxError):  # the loader reported it already
        return None
    return data if isinstance(data, YamlDict) else None


def _topic_problems(name: str, data: YamlDict, rules: QualityRules) -> Iterator[ContentIssue]:
    reviewed = data.get("reviewed")
    if isinstance(reviewed, date) and reviewed < rules.reviewed_after:
        yield ContentIssue(
            name,
            data.key_lines["reviewed"],
            f"reviewed on {reviewed}, more than {rules.max_age_days} days ago: check the answer "
            "against its sources again and update 'reviewed'",
        )
    yield from _source_problems(name, data, rules)
    yield from _translation_problems(name, data, "answer")
    answer = data.get("answer")
    italian = answer.get("it") if isinstance(answer, YamlDict) else None
    stated = fee_or_deadline(italian) if isinstance(italian, str) else None
    if stated is not None and not any(_proves(source) for source in _sources(data)):
        yield ContentIssue(
            name,
            data.key_lines.get("sources", data.line),
            f"the answer states a fee or deadline ({stated!r}) but no source is a specific page "
            "with the date it was read ('read:'): cite the page that holds it",
        )


def _sources(data: YamlDict) -> Iterable[YamlDict]:
    entries = data.get("sources")
    if isinstance(entries, YamlList):
        yield from (entry for entry in entries if isinstance(entry, YamlDict))


def _proves(source: YamlDict) -> bool:
    url = source.get("url")
    return isinstance(url, str) and not is_home_page(url) and isinstance(source.get("read"), date)


def _source_problems(name: str, data: YamlDict, rules: QualityRules) -> Iterator[ContentIssue]:
    for source in _sources(data):
        url = source.get("url")
        if isinstance(url, str) and is_home_page(url):
            yield ContentIssue(
                name,
                source.key_lines["url"],
                f"source {url} is a home page: cite the page that holds the fact",
            )
        read = source.get("read")
        if "read" not in source:
            yield ContentIssue(
                name, source.line, f"source {url} has no 'read:' date (when an editor read it)"
            )
        elif isinstance(read, date) and read > rules.today:
            line = source.key_lines["read"]
            yield ContentIssue(name, line, f"'read' date {read} is in the future")


def _translation_problems(name: str, data: YamlDict, key: str) -> Iterator[ContentIssue]:
    """A translation that states other numbers than the Italian: 90 days where it says 150."""
    texts = data.get(key)
    if not isinstance(texts, YamlDict) or not isinstance(texts.get("it"), str):
        return
    italian = numbers_in(texts["it"])
    for code, text in texts.items():
        if code == "it" or not isinstance(text, str):
            continue
        found = numbers_in(text)
        missing, extra = sorted(italian - found), sorted(found - italian)
        if missing or extra:
            said = []
            if missing:
                said.append(f"lacks {', '.join(map(str, missing))}")
            if extra:
                said.append(f"has {', '.join(map(str, extra))}, which the Italian has not")
            yield ContentIssue(
                name, texts.key_lines[code], f"{key!r} in {code!r} {' and '.join(said)}"
            )
