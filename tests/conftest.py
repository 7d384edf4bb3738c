"""Fixtures shared by every test; helpers live in ``tests/auxil``."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.content.holder import ContentHolder
from bot.content.loader import load_catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.storage.db import Database
from tests.auxil.databases import drop_target, new_target, on_postgresql

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CONTENT = FIXTURES / "content"
REPO_CONTENT = PROJECT_ROOT / "content"
LOCALES = PROJECT_ROOT / "locales"
TODAY = date(2026, 11, 25)

# Property tests (hypothesis): by default the same examples on every run and every machine, so
# CI is reproducible and quick; HYPOTHESIS_PROFILE=explore draws new ones, many more, locally.
# No deadline: the first example of a test also trains the understanding (seconds, not a bug).
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def database_target(tmp_path: Path) -> Iterator[str]:
    """What SPORTELLO_DB says for the test's own new database: a SQLite file, or a schema of
    the PostgreSQL database in SPORTELLO_TEST_DB (tests/auxil/databases.py)."""
    target = new_target(tmp_path)
    yield target
    drop_target(target)


@pytest.fixture
async def database(database_target: str) -> AsyncIterator[Database]:
    """A migrated database of the test's own (modules may define their own)."""
    async with Database(database_target) as opened:
        yield opened


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, the tests of what only SQLite has are skipped, saying why."""
    if not on_postgresql():
        return
    skip = pytest.mark.skip(reason="SQLite only (its file, WAL or sqlite3 itself)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach anything but this machine."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise RuntimeError(f"a test tried to reach the network: {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog(FIXTURE_CONTENT, today=TODAY)


@pytest.fixture
def interface(catalog: Catalog) -> Interface:
    return Interface(LOCALES, {lang.code: catalog.chain(lang.code) for lang in catalog.languages})


@pytest.fixture
def store() -> MemoryStateStore:
    return MemoryStateStore()


@pytest.fixture
def engine(catalog: Catalog, store: MemoryStateStore, interface: Interface) -> Engine:
    return Engine(lambda: catalog, store, interface, today=lambda: TODAY)


@pytest.fixture
def content_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the fixture content, for tests that break or change it."""
    target = tmp_path / "content"
    (target / "topics").mkdir(parents=True)
    for path in FIXTURE_CONTENT.rglob("*.yaml"):
        destination = target / path.relative_to(FIXTURE_CONTENT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    yield target


@pytest.fixture
def repo_content_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's own content: the files editors really change."""
    target = tmp_path / "repo-content"
    shutil.copytree(REPO_CONTENT, target, ignore=shutil.ignore_patterns("*.md"))
    return target


@pytest.fixture
def holder(content_copy: Path) -> ContentHolder:
    return ContentHolder(content_copy)
