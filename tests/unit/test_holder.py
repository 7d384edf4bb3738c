"""Content reload: valid changes swap the catalog whole; invalid ones keep the last good one."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from bot.content.holder import ContentHolder


def touch_edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_unchanged_content_is_not_reloaded(holder: ContentHolder) -> None:
    before = holder.catalog
    assert not holder.reload_if_changed()
    assert holder.catalog is before


def test_valid_change_is_published(holder: ContentHolder, content_copy: Path) -> None:
    before = holder.catalog
    touch_edit(content_copy / "topics" / "permit_lost.yaml", "Denuncia", "Segnala")
    assert holder.reload_if_changed()
    assert holder.catalog is not before
    assert holder.catalog.version != before.version
    assert "Segnala" in holder.catalog.topics["permit_lost"].answer.values["it"]
    assert "Denuncia" in before.topics["permit_lost"].answer.values["it"]  # old one untouched


def test_new_topic_file_is_picked_up(holder: ContentHolder, content_copy: Path) -> None:
    source = (content_copy / "topics" / "permit_lost.yaml").read_text(encoding="utf-8")
    (content_copy / "topics" / "permit_stolen.yaml").write_text(
        source.replace("id: permit_lost", "id: permit_stolen"), encoding="utf-8"
    )
    touch_edit(
        content_copy / "topics" / "permit_renewal.yaml",
        "children: [permit_lost]",
        "children: [permit_lost, permit_stolen]",
    )
    assert holder.reload_if_changed()
    assert "permit_stolen" in holder.catalog.topics


def test_invalid_change_keeps_the_last_good_catalog(
    holder: ContentHolder, content_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = holder.catalog
    touch_edit(content_copy / "topics" / "permit_lost.yaml", "area: permits", "area: nonsense")
    with caplog.at_level(logging.ERROR):
        assert not holder.reload_if_changed()
    assert holder.catalog is before
    assert holder.last_error is not None
    assert "topics/permit_lost.yaml:2: unknown area 'nonsense'" in caplog.text
    touch_edit(content_copy / "topics" / "permit_lost.yaml", "area: nonsense", "area: permits")
    assert holder.reload_if_changed()
    assert holder.last_error is None


def test_default_language_override(content_copy: Path) -> None:
    assert ContentHolder(content_copy, default_language="en").catalog.default_language == "en"
    assert (
        ContentHolder(content_copy, default_language="de").catalog.default_language == "it"
    )  # disabled


async def test_watch_reloads_in_the_background(holder: ContentHolder, content_copy: Path) -> None:
    task = asyncio.create_task(holder.watch(0.01))
    try:
        touch_edit(content_copy / "topics" / "permit_lost.yaml", "Denuncia", "Segnala")
        for _ in range(200):
            await asyncio.sleep(0.01)
            if "Segnala" in holder.catalog.topics["permit_lost"].answer.values["it"]:
                break
        assert "Segnala" in holder.catalog.topics["permit_lost"].answer.values["it"]
    finally:
        task.cancel()


def test_a_loader_crash_keeps_the_content_and_the_watching(
    holder: ContentHolder, content_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = holder.catalog

    def crash(root: Path) -> None:
        raise TypeError("a bug in the loader")

    monkeypatch.setattr("bot.content.holder.load_catalog", crash)
    touch_edit(content_copy / "topics" / "permit_lost.yaml", "Denuncia", "Segnala")
    assert not holder.reload_if_changed()
    assert holder.catalog is before
    assert holder.last_error is not None
