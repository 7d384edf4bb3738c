"""This module contains a YAML reader that remembers line numbers and refuses duplicate keys."""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    from bot.content import _yamlevents  # built from _yamlevents.c where libyaml-dev is
except ImportError:  # pragma: no cover - the Python way reads the same, slower
    _yamlevents = None  # type: ignore[assignment]


class YamlDict(dict[Any, Any]):
    """A mapping that knows the line it starts on and the line of each of its keys."""

    line: int = 0
    key_lines: dict[Any, int]


class YamlList(list[Any]):
    """A sequence that knows the line of each of its items."""

    line: int = 0
    item_lines: list[int]


class YamlSyntaxError(Exception):
    """The file is not valid YAML, or repeats a key."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# libyaml's parser (in C) when PyYAML was built with it: the phrasing files hold thousands of
# lines, and the pure-Python parser takes seconds on them. Both report the same lines.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_Base):  # type: ignore[misc]
    # No path-dependent tags here (add_path_resolver is never called): libyaml's composer
    # would still call these twice per node, for nothing.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        """PyYAML's ``resolve`` (called by libyaml's composer for every node, in Python), the
        same tags in fewer steps: this loader has no path resolvers and no wildcard ones."""
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in _IMPLICIT.get(value[:1], ()):
                    if pattern.match(value):
                        return str(tag)
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> YamlDict:
        result = YamlDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise YamlSyntaxError("a key must be a plain word", key_node.start_mark.line + 1)
            if key in result:
                raise YamlSyntaxError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> YamlList:
        result = YamlList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date that does not exist (2026-13-45) stays text, for the validator to report."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _LineLoader.construct_mapping,
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    _LineLoader.construct_sequence,
)
_LineLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _LineLoader.construct_lenient_timestamp,
)


_STR = "tag:yaml.org,2002:str"
_MAP = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_SEQ = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
# The implicit resolvers by a text's first character, as PyYAML looks them up ('' for an empty
# text); ``resolve`` relies on there being no wildcard and no path resolvers.
_IMPLICIT: dict[str, tuple[tuple[str, Any], ...]] = {
    first: tuple(resolvers) for first, resolvers in _LineLoader.yaml_implicit_resolvers.items()
}
assert None not in _IMPLICIT and not _LineLoader.yaml_path_resolvers


def _words_of(pattern: re.Pattern[str]) -> list[str] | None:
    """The words an implicit resolver's pattern matches when it is a list of words
    (``^(?:yes|Yes|no)$``, as for true/false and null); None for any other pattern."""
    if pattern.flags & ~(re.VERBOSE | re.UNICODE):  # re.IGNORECASE would match more words
        return None
    source = pattern.pattern
    if pattern.flags & re.VERBOSE:
        source = "".join(source.split())
    found = re.fullmatch(r"\^\(\?:([\w~]*(?:\|[\w~]*)*)\)\$", source)
    if found is None:
        return None
    words = found.group(1).split("|")
    return words if all(pattern.fullmatch(word) for word in words) else None


def _for_c() -> tuple[bytes, frozenset[str]] | None:
    """What ``_yamlevents`` needs to know of the resolvers: the first bytes of the plain scalars
    that may be something else than text and, of those starting with a letter, the only words
    that are (yes, No, null...). None when the resolvers are not of that shape: the C reader is
    not used then."""
    first = "".join(_IMPLICIT).encode("utf-8")
    if len(first) != len(_IMPLICIT) - 1:  # one ASCII character each, and ''
        return None
    words: set[str] = set()
    for character, resolvers in _IMPLICIT.items():
        if character.isascii() and character.isalpha():
            for _tag, pattern in resolvers:
                found = _words_of(pattern)
                if found is None:
                    return None
                words.update(word for word in found if word[:1].isascii() and word[:1].isalpha())
    return first, frozenset(words)


_FIRST, _WORDS = _for_c() or (b"", frozenset())
_C_BUILT = _yamlevents is not None
_IN_C = _C_BUILT and bool(_FIRST)


def _load(text: str) -> Any:
    """The document, in one pass over libyaml's events (see :func:`_from_events`); a document
    that pass is not sure of (anchors, tags, a mistake) is read again through the nodes
    (:func:`_load_nodes`), which give the same values and the same errors as before."""
    found = _by_events(text)
    return _load_nodes(text) if found is _UNSURE else found


_UNSURE: Any = object()


def _by_events(source: str | bytes) -> Any:
    """The document read the events' way, or ``_UNSURE`` when that way is not sure of it."""
    loader = _LineLoader(source)
    try:
        return _from_events(loader)
    except (_Unsure, yaml.YAMLError, YamlSyntaxError, ValueError):
        return _UNSURE
    finally:
        loader.dispose()


