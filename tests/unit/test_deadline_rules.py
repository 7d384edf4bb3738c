"""``content/deadlines.yaml``: read with the rest of the content, mistakes at their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.loader import load_catalog, validate
from tests.conftest import REPO_CONTENT


def errors_of(root: Path) -> list[str]:
    return [str(issue) for issue in validate(root).errors]


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old``; returns its line number (1-based)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_the_repository_rules_load_with_their_topics() -> None:
    catalog = load_catalog(REPO_CONTENT)
    assert set(catalog.deadlines) == {
        "permit_renewal",
        "anagrafe_update",
        "family_arrival",
        "nulla_osta_wait",
        "a2_retry",
    }
    for rule in catalog.deadlines.values():
        assert rule.topic in catalog.topics
        assert rule.sources and rule.dates
        for text in (rule.title, rule.question, *(d.text for d in rule.dates)):
            assert set(text.values) == {lang.code for lang in catalog.languages}, rule.id


def test_no_rules_file_means_no_rules(repo_content_copy: Path) -> None:
    (repo_content_copy / "deadlines.yaml").unlink()
    (repo_content_copy / "topics" / "my_deadlines.yaml").unlink()
    for menu in ("my_deadlines, help_danger", "permit_change_address, my_deadlines"):
        edit(
            repo_content_copy / "menu.yaml",
            menu,
            menu.replace("my_deadlines, ", "").replace(", my_deadlines", ""),
        )
    assert load_catalog(repo_content_copy).deadlines == {}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("when: 60 days before", "when: sixty days before", "is not a distance from the event"),
        ("remind: [90 days before, 60 days before]", "remind: [90 days]", "is not a distance"),
        (
            "    topic: permit_renewal\n",
            "    topic: permit_renewl\n",
            "'permit_renewl' is not a topic",
        ),
        ("late_topic: permit_renewal_expired", "late_topic: gone", "'gone' is not a topic"),
        ("late_after: expiry", "late_after: expire", "'late_after' names no date 'expire'"),
        (
            "Chiedi il rinnovo **entro il {date}**",
            "Chiedi il rinnovo **entro il giorno**",
            "must say where the date goes",
        ),
        ("next: anagrafe_update", "next: anagrafe", "'next' names no deadline 'anagrafe'"),
        ("    reviewed: 2026-11-30\n", "    reviewed: 30/11/2026\n", "'reviewed' must be the date"),
        ("    question:\n", "    questoin:\n", "unknown key 'questoin'"),
    ],
)
def test_a_mistake_is_reported_at_its_line(
    repo_content_copy: Path, old: str, new: str, message: str
) -> None:
    line = edit(repo_content_copy / "deadlines.yaml", old, new)
    errors = errors_of(repo_content_copy)
    found = [error for error in errors if message in error]
    assert found, errors
    assert found[0].startswith("deadlines.yaml:")
    reported = int(found[0].split(":")[1])
    assert line <= reported <= line + 1 or "not a topic" in message or "next" in message


def test_a_rule_reviewed_in_the_future_is_refused(repo_content_copy: Path) -> None:
    edit(repo_content_copy / "deadlines.yaml", "reviewed: 2026-11-30", "reviewed: 2099-01-01")
    assert any("in the future" in error for error in errors_of(repo_content_copy))


def test_late_after_and_late_topic_go_together(repo_content_copy: Path) -> None:
    edit(repo_content_copy / "deadlines.yaml", "    late_topic: permit_renewal_expired\n", "")
    assert any("go together" in error for error in errors_of(repo_content_copy))
