"""The YAML reader: built in one pass from libyaml's nodes, the same as PyYAML's constructors."""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import yamlfile
from bot.content.yamlfile import YamlDict, YamlList, YamlSyntaxError, _LineLoader, read_yaml

# CI builds the C reader (.ci/run installs libyaml-dev) and sets this: there a reader that was
# not built fails its tests instead of skipping them.
C_READER_REQUIRED = bool(os.environ.get("SPORTELLO_REQUIRE_C_YAML"))
needs_c_reader = pytest.mark.skipif(
    not yamlfile._C_BUILT and not C_READER_REQUIRED,
    reason="the C reader is not built (libyaml-dev and a C compiler, then make install)",
)

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
    if isinstance(mine, float) and mine != mine:  # .nan: equal to nothing, itself included
        return bool(theirs != theirs)
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
        ("a: x\nb: " + "1" * 5000 + "\n", "put it in quotes to keep it as text", 2),
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


#: Documents the events' way reads itself (no anchor, tag or mistake): each must give what
#: the nodes' way gives, to the types, values, order and lines.
PLAIN_DOCUMENTS = [
    *(
        text
        for name, text in DOCUMENTS.items()
        if name not in ("anchors and aliases", "other tags")
    ),
    "a: yes\nb: 'yes'\nc: \"no\"\nd: on\ne: Off\nf: y\ng: n\n",
    "a: 010\nb: 0o10\nc: 0x1F\nd: 0b101\ne: 1_000\nf: 190:20:30\ng: '010'\nh: +12\n",
    "a: 1e3\nb: 1.0e+3\nc: .NaN\nd: -.inf\ne: 6.8523015e+5\nf: 1.\n",
    "a: ~\nb: null\nc: Null\nd:\ne: ''\nf: '~'\n",
    "a: 2025-03-01\nb: 2025-3-1\nc: 2001-12-14t21:59:43.10-05:00\nd: 2025-02-30\n",
    'a: "2025-03-01"\nb: 2025-03-01 10:00:00\n',
    "- |\n  literal\n    kept\n\n- >\n  folded\n  lines\n\n  para\n- |-\n  strip\n- >+\n  keep\n\n",
    "a: 'it''s'\nb: \"tab\\there \\u00e8 \\x41\"\nc: plain with 'quotes' and \"more\"\n",
    "a: a long\n  plain text\n  on lines\nb: 'single\n\n  folded'\n",
    "ar: مرحبا بك\nzh: 你好\nbn: হ্যালো\nuk: Привіт\nur: خوش آمدید\nemoji: 😟 ok\n",
    "{a: 1, b: [x, y, {c: d}], 'e': \"f\"}\n",
    "list:\n- a\n- b\nother:\n  - - nested\n    - twice\n  -\n  - last\n",
    "# a comment\n\nkey: value # trailing\n\n# end\n",
    "---\na: 1\n...\n",
    "---\n",
    "42\n",
    "? a\n: b\n? c\n",
    "1: a\n1.5: b\nfalse: c\n0x10: d\n",
]


@pytest.mark.parametrize("text", PLAIN_DOCUMENTS)
def test_the_events_give_what_the_nodes_give(text: str) -> None:
    from bot.content.yamlfile import _from_events, _load_nodes

    loader = _LineLoader(text)
    try:
        mine = _from_events(loader)
    finally:
        loader.dispose()
    assert _same(mine, _load_nodes(text))


@pytest.mark.parametrize(
    "text",
    [
        "first: &x {a: 1}\nsecond: *x\n",
        "s: !!set {a, b}\n",
        "str: !!str 12\n",
        "a: ! 12\n",
        "a: 1\nb: 2\na: 3\n",
        "~: x\n",
        "? [1, 2]\n: x\n",
        "a: 1\n---\nb: 2\n",
        "a: [1, 2\nb: 3\n",
        "<<: {b: 1}\n",
        "a: 1\n\tb: 2\n",
    ],
)
def test_the_events_leave_to_the_nodes_what_they_are_not_sure_of(text: str) -> None:
    """Anchors, tags, repeated or odd keys, several documents, mistakes: read the nodes' way,
    which gives the values (or the error, at its line) as before."""
    from bot.content.yamlfile import _from_events, _Unsure

    loader = _LineLoader(text)
    try:
        with pytest.raises((_Unsure, yaml.YAMLError)):
            _from_events(loader)
    finally:
        loader.dispose()