def _by_events_in_c(data: bytes) -> Any:
    """The document read the events' way by ``_yamlevents`` (in C: no Python object per event,
    half a hundredfold content's first load), or ``_UNSURE``."""
    try:
        found = _yamlevents.read(
            data, mapping=YamlDict, sequence=YamlList, plain=_plain, first=_FIRST, words=_WORDS
        )
    except (_Unsure, yaml.YAMLError, ValueError):  # the nodes' way reads it, and names its line
        return _UNSURE
    return _UNSURE if found is NotImplemented else found


def _load_nodes(text: str) -> Any:
    """The document, in one pass: libyaml parses it and makes its nodes (each with its line),
    and the plain mappings, lists and texts are built from them here, directly. PyYAML's own
    constructors, in Python, would walk every node through generic machinery and take four
    times as long; they still make everything else (numbers, dates, true/false, other tags),
    by the same rules as before."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _Builder(loader).build(node)
    finally:
        loader.dispose()


class _Unsure(Exception):
    """The events hold something only the nodes' way reads as before."""


_NO_KEY: Any = object()


def _plain(text: str) -> Any:
    """A plain (unquoted) scalar as the resolvers and constructors make it: a number, a date,
    true or false, None, or the text itself."""
    made = _MADE.get(text, _NOT_MADE)
    if made is not _NOT_MADE:
        return made
    for tag, pattern in _IMPLICIT.get(text[:1], ()):
        if pattern.match(text):
            construct = _LineLoader.yaml_constructors.get(tag)
            if construct is None:  # a merge key (<<) or a value key (=): only the nodes' way
                raise _Unsure
            made = construct(_SCALARS, ScalarNode(tag, text))
            if len(_MADE) >= _MADE_AT_MOST:
                _MADE.clear()
            _MADE[text] = made
            return made
    return text  # texts are not kept: one starting with a digit may be a long answer


# The same few dates and numbers come back in every file (a review date, a year): each is made
# once. What is made is immutable (a number, a date, True, None), so shared safely.
_MADE: dict[str, Any] = {}
_MADE_AT_MOST = 4096
_NOT_MADE: Any = object()


# The constructors of numbers, dates, true/false and null use nothing of a loader but its
# constructor's methods, and keep nothing.
_SCALARS = yaml.constructor.SafeConstructor()


