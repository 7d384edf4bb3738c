"""This module contains the loader's cache: what reading each content file found, kept by the
file's content hash, so that a start or a reload reads again only the files that changed.

Reading (parsing the YAML, checking every field) takes about 0.1 s per copy of today's content:
10 s at a hundred times. Most of a reload is files nobody touched. What reading one file gives
(its topic, its errors and warnings, in order) depends on its bytes, the language codes and the
loader's own code only, so it is kept in one file per content folder in the cache folder
(``XDG_CACHE_HOME``/sportello, as the understanding's models), keyed by the SHA-256 of the file's
bytes. The code of ``bot/content`` is part of every key: a changed loader reads everything again.

The pack is a pickle read by an unpickler that accepts only the content's own value types, so a
damaged or planted file cannot run code; one that cannot be read is ignored (and rewritten).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import io
import logging
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

log = logging.getLogger(__name__)

T = TypeVar("T")
_Key = tuple[str, str]  # a file's name; its context (the language codes) and content hash

#: What the unpickler may make besides the content's own dataclasses and enums (any module of
#: ``bot.content``): plain values, and nothing that could act.
_ALLOWED = {
    "bot.content.read_cache": {"_proxy"},
    "datetime": {"date", "datetime", "timedelta"},
    "builtins": {"frozenset", "set", "tuple", "list", "dict"},
}


#: The readings this process last read or wrote for each pack, with the pack file's identity
#: then (inode, size, time, the loader's code): a reload in a running server neither reads back
#: from disk nor unpickles what it already holds, unless another process wrote the pack since.
_KEPT: dict[Path, tuple[tuple[int, int, int, str], dict[_Key, bytes], dict[_Key, Any]]] = {}
_KEPT_LOCK = threading.Lock()


def _identity(path: Path) -> tuple[int, int, int, str] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, code_version()


def _proxy(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # A read-only mapping has no pickling of its own: it is kept as the mapping it shows.
        if type(obj) is MappingProxyType:
            return _proxy, (dict(obj),)
        return NotImplemented


#: The classes found allowed so far: each reading is a pickle of its own, and every one of
#: them names the same few classes (a hundredfold content's readings, 60,000 times).
_FOUND: dict[tuple[str, str], Any] = {}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = _FOUND.get((module, name))
        if found is None:
            found = _FOUND[module, name] = self._allowed(module, name)
        return found

    def _allowed(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        if module.startswith("bot.content."):
            found = super().find_class(module, name)
            if isinstance(found, type) and (
                dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)
            ):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a content value")


@functools.cache
def code_version() -> str:
    """A fingerprint of the loader's own code: every module of ``bot.content`` (a reader added
    in a module of its own changes it too), and the Python and PyYAML it runs on."""
    digest = hashlib.sha256(f"{sys.version}\x00{yaml.__version__}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def file_digest(path: Path) -> str | None:
    """The SHA-256 of a file's bytes; None when it cannot be read (the loader reports it)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ReadCache:
    """Readings of one content folder's files, by file name and content hash.

    ``folder`` None: nothing is kept, every file is read (the loader's behaviour without a
    cache folder). One instance serves one load: ``reading`` looks up or reads, ``save`` keeps
    this load's readings (only those: files deleted since are forgotten).

    Each reading is pickled on its own, and the pack holds them as bytes: a load unpickles them
    one at a time (a server's event loop runs between them; one call over a hundred MB would
    hold the interpreter for a second), and saving writes the bytes of those it found again
    as they are.
    """

    def __init__(self, folder: Path | None, root: Path) -> None:
        self._path: Path | None = None
        self._stored: dict[_Key, bytes] = {}
        self._values: dict[_Key, Any] = {}  # readings this process holds already
        self._used: dict[_Key, bytes] = {}
        self._used_values: dict[_Key, Any] = {}
        self.hits = 0
        self.misses = 0
        if folder is None:
            return
        place = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self._path = folder / f"content-{place}.pickle"
        identity = _identity(self._path)
        with _KEPT_LOCK:
            kept = _KEPT.get(self._path)
        if identity is not None and kept is not None and kept[0] == identity:
            _, self._stored, self._values = kept
        else:
            self._stored = self._load(self._path)
            self._keep(identity, self._stored, {})

    def _keep(
        self,
        identity: tuple[int, int, int, str] | None,
        entries: dict[_Key, bytes],
        values: dict[_Key, Any],
    ) -> None:
        assert self._path is not None
        with _KEPT_LOCK:
            if identity is None:
                _KEPT.pop(self._path, None)
            else:
                _KEPT[self._path] = (identity, entries, values)

    @staticmethod
    def _load(path: Path) -> dict[_Key, bytes]:
        try:
            with path.open("rb") as handle:
                stored = _Unpickler(handle).load()
        except FileNotFoundError:
            return {}
        except Exception:  # any damage: a truncated write, another version, a planted file
            log.warning("the content cache %s is unreadable: reading every file again", path)
            return {}
        if not isinstance(stored, dict) or stored.get("version") != code_version():
            return {}
        entries = stored.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _kept(self, key: _Key) -> Any:
        """The reading kept under ``key``, or None (none, or its bytes are damaged)."""
        if key in self._values:
            return self._values[key]
        data = self._stored.get(key)
        if not isinstance(data, bytes):
            return None
        try:
            return _Unpickler(io.BytesIO(data)).load()
        except Exception:
            log.warning("a reading in the content cache %s is unreadable", self._path)
            return None

    def reading(
        self,
        name: str,
        path: Path,
        context: str,
        read: Callable[[], T],
        still_valid: Callable[[T], bool] = lambda _: True,
    ) -> T:
        """What ``read()`` gives for the file ``name`` read with ``context`` (the language codes
        it was checked against): kept, when the file's bytes are the same and ``still_valid``
        agrees (a topic's review date against today's), or read now."""
        digest = file_digest(path) if self._path is not None else None
        key = (name, f"{context}\x00{digest}")
        if digest is not None:
            found = self._kept(key)
            if found is not None and still_valid(found):
                self.hits += 1
                self._used[key] = self._stored[key]
                self._used_values[key] = found
                return found  # type: ignore[no-any-return]
        self.misses += 1
        value = read()
        if digest is not None:
            pickled = io.BytesIO()
            try:
                _Pickler(pickled, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
            except (pickle.PicklingError, TypeError, AttributeError) as error:
                log.info("a reading of %s cannot be kept: %s", name, error)
            else:
                self._used[key] = pickled.getvalue()
                self._used_values[key] = value
        return value

    def save(self) -> None:
        """Keep this load's readings, when any file was read anew or forgotten (atomically; a
        folder that cannot be written to just means reading again next time)."""
        if self._path is None:
            return
        if not self.misses and self._used.keys() == self._stored.keys():
            self._keep(_identity(self._path), self._stored, self._used_values)
            return
        partial = self._path.with_name(f".{self._path.name}.{os.getpid()}.partial")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as handle:
                pickle.dump(
                    {"version": code_version(), "entries": self._used},
                    handle,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            partial.replace(self._path)
            self._keep(_identity(self._path), self._used, self._used_values)
        except OSError as error:
            log.info("the content cache cannot be kept in %s: %s", self._path.parent, error)
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)


def languages_context(codes: Iterable[str]) -> str:
    """The language codes a file is checked against, as part of its key."""
    return ",".join(sorted(codes))
