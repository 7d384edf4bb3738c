"""This module contains the ``ContentHolder``: the current catalog, swapped whole on reload."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

from bot.content.catalog import Catalog
from bot.content.loader import ContentError, ContentIssue, content_files, load_catalog

log = logging.getLogger(__name__)


class ContentHolder:
    """Holds the last good catalog; a reload that fails validation keeps it and logs why."""

    def __init__(
        self, root: Path, default_language: str | None = None, cache: Path | None = None
    ) -> None:
        """``cache``: the folder where what each content file gave is kept, so that a reload
        reads again only the files that changed."""
        self.root = root
        self.default_language = default_language
        self.cache = cache
        self._signature = self._read_signature()
        self._catalog = self._load()
        self.last_error: ContentError | None = None

    def _load(self) -> Catalog:
        catalog = load_catalog(self.root, cache=self.cache)
        if self.default_language and catalog.language(self.default_language) is not None:
            # The operator's SPORTELLO_DEFAULT_LANGUAGE wins over languages.yaml.
            catalog = replace(catalog, default_language=self.default_language)
        return catalog

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def __call__(self) -> Catalog:
        return self._catalog

    def _read_signature(self) -> tuple[tuple[str, int, int], ...]:
        signature = []
        for path in content_files(self.root):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            signature.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(signature)

    def reload_if_changed(self) -> bool:
        """Reload when a content file changed; True when a new catalog is now in use."""
        signature = self._read_signature()
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            catalog = self._load()
        except ContentError as error:
            self.last_error = error
            log.error("content change refused, the previous content stays online:\n%s", error)
            return False
        except Exception as error:
            # A loader bug must not stop the watching: the last good content stays online.
            self.last_error = ContentError([ContentIssue(str(self.root), 0, repr(error))])
            log.exception("content change could not be read; the previous content stays online")
            return False
        self.last_error = None
        self._catalog = catalog  # one assignment: readers see the old or the new, never a mix
        log.info("content reloaded: version %s, %d topics", catalog.version, len(catalog.topics))
        return True

    async def watch(self, interval: float) -> None:
        """Poll the content folder forever (cancel the task to stop)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.reload_if_changed)
            except Exception:
                log.exception("cannot read the content folder; watching goes on")