def _from_events(loader: Any) -> Any:
    """The document built straight from libyaml's events, as :class:`_Builder` builds it from
    the nodes that the composer would make of the same events: each node costs a Python object
    less (a tenth of a hundredfold content's reading). Only what is plain here: anchors,
    aliases, explicit tags, keys that are not words, a repeated key, a second document and
    any syntax error raise :class:`_Unsure`, and the nodes' way reads the document again, with
    its own errors, in its own order."""
    get_event = loader.get_event
    if type(get_event()) is not StreamStartEvent:
        raise _Unsure
    event = get_event()
    if type(event) is StreamEndEvent:
        return None
    if type(event) is not DocumentStartEvent:
        raise _Unsure
    stack: list[tuple[Any, bool, Any, int]] = []
    current: Any = None  # the mapping or list being filled; None: the document's top
    in_mapping = False
    key = _NO_KEY  # in a mapping: its key waiting for its value
    key_line = 0
    document: Any = None
    while True:
        event = get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unsure
            value = _plain(event.value) if event.implicit[0] else event.value
            line = event.start_mark.line + 1
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unsure
            stack.append((current, in_mapping, key, key_line))
            if kind is MappingStartEvent:
                current = YamlDict()
                current.key_lines = {}
                in_mapping, key = True, _NO_KEY
            else:
                current = YamlList()
                current.item_lines = []
                in_mapping = False
            current.line = event.start_mark.line + 1
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value, line = current, current.line
            current, in_mapping, key, key_line = stack.pop()
        elif kind is DocumentEndEvent and current is None:
            break
        else:  # an alias
            raise _Unsure
        if current is None:
            document = value
        elif not in_mapping:
            current.append(value)
            current.item_lines.append(line)
        elif key is _NO_KEY:
            if not isinstance(value, str | int | float | bool) or value in current:
                raise _Unsure
            key, key_line = value, line
        else:
            current[key] = value
            current.key_lines[key] = key_line
            key = _NO_KEY
    if type(get_event()) is not StreamEndEvent:
        raise _Unsure
    return document


class _Builder:
    """YamlDict, YamlList and texts from composed nodes, as :class:`_LineLoader` makes them."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._building: set[int] = set()  # nodes being built: an alias to one is a loop

    def build(self, node: Node) -> Any:
        tag = node.tag
        if tag == _STR and type(node) is ScalarNode:
            return node.value
        if tag != _MAP and tag != _SEQ:
            try:
                return self._loader.construct_object(node, deep=True)
            except ValueError as error:  # a number of more than 4,300 digits, for one
                raise YamlSyntaxError(
                    "this value cannot be read as a number or a date: put it in quotes to keep"
                    " it as text",
                    node.start_mark.line + 1,
                ) from error
        if id(node) in self._building:
            raise yaml.constructor.ConstructorError(
                None, None, "found unconstructable recursive node", node.start_mark
            )
        self._building.add(id(node))
        try:
            return self._mapping(node) if tag == _MAP else self._sequence(node)
        finally:
            self._building.discard(id(node))

    def _mapping(self, node: Node) -> YamlDict:
        result = YamlDict()
        result.line = node.start_mark.line + 1
        lines: dict[Any, int] = {}
        result.key_lines = lines
        build = self.build
        for key_node, value_node in node.value:
            key = build(key_node)
            if not isinstance(key, str | int | float | bool):
                raise YamlSyntaxError("a key must be a plain word", key_node.start_mark.line + 1)
            if key in result:
                raise YamlSyntaxError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            result[key] = build(value_node)
            lines[key] = key_node.start_mark.line + 1
        return result

    def _sequence(self, node: Node) -> YamlList:
        build = self.build
        result = YamlList([build(child) for child in node.value])
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_BYTE_ORDER_MARKS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32 too


def read_yaml(path: Path) -> Any:
    """Read one YAML document; errors carry the line they were found on.

    libyaml reads the file's bytes as they are: a text made of them first would be decoded
    from UTF-8 and encoded again, a tenth of the parsing. Bytes libyaml might read otherwise
    than the text (a byte order mark: libyaml would take UTF-16; a carriage return, which
    reading text turns into a line break) and every document the events' way is unsure of
    (invalid UTF-8 included) are read as text, as before."""
    data = path.read_bytes()
    if b"\r" not in data and not data.startswith(_BYTE_ORDER_MARKS):
        found = _by_events_in_c(data) if _IN_C else _by_events(data)
        if found is not _UNSURE:
            return found
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise YamlSyntaxError("the file is not UTF-8 text", 1) from error
    try:
        return _load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(str(error.problem or error), line) from error
    except yaml.YAMLError as error:
        raise YamlSyntaxError(str(error), 1) from error


def as_date(value: Any) -> date | None:
    """A date as YAML gives it (a date, a timestamp, or text like 2026-11-30); None otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
