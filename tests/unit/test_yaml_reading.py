"""The YAML reader: built in one pass from libyaml's nodes, the same as PyYAML's constructors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.yamlfile import YamlDict, YamlList, YamlSyntaxError, _LineLoader, read_yaml

DOCUMENTS = {
    "texts and lines": "id: a\ntitle:\n  it: Ciao\n  en: 'Hi'\nkeywords: [uno, due]\n",
    "scalars of every kind": (
        "n: 12\nf: 1.5\noctal: 0332\nyes: true\nno: off\nnothing: ~\nwhen: 2026-11-30\n"
        "stamp: 2026-11-30 10:00:00\nbad_date: 2026-13-45\nquoted: '12'\nblock: |\n  a\n  b\n"
    ),
    "keys that are numbers": "1: one\n2.5: two\nfalse: three\n",
    "lists of mappings": "sources:\n  - url: https://a.it\n    read: 2026-11-30\n  - url: b\n",
    "anchors and aliases": "first: &x {a: 1}\nsecond: *x\nlist: &y [1, 2]\nagain: *y\n",
    "other tags": "s: !!set {a, b}\nb: !!binary aGVsbG8=\nstr: !!str 12\no: !!omap [a: 1]\n",
    "empty": "",
    "a bare text": "just words\n",
    "nested lists": "- [1, [2, [3]]]\n- {a: [x, {b: c}]}\n",
}


def _same(mine: Any, theirs: Any) -> bool:
    if type(mine) is not type(theirs):
        return False
    if isinstance(mine, YamlDict):
        return (mine.line, mine.key_lines, list(mine)) == (
            theirs.line,
            theirs.key_lines,
            list(theirs),
        ) and all(_same(mine[key], theirs[key]) for key in mine)
    if isinstance(mine, YamlList):
        return (mine.line, mine.item_lines) == (theirs.line, theirs.item_lines) and all(
            _same(a, b) for a, b in zip(mine, theirs, strict=True)
        )
    if isinstance(mine, list):
        return len(mine) == len(theirs) and all(
            _same(a, b) for a, b in zip(mine, theirs, strict=True)
        )
    return bool(mine == theirs)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_reading_gives_what_the_constructors_gave(tmp_path: Path, name: str) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(DOCUMENTS[name], encoding="utf-8")
    assert _same(read_yaml(path), yaml.load(DOCUMENTS[name], Loader=_LineLoader))


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a'", 3),
        ("a:\n  - x\n  - {b: 1, b: 2}\n", "duplicate key 'b'", 3),
        ("? [1, 2]\n: x\n", "a key must be a plain word", 1),
        ("~: x\n", "a key must be a plain word", 1),
        ("a: !custom 1\n", "could not determine a constructor", 1),
        ("a: &x [*x]\n", "recursive", 1),
        ("a: [1, 2\nb: 3\n", "", 2),
    ],
)
def test_mistakes_keep_their_message_and_line(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path)
    assert message in caught.value.message
    assert caught.value.line == line


def test_the_repository_content_reads_as_before() -> None:
    for path in sorted(Path("content").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert _same(read_yaml(path), yaml.load(text, Loader=_LineLoader)), path


@pytest.mark.parametrize(
    "text",
    [
        "a: ''",
        "a: ~",
        "a:",
        "a: null",
        "a: yes",
        "a: No",
        "a: true",
        "a: 0332536727",
        "a: -1.5e3",
        "a: .inf",
        "a: 2026-11-30",
        "a: 2026-13-45",
        "a: '2026-11-30'",
        "a: 12:30",
        "a: permesso",
        "a: [1, x, true]",
        "<<: {b: 1}",
        "a: =",
    ],
)
def test_the_loaders_resolver_gives_pyyamls_tags(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader's shorter ``resolve`` reads every kind of scalar as PyYAML's own does."""
    from bot.content.yamlfile import _load

    def read() -> str:
        try:
            return repr(_load(text))
        except Exception as error:  # the same error, then
            return type(error).__name__

    found = read()
    monkeypatch.setattr(_LineLoader, "resolve", yaml.resolver.BaseResolver.resolve)
    assert found == read()