def test_a_number_too_long_for_python_leaves_the_events_way_unsure() -> None:
    """Python refuses to convert more than 4,300 digits (ValueError): the nodes' way reads the
    file again and reports the value at its line (see the mistakes above)."""
    assert yamlfile._by_events(b"a: x\nb: " + b"9" * 5000 + b"\n") is yamlfile._UNSURE


def test_the_repository_content_is_read_from_the_events() -> None:
    """Every shipped file takes the quick way: none needs the nodes' second reading."""
    from bot.content.yamlfile import _from_events, _load_nodes

    for path in sorted(Path("content").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        loader = _LineLoader(text)
        try:
            assert _same(_from_events(loader), _load_nodes(text)), path
        finally:
            loader.dispose()


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\nb: [x\n",  # a repeated key before a syntax error: the syntax error
        "a: 1\na: 2\n",
        "a: x\n---\nb: y\n",
        "a: 2026-11-30\nb: &x {c: 1}\nc: *y\n",
        "a: |\n  text\n b: 1\n",
    ],
)
def test_a_mistake_is_reported_as_the_nodes_report_it(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.content import yamlfile

    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path)
    monkeypatch.setattr(yamlfile, "_load", yamlfile._load_nodes)
    with pytest.raises(YamlSyntaxError) as before:
        read_yaml(path)
    assert (caught.value.message, caught.value.line) == (before.value.message, before.value.line)


@pytest.mark.parametrize(
    "data",
    [
        b"a: x\nb: [1, 2]\nc: |\n  two\n  lines\n",
        b"a: x\r\nb: |\r\n  two\r\n  lines\r\nc: 'folded\r\n  here'\r\n",  # Windows
        b"a: x\rb: y\r",  # old Mac line breaks
        codecs.BOM_UTF8 + "a: è\nb: 1\n".encode(),
        "a: مرحبا\nb: 你好 😟\n".encode(),
        "a: x\x85b: y\u2028c: z\n".encode(),  # YAML's other line breaks
    ],
)
def test_the_bytes_are_read_as_the_text_was(tmp_path: Path, data: bytes) -> None:
    """libyaml reads the file's bytes; what it gives is what reading the text gave."""
    from bot.content.yamlfile import _load_nodes

    path = tmp_path / "file.yaml"
    path.write_bytes(data)
    try:
        expected: Any = _load_nodes(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        expected = type(error)
    try:
        found: Any = read_yaml(path)
    except YamlSyntaxError as error:
        found = type(error.__cause__)
    assert _same(found, expected)


@pytest.mark.parametrize(
    "data",
    [
        "a: è\n".encode("latin-1"),
        codecs.BOM_UTF16_LE + "a: x\n".encode("utf-16-le"),  # libyaml would read it
        codecs.BOM_UTF16_BE + "a: x\n".encode("utf-16-be"),
        b"a: \xed\xa0\x80\n",  # a surrogate, encoded
        b"a: \xc0\xaf\n",  # an overlong sequence
    ],
)
def test_what_is_not_utf8_is_still_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "file.yaml"
    path.write_bytes(data)
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path)
    assert (caught.value.message, caught.value.line) == ("the file is not UTF-8 text", 1)


def test_a_control_character_is_refused_as_before(tmp_path: Path) -> None:
    """The text's reader names it (the line is not known: the file's first)."""
    path = tmp_path / "file.yaml"
    path.write_bytes(b"a: x\nb: y\x07\n")
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path)
    assert caught.value.message.startswith("unacceptable character #x0007")
    assert '"<unicode string>", position 9' in caught.value.message
    assert caught.value.line == 1


