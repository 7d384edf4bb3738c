"""This module contains targeted edits of a YAML file's text that keep everything else as it was.

Translations are written back into files people edit by hand: their comments, blank lines, key
order, flow mappings (``status: {it: reviewed, en: draft}``) and block answers must stay byte for
byte. So no YAML library re-emits the file: the file is parsed once for the position of each node,
and only the characters of the values that change are replaced (or a new entry inserted after
its neighbour), last edit first so that the earlier positions stay right.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode


class EditError(Exception):
    """The file's shape does not allow the edit (a value that is not a mapping, say)."""


@dataclass
class YamlEditor:
    """The text of one YAML document and the edits to make to it."""

    text: str
    root: MappingNode = field(init=False)
    _edits: list[tuple[int, int, int, str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        # The pure-Python composer: its marks count characters, which the slicing below needs.
        node = yaml.compose(self.text, Loader=yaml.SafeLoader)
        if not isinstance(node, MappingNode):
            raise EditError("the file is not a mapping of keys to values")
        self.root = node

    def mapping(self, key: str, parent: MappingNode | None = None) -> MappingNode | None:
        """The mapping under ``key`` (of the root, or of ``parent``), or None if there is none."""
        value = self.value(key, parent)
        if value is None:
            return None
        if not isinstance(value, MappingNode):
            raise EditError(f"{key!r} is not a mapping")
        return value

    def value(self, key: str, parent: MappingNode | None = None) -> Node | None:
        for key_node, value_node in (parent or self.root).value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                found: Node = value_node
                return found
        return None

    def set(
        self, mapping: MappingNode, key: str, value: str, order: Sequence[str], block: bool = False
    ) -> None:
        """Give ``key`` of ``mapping`` the text ``value``: in place when the key is there, else
        as a new entry after the last key that comes before it in ``order``. ``block`` writes
        a literal block (``|``), as answers are."""
        found = self.value(key, mapping)
        if isinstance(found, ScalarNode):
            start, end = found.start_mark.index, found.end_mark.index
            if found.style in ("|", ">"):
                end = _content_end(self.text, start, end)
            indent = _column(self.text, mapping.start_mark.index) + 2
            if not mapping.flow_style:
                indent = _key_column(self.text, mapping, key) + 2
            if found.style in ('"', "'") and "\n" not in value:
                rendered = quoted_scalar(value, found.style)  # as the editor wrote it
            else:
                rendered = self._render(value, block or found.style in ("|", ">"), mapping, indent)
            self._edit(start, end, rendered)
            return
        if found is not None:
            raise EditError(f"{key!r} holds a list or a mapping, not a text")
        self._insert(mapping, key, value, order, block)

    def replace_node(self, key: str, rendered: str, after: str | None = None) -> None:
        """Replace the whole entry ``key:`` of the root with ``rendered`` (whole lines); if it is
        not there, insert it after the entry ``after`` (or at the end of the file)."""
        for key_node, value_node in self.root.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                start = _line_start(self.text, key_node.start_mark.index)
                end = _entry_end(self.text, value_node)
                # A comment or blank line after the entry belongs to what follows: it stays.
                lines = self.text[start:end].splitlines(keepends=True)
                while len(lines) > 1 and lines[-1].strip() in ("", *_comment(lines[-1])):
                    end -= len(lines.pop())
                self._edit(start, end, rendered)
                return
        position = len(self.text)
        for key_node, value_node in self.root.value:
            if isinstance(key_node, ScalarNode) and key_node.value == after:
                position = _entry_end(self.text, value_node)
        prefix = "" if position == 0 or self.text[position - 1] == "\n" else "\n"
        self._edit(position, position, prefix + rendered)

    def result(self) -> str:
        """The text with every edit made."""
        text = self.text
        # Last first, so that earlier positions hold; at one position, in the order asked.
        for start, end, _, replacement in sorted(self._edits, key=lambda e: (-e[0], -e[2])):
            text = text[:start] + replacement + text[end:]
        return text

    def _edit(self, start: int, end: int, replacement: str) -> None:
        self._edits.append((start, end, len(self._edits), replacement))

    def _insert(
        self, mapping: MappingNode, key: str, value: str, order: Sequence[str], block: bool
    ) -> None:
        keys = [k.value for k, _ in mapping.value if isinstance(k, ScalarNode)]
        rank = {name: i for i, name in enumerate(order)}
        before = [i for i, name in enumerate(keys) if rank.get(name, len(order)) < rank.get(key, 0)]
        position_of = before[-1] if before else len(keys) - 1
        if not mapping.value:
            raise EditError("an empty mapping cannot be extended in place")
        _, neighbour = mapping.value[position_of]
        if mapping.flow_style:
            at = neighbour.end_mark.index
            self._edit(at, at, f", {key}: {self._render(value, False, mapping, 0)}")
            return
        indent = _key_column(self.text, mapping, keys[position_of])
        at = _entry_end(self.text, neighbour)
        if isinstance(neighbour, ScalarNode) and neighbour.style in ("|", ">"):
            at = _content_end(self.text, neighbour.start_mark.index, neighbour.end_mark.index)
        rendered = self._render(value, block, mapping, indent + 2)
        line = f"{' ' * indent}{key}: {rendered}"
        self._edit(at, at, line if line.endswith("\n") else line + "\n")

    def _render(self, value: str, block: bool, mapping: MappingNode, indent: int) -> str:
        if block and not mapping.flow_style:
            return literal_block(value, indent)
        return inline_scalar(value, flow=bool(mapping.flow_style))


def literal_block(value: str, indent: int) -> str:
    """``|`` and the text's lines, indented; it ends with a line break, as the parser's span."""
    lines = value.strip("\n").split("\n")
    head = "|" if not lines[0].startswith((" ", "\t")) else "|2"
    body = "".join(f"{' ' * indent}{line.rstrip()}\n" if line.strip() else "\n" for line in lines)
    return f"{head}\n{body}"


def inline_scalar(value: str, flow: bool = False) -> str:
    """The text as YAML on one line: bare when YAML reads it back as the same text, else in
    double quotes (JSON's string syntax is YAML's double-quoted one)."""
    if "\n" not in value and value == value.strip() and value:
        document = f"{{k: {value}}}" if flow else f"k: {value}"
        try:
            if yaml.safe_load(document) == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def quoted_scalar(value: str, quote: str) -> str:
    """The text in single quotes (a quote doubled) or in double quotes (JSON's escapes)."""
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def _comment(line: str) -> tuple[str, ...]:
    return (line.strip(),) if line.lstrip().startswith("#") else ()


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _column(text: str, index: int) -> int:
    return index - _line_start(text, index)


def _key_column(text: str, mapping: MappingNode, key: str) -> int:
    for key_node, _ in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return _column(text, key_node.start_mark.index)
    return _column(text, mapping.start_mark.index)


def _content_end(text: str, start: int, end: int) -> int:
    """The end of a block scalar's last line that holds text: the blank lines after it stay."""
    span = text[start:end].rstrip(" \n")
    last = start + len(span)
    newline = text.find("\n", last)
    return end if newline == -1 or newline >= end else newline + 1


def _entry_end(text: str, value: Node) -> int:
    """Where the line after a value starts (a block value's span already ends at one)."""
    end = value.end_mark.index
    if end > 0 and text[end - 1] == "\n":
        return end
    newline = text.find("\n", end)
    return len(text) if newline == -1 else newline + 1
