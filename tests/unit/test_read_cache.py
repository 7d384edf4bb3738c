"""The loader's cache: a file read before is not read again, a changed one is, and the answers
(the catalog, every error and warning, in order) are the same as without the cache."""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.content import loader, read_cache
from bot.content.holder import ContentHolder
from bot.content.loader import ContentIssue, load_catalog, validate
from tests.conftest import TODAY
from tests.unit.test_content_loader import BROKEN_CASES, edit


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The topic and phrasings files read from their YAML (not taken from the cache)."""
    found: list[str] = []

    def counted(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(root: Path, path: Path, *rest: Any) -> Any:
            found.append(path.relative_to(root).as_posix())
            return function(root, path, *rest)

        return wrapper

    monkeypatch.setattr(loader, "_read_topic_file", counted(loader._read_topic_file))
    monkeypatch.setattr(loader, "_read_phrasings_file", counted(loader._read_phrasings_file))
    return found


def issues(root: Path, cache: Path | None, today: date = TODAY) -> tuple[list[str], list[str]]:
    validation = validate(root, today=today, cache=cache)
    return [str(i) for i in validation.errors], [str(i) for i in validation.warnings]


def test_a_second_load_reads_no_file_again_and_gives_the_same_catalog(
    content_copy: Path, cache: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_catalog(content_copy, today=TODAY)
    reads.clear()
    first = load_catalog(content_copy, today=TODAY, cache=cache)
    assert "topics/permit_lost.yaml" in reads and "phrasings/en.yaml" in reads
    reads.clear()
    second = load_catalog(content_copy, today=TODAY, cache=cache)
    assert reads == []
    assert second.topics["permit_lost"] is first.topics["permit_lost"]  # held in this process
    monkeypatch.setattr(read_cache, "_KEPT", {})  # another process: from the cache on disk
    third = load_catalog(content_copy, today=TODAY, cache=cache)
    assert reads == []
    assert first == fresh and second == fresh and third == fresh
    assert third.topics["permit_lost"] is not first.topics["permit_lost"]


def test_a_changed_file_is_read_again_and_only_it(
    content_copy: Path, cache: Path, reads: list[str]
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)
    reads.clear()
    edit(content_copy / "topics" / "permit_lost.yaml", "Denuncia", "Segnala")
    catalog = load_catalog(content_copy, today=TODAY, cache=cache)
    assert reads == ["topics/permit_lost.yaml"]
    assert "Segnala" in catalog.topics["permit_lost"].answer.values["it"]
    assert catalog == load_catalog(content_copy, today=TODAY)


def test_a_file_changed_back_and_forth_is_never_taken_for_another_version(
    content_copy: Path, cache: Path
) -> None:
    path = content_copy / "topics" / "permit_lost.yaml"
    original = path.read_bytes()
    load_catalog(content_copy, today=TODAY, cache=cache)
    edit(path, "Denuncia", "Segnala")
    load_catalog(content_copy, today=TODAY, cache=cache)
    path.write_bytes(original)
    os.utime(path, ns=(0, 0))  # even with the same time as another version
    assert (
        "Denuncia"
        in load_catalog(content_copy, today=TODAY, cache=cache)
        .topics["permit_lost"]
        .answer.values["it"]
    )


@pytest.mark.parametrize(("file", "old", "new", "expected"), BROKEN_CASES)
def test_errors_and_warnings_from_the_cache_are_those_of_reading(
    content_copy: Path, cache: Path, file: str, old: str, new: str, expected: str
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)  # the valid content, kept
    edit(content_copy / file, old, new)
    read = issues(content_copy, None)
    assert any(expected in error for error in read[0]), read
    assert issues(content_copy, cache) == read  # the broken file read, the others kept
    assert issues(content_copy, cache) == read  # everything kept


def test_phrasings_of_a_topic_that_is_gone_are_reported_though_their_file_is_kept(
    content_copy: Path, cache: Path, reads: list[str]
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)
    (content_copy / "topics" / "permit_lost.yaml").unlink()
    reads.clear()
    errors, _ = issues(content_copy, cache)
    assert not any(name.startswith("phrasings/") for name in reads)
    assert any("unknown topic 'permit_lost' in 'topics'" in e for e in errors), errors
    assert errors == issues(content_copy, None)[0]


def test_a_review_date_in_the_future_is_judged_on_the_day_of_each_load(
    content_copy: Path, cache: Path
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    edit(
        content_copy / "topics" / "permit_lost.yaml",
        "reviewed: 2026-11-20",
        f"reviewed: {tomorrow.isoformat()}",
    )
    errors, _ = issues(content_copy, cache, today=TODAY)
    assert any("is in the future" in error for error in errors), errors
    assert issues(content_copy, cache, today=tomorrow) == ([], issues(content_copy, None)[1])
    errors, _ = issues(content_copy, cache, today=TODAY)
    assert any("is in the future" in error for error in errors), errors


def test_a_damaged_cache_is_ignored_and_made_again(
    content_copy: Path, cache: Path, reads: list[str]
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)
    (kept,) = cache.glob("content-*.pickle")
    kept.write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])
    reads.clear()
    assert load_catalog(content_copy, today=TODAY, cache=cache) == load_catalog(
        content_copy, today=TODAY
    )
    assert "topics/permit_lost.yaml" in reads
    reads.clear()
    load_catalog(content_copy, today=TODAY, cache=cache)
    assert reads == []  # made again whole


def test_a_planted_cache_cannot_run_code(
    content_copy: Path, cache: Path, tmp_path: Path, reads: list[str]
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)
    (kept,) = cache.glob("content-*.pickle")
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self) -> tuple[Any, ...]:
            return (Path.touch, (marker,))

    kept.write_bytes(pickle.dumps({"version": "x", "entries": Planted()}))
    reads.clear()
    assert load_catalog(content_copy, today=TODAY, cache=cache).topics
    assert not marker.exists()
    assert "topics/permit_lost.yaml" in reads


def test_a_cache_folder_that_cannot_be_written_only_means_reading_again(
    content_copy: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would be")
    assert load_catalog(content_copy, today=TODAY, cache=blocked) == load_catalog(
        content_copy, today=TODAY
    )


def test_a_change_to_the_loader_code_reads_everything_again(
    content_copy: Path, cache: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)
    monkeypatch.setattr("bot.content.read_cache.code_version", lambda: "another loader")
    reads.clear()
    load_catalog(content_copy, today=TODAY, cache=cache)
    assert "topics/permit_lost.yaml" in reads


def test_issues_are_kept_with_their_hints_and_columns(content_copy: Path, cache: Path) -> None:
    edit(content_copy / "topics" / "permit_lost.yaml", "area: permits", "area:permits")
    read = validate(content_copy, today=TODAY).errors
    validate(content_copy, today=TODAY, cache=cache)
    kept = validate(content_copy, today=TODAY, cache=cache).errors
    assert kept == read
    assert [(i.column, i.hint) for i in kept] == [(i.column, i.hint) for i in read]
    assert all(isinstance(issue, ContentIssue) for issue in kept)


def test_a_holder_with_a_cache_publishes_an_edit(content_copy: Path, cache: Path) -> None:
    holder = ContentHolder(content_copy, cache=cache)
    edit(content_copy / "topics" / "permit_lost.yaml", "Denuncia", "Segnala")
    path = content_copy / "topics" / "permit_lost.yaml"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert holder.reload_if_changed()
    assert "Segnala" in holder.catalog.topics["permit_lost"].answer.values["it"]


def test_a_damaged_reading_is_read_again_and_the_others_kept(
    content_copy: Path, cache: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    load_catalog(content_copy, today=TODAY, cache=cache)
    (kept,) = cache.glob("content-*.pickle")
    pack = pickle.loads(kept.read_bytes())
    (damaged,) = [key for key in pack["entries"] if key[0] == "topics/permit_lost.yaml"]
    pack["entries"][damaged] = b"\x80\x05not a pickle"
    kept.write_bytes(pickle.dumps(pack))
    monkeypatch.setattr(read_cache, "_KEPT", {})  # as another process would find it
    reads.clear()
    catalog = load_catalog(content_copy, today=TODAY, cache=cache)
    assert reads == ["topics/permit_lost.yaml"]
    assert catalog == load_catalog(content_copy, today=TODAY)


def test_only_the_contents_own_value_types_are_unpickled(tmp_path: Path) -> None:
    from bot.content.read_cache import _Unpickler, file_digest
    from bot.content.schema import Intent, Localized

    class Acting:
        def __reduce__(self) -> tuple[Any, ...]:
            return (file_digest, (tmp_path,))  # a function of bot.content: refused

    with pytest.raises(pickle.UnpicklingError):
        _Unpickler(io.BytesIO(pickle.dumps(Acting()))).load()
    value = (Intent.HUMAN, Localized({"it": "ciao"}), date(2026, 11, 30))
    assert _Unpickler(io.BytesIO(pickle.dumps(value))).load() == value


def test_a_topic_read_before_is_judged_again_when_desk_yaml_drops_its_area(
    content_copy: Path, cache: Path
) -> None:
    assert issues(content_copy, cache)[0] == []
    desk = content_copy / "desk.yaml"
    text = desk.read_text(encoding="utf-8")
    start = text.index("  - id: counter\n")
    end = text.index("  - id: protection")
    desk.write_text(text[:start] + text[end:], encoding="utf-8")
    errors, _ = issues(content_copy, cache)
    assert any(e.startswith("topics/counter_hours.yaml:2: unknown area 'counter'") for e in errors)
    assert errors == issues(content_copy, None)[0]  # as without the cache