def test_mutated_content_reads_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shipped files with random slips (a character in, a character out, a line repeated):
    the values, lines and errors read_yaml gives are those of the nodes' way on the text."""
    import random

    from bot.content import yamlfile

    def outcome(path: Path) -> Any:
        try:
            return read_yaml(path)
        except YamlSyntaxError as error:
            return ("error", error.message, error.line)

    def as_before(path: Path) -> Any:
        def unsure(*_: Any) -> Any:
            raise yamlfile._Unsure

        with monkeypatch.context() as patch:
            patch.setattr(yamlfile, "_from_events", unsure)
            patch.setattr(yamlfile, "_IN_C", False)
            return outcome(path)

    def in_python(path: Path) -> Any:
        with monkeypatch.context() as patch:
            patch.setattr(yamlfile, "_IN_C", False)
            return outcome(path)

    slips = [
        b": ",
        b"- ",
        b" ",
        b"\t",
        b"'",
        b'"',
        b"&a ",
        b"*a",
        b"!!str ",
        b"\n",
        b" #",
        b"\r",
        b"\x07",
        b"[",
        b"{",
        b"? ",
        b"yes",
        b"010",
        b"~",
        b"2025-02-30",
        b"\xff",
        b"|\n",
    ]
    rng = random.Random(21)
    sources = [path.read_bytes() for path in sorted(Path("content").rglob("*.yaml"))]
    path = tmp_path / "file.yaml"
    for _ in range(300):
        lines = rng.choice(sources).split(b"\n")
        start = rng.randrange(len(lines))
        data = bytearray(b"\n".join(lines[start : start + rng.randint(3, 40)]))
        where = rng.randrange(len(data) + 1)
        if rng.random() < 0.6:
            data[where:where] = rng.choice(slips)
        else:
            del data[where : where + rng.randint(1, 3)]
        path.write_bytes(bytes(data))
        expected = as_before(path)
        assert _same(outcome(path), expected), bytes(data)  # in C where it is built
        assert _same(in_python(path), expected), bytes(data)


# The reader in C (bot/content/_yamlevents.c): what the Python events' way gives, or unsure.


def _in_c(data: bytes) -> Any:
    if not yamlfile._C_BUILT:
        pytest.fail("the C reader is not built: SPORTELLO_REQUIRE_C_YAML is set")
    return yamlfile._by_events_in_c(data)


def test_the_c_reader_is_used_where_it_is_built() -> None:
    if C_READER_REQUIRED:
        assert yamlfile._C_BUILT, "the C reader is not built"
    assert yamlfile._IN_C is yamlfile._C_BUILT


@needs_c_reader
@pytest.mark.parametrize("text", PLAIN_DOCUMENTS)
def test_the_c_reader_gives_what_the_nodes_give(text: str) -> None:
    from bot.content.yamlfile import _load_nodes

    assert _same(_in_c(text.encode()), _load_nodes(text))


@needs_c_reader
@pytest.mark.parametrize(
    "text",
    [
        "first: &x {a: 1}\nsecond: *x\n",
        "list: &y [1, 2]\n",
        "s: !!set {a, b}\n",
        "str: !!str 12\n",
        "a: ! 12\n",
        "m: !!map {a: 1}\n",
        "%YAML 1.1\n---\na: 1\n",
        "%TAG !e! tag:example.com,2000:\n---\na: 1\n",
        "a: 1\nb: 2\na: 3\n",
        "1: a\n1.0: b\n",  # the same key, as Python compares them
        "~: x\n",
        "2026-11-30: x\n",
        "? [1, 2]\n: x\n",
        "? {a: 1}\n: x\n",
        "a: 1\n---\nb: 2\n",
        "a: [1, 2\nb: 3\n",
        "a: 1\n\tb: 2\n",
        "<<: {b: 1}\n",
        "a: =\n",
        "a: " + "9" * 5000 + "\n",
        "a: \udcff\n",  # the byte 0xff, not UTF-8
    ],
)
def test_the_c_reader_leaves_to_the_nodes_what_it_is_not_sure_of(text: str) -> None:
    assert _in_c(text.encode("utf-8", "surrogateescape")) is yamlfile._UNSURE


@needs_c_reader
def test_the_c_reader_reads_the_repository_content_and_test_data() -> None:
    from bot.content.yamlfile import _load_nodes

    paths = sorted(Path("content").rglob("*.yaml")) + sorted(Path("tests").rglob("*.yaml"))
    for path in paths:
        found = _in_c(path.read_bytes())
        assert found is not yamlfile._UNSURE, path
        assert _same(found, _load_nodes(path.read_text(encoding="utf-8"))), path


def _nested_mappings(levels: int) -> bytes:
    return b"".join(b"  " * level + b"k:\n" for level in range(levels)) + b"  " * levels + b"v\n"


@needs_c_reader
@pytest.mark.parametrize(
    ("data", "in_c"),
    [
        (b"[" * 999 + b"]" * 999, True),
        (b"- " * 999 + b"x\n", True),
        (_nested_mappings(999), True),
        (b"[" * 1000 + b"]" * 1000, False),  # PyYAML reads it: in Python, then
        (b"- " * 1000 + b"x\n", False),  # PyYAML refuses it
        (_nested_mappings(1000), False),
        (b"[" * 100_000 + b"]" * 100_000, False),  # at once, not after libyaml's minute
    ],
)
def test_the_c_reader_leaves_deep_nesting_to_pyyaml(data: bytes, in_c: bool) -> None:
    """PyYAML's libyaml refuses more than 1000 levels, the system's may not: past 999 levels
    the Python way reads the file, and says what PyYAML says."""
    import sys

    found = _in_c(data)
    if in_c:
        assert found is not yamlfile._UNSURE
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(10_000)  # _same recurses, once per level
        try:
            assert _same(found, yamlfile._by_events(data))
        finally:
            sys.setrecursionlimit(limit)
    else:
        assert found is yamlfile._UNSURE


#: Pieces of YAML for random documents: indentation, indicators, quotes, numbers, dates, words
#: that are something else, anchors, tags, non-Latin text.
_PIECES = st.sampled_from(
    [
        "\n",
        "  ",
        "- ",
        ": ",
        "? ",
        "#",
        "'",
        '"',
        "[",
        "]",
        "{",
        "}",
        ", ",
        "|",
        ">",
        "a",
        "key",
        "yes",
        "No",
        "null",
        "~",
        "on",
        "12",
        "0x1F",
        "1.5",
        ".inf",
        "2026-11-30",
        "2026-13-45",
        "1:30",
        "&a ",
        "*a",
        "!!str ",
        "! ",
        "<<",
        "=",
        "---\n",
        "...\n",
        "\t",
        "مرحبا",
        "你好",
        "😟",
        "\u2028",
        "\\",
        "%YAML 1.1\n",
    ]
)


@needs_c_reader
@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_random_documents_read_in_c_as_in_python(text: str) -> None:
    data = text.encode()
    in_c = _in_c(data)
    in_python = yamlfile._by_events(data)
    if in_c is yamlfile._UNSURE or in_python is yamlfile._UNSURE:
        assert in_c is in_python
    else:
        assert _same(in_c, in_python)


def test_only_listed_words_starting_with_a_letter_are_something_else_than_text() -> None:
    """What the C reader is told of the resolvers: the words of true/false and null."""
    assert {
        *("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE"),
        *("false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"),
        *("null", "Null", "NULL"),
    } == yamlfile._WORDS
    assert set(yamlfile._FIRST.decode()) == set(yamlfile._IMPLICIT) - {""}


def test_resolvers_of_another_shape_keep_the_reading_in_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    changed = dict(yamlfile._IMPLICIT)
    changed["y"] = (("tag:yaml.org,2002:bool", re.compile("^(?:y.*)$")),)
    monkeypatch.setattr(yamlfile, "_IMPLICIT", changed)
    assert yamlfile._for_c() is None
    changed["y"] = (("tag:yaml.org,2002:bool", re.compile("^(?:yes|no)$", re.IGNORECASE)),)
    assert yamlfile._for_c() is None  # "YES" would be true, and it is not in the list
