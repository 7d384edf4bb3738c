"""This module contains plain-words explanations of YAML mistakes, for the people who edit content.

PyYAML says "mapping values are not allowed here", or reports an unclosed quote where the text
it swallowed ends, many lines later. The editors are social workers, not programmers: this
module finds the line that holds the mistake, names it in words and says how to fix the five
commonest ones (a colon inside a text, a missing space after ``-``, a tab, an unclosed quote,
wrong indentation).

It reads the text again with PyYAML's Python scanner, whose tokens carry exact positions, and
runs only for files that failed: loading good content never pays for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.tokens import (
    BlockEntryToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    KeyToken,
    ScalarToken,
    Token,
)

#: "- " is a list item; "-D.Lgs." or "-url:" at the start of a line is text that was meant to be
#: one. "---" (a document marker) and "-1" (a negative number) are not mistakes.
_DASH_WITHOUT_SPACE = re.compile(r"^(\s*)-(?=[^\s\-\d])")
# The key at the start of a line ("  en: ", "  - url: "): where its colon is.
_LEADING_KEY = re.compile(r"^(\s*(?:-\s+)?)([^\s#'\"{\[][^:#]*?|'[^']*'|\"[^\"]*\"):(?=\s|$)")
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")

Mark = yaml.Mark


@dataclass(frozen=True)
class YamlMistake:
    """Where a mistake is (1-based line, 0-based column), what it is and how to fix it."""

    line: int
    column: int
    message: str
    hint: str


def explain(text: str) -> YamlMistake | None:
    """The mistake that keeps ``text`` from being read as YAML, or None if it reads."""
    lines = text.splitlines()
    try:
        tokens, error = _tokens_and_error(text)
    except yaml.reader.ReaderError as unreadable:
        return _unreadable_character(text, unreadable)
    if error is None or error.problem_mark is None:
        return None
    problem = error.problem_mark
    context = error.context_mark
    if problem.line >= len(lines):  # at the end of the file: an empty line stands for it
        lines.append("")
    for find in (
        _tab,
        _unclosed_quote,
        _unclosed_bracket,
        _text_line_outdented,
        _text_after_quote,
        _dash,
        _key_without_colon_space,
        _colon_or_indentation,
        _indentation,
    ):
        try:
            mistake = find(lines, tokens, error, problem, context)
        except (IndexError, ValueError):  # a shape not foreseen: YAML's own words below
            mistake = None
        if mistake is not None:
            return mistake
    return YamlMistake(
        problem.line + 1,
        problem.column,
        f"YAML cannot read this line ({error.problem})",
        "compare it with a line of the same kind in another file of this folder",
    )


def dash_in_value(text: str, line: int) -> YamlMistake | None:
    """A list item without its space ("-D.Lgs. 286/1998") in the value of the key on ``line``.

    Such a file is valid YAML, so only the check of the field notices ("must be a list"), on
    the key's line: the mistake is on a line below it.
    """
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    key_indent = _indent(lines[line - 1])
    if _BLOCK_SCALAR.search(lines[line - 1]):
        return None
    for number in range(line + 1, len(lines) + 1):
        current = lines[number - 1]
        if not current.strip() or current.lstrip().startswith("#"):
            continue
        if _indent(current) < key_indent or (
            _indent(current) == key_indent and not current.lstrip().startswith("-")
        ):
            return None
        if _BLOCK_SCALAR.search(current):
            return None
        if _DASH_WITHOUT_SPACE.match(current):
            return _dash_mistake(current, number)
    return None


def _unreadable_character(text: str, error: yaml.reader.ReaderError) -> YamlMistake:
    """A control character (a vertical tab or the like, pasted from Word or a PDF): YAML's
    reader refuses it before any line is read, and says so without a line."""
    before = text[: error.position]
    line = before.count("\n") + 1
    column = error.position - (before.rfind("\n") + 1)
    code = error.character if isinstance(error.character, int) else ord(str(error.character))
    return YamlMistake(
        line,
        column,
        f"an invisible character YAML does not accept (U+{code:04X}) is in this line",
        "delete it: it often comes with text pasted from Word or a PDF; if you cannot see "
        "it, delete the words around the caret and type them again",
    )


def _tokens_and_error(text: str) -> tuple[list[Token], yaml.MarkedYAMLError | None]:
    """Every token read before the first error, and that error (from the scanner or parser)."""
    tokens: list[Token] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            tokens.append(token)
    except yaml.MarkedYAMLError as error:
        return tokens, error
    try:
        for _event in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.MarkedYAMLError as error:
        # The scanner read on; the parser stopped here: what came after is not evidence.
        end = error.problem_mark.index if error.problem_mark is not None else len(text)
        return [token for token in tokens if token.start_mark.index <= end], error
    return tokens, None


def _tab(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    for number, line in enumerate(lines[: problem.line + 1], start=1):
        blank = line[: len(line) - len(line.lstrip())]
        if "\t" in blank:
            return YamlMistake(
                number,
                blank.index("\t"),
                "a tab at the start of this line: YAML lines up text with spaces only",
                "delete the tab and indent with spaces, as many as the lines around it "
                "(2 per level); most editors can be set to type spaces for the Tab key",
            )
    return None


def _unclosed_quote(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    if error.context == "while scanning a quoted scalar" and context is not None:
        return _quote_mistake(lines, context, None)
    # The scanner took everything up to the next quote of the same kind as one text (often an
    # apostrophe, or the quotes around a word in another language); the parser failed just
    # after it. The quote opened at the start of that text.
    for token in reversed(tokens[-3:]):
        if (
            isinstance(token, ScalarToken)
            and token.style in ('"', "'")
            and token.end_mark.line > token.start_mark.line
            and token.end_mark.line <= problem.line
        ):
            return _quote_mistake(lines, token.start_mark, token.end_mark.line + 1)
    return None


def _quote_mistake(lines: list[str], start: Mark, closed_on: int | None) -> YamlMistake:
    quote = lines[start.line][start.column] if start.column < len(lines[start.line]) else '"'
    swallowed = (
        f"up to the next {quote} (line {closed_on})" if closed_on else "to the end of the file"
    )
    return YamlMistake(
        start.line + 1,
        start.column,
        f"a quote ({quote}) opens here and is not closed on this line: YAML reads everything "
        f"{swallowed} as one text",
        f"add the closing {quote} at the end of the text on this line, or remove the opening "
        "one (a text needs quotes only when it holds ': ' or starts with a special sign)"
        + ("; inside '...' write an apostrophe twice: 'l''ufficio'" if quote == "'" else ""),
    )


def _unclosed_bracket(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    """A list written as ``[a, b`` without its ``]`` (or ``{`` without ``}``) on that line."""
    opened: list[Token] = []
    for token in tokens:
        if isinstance(token, FlowSequenceStartToken | FlowMappingStartToken):
            opened.append(token)
        elif isinstance(token, FlowSequenceEndToken | FlowMappingEndToken) and opened:
            opened.pop()
    if not opened or opened[0].start_mark.line >= problem.line:
        return None
    start = opened[0].start_mark
    bracket = lines[start.line][start.column]
    closing = "]" if bracket == "[" else "}"
    return YamlMistake(
        start.line + 1,
        start.column,
        f"a bracket ({bracket}) opens here and is not closed on this line",
        f"end the list with {closing} on this line: [first, second, third]",
    )


def _text_line_outdented(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    """A line of a long text (``it: |``) indented less than the text: YAML ends the text there
    and reads the line, and the rest of the text, as keys."""
    texts = [
        token
        for token in tokens
        if isinstance(token, ScalarToken)
        and token.style in ("|", ">")
        and token.end_mark.line <= problem.line
    ]
    if not texts:
        return None
    text = texts[-1]
    body = [n for n in range(text.start_mark.line + 1, text.end_mark.line) if lines[n].strip()]
    if not body:
        return None
    indent = _indent(lines[body[0]])
    outdented = _next_significant(lines, text.end_mark.line - 1)
    if outdented is None or outdented > problem.line or _indent(lines[outdented]) >= indent:
        return None
    resumes = _next_significant(lines, outdented)
    if resumes is None or _indent(lines[resumes]) < indent:
        return None  # the text really ended: the next key is the mistake's place, not this
    return YamlMistake(
        outdented + 1,
        _indent(lines[outdented]),
        f"this line is indented by {_spaces(_indent(lines[outdented]))}, the text it belongs "
        f"to by {indent} (line {body[0] + 1}): YAML ends the text on the line above",
        f"indent this line by {_spaces(indent)}, like the other lines of the text",
    )


def _text_after_quote(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    """``en: "Lost" or stolen``: a text that starts with a quote ends where the quote closes."""
    if not tokens:
        return None
    last = tokens[-1]
    quoted = [
        token
        for token in tokens[-3:]
        if isinstance(token, ScalarToken)
        and token.style in ('"', "'")
        and token.end_mark.line == problem.line
        and token.end_mark.column <= problem.column
    ]
    if not quoted or last.start_mark.line != problem.line:
        return None
    start = quoted[-1].start_mark
    line = lines[start.line]
    quote = line[start.column]
    # The other kind of quote keeps the editor's quotes as part of the text.
    other = "'" if quote == '"' else '"'
    return YamlMistake(
        start.line + 1,
        start.column,
        f"text goes on after the closing quote ({quote}): a text that starts with a quote "
        "must end with it",
        f"put the whole text in {other} quotes: "
        f"{line[: start.column].strip()} {other}{line[start.column :].strip()}{other}",
    )


def _key_without_colon_space(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    """``en:Lost`` (no space after the colon) or ``title`` (no colon): YAML finds no key."""
    if error.context != "while scanning a simple key" or context is None:
        return None
    line = lines[context.line]
    glued = _glued_key(line, context.line + 1)
    if glued is not None:
        return glued
    bare = re.match(r"^\s*(?:-\s+)?([\w-]+)\s*$", line)
    if bare:
        return YamlMistake(
            context.line + 1,
            len(line.rstrip()),
            f"{bare.group(1)!r} has no colon after it",
            f"write a colon after the key: {bare.group(1)}:",
        )
    return None


def _glued_key(line: str, number: int) -> YamlMistake | None:
    """``en:Lost`` or ``- url:https://...``: a key and its value with no space between."""
    glued = re.match(r"^(\s*(?:-\s+)?)([a-z_]+):(?=[^\s/])", line)
    if glued is None:
        return None
    return YamlMistake(
        number,
        glued.end(),
        f"no space after the colon of {glued.group(2)!r}: YAML reads the whole line as one text",
        f"write a space after the colon: {glued.group(2)}: {_short(line[glued.end() :].strip())}",
    )


def _dash(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    first = context.line if context is not None else max(0, problem.line - 3)
    for token in tokens:
        if (
            isinstance(token, ScalarToken)
            and token.plain
            and first <= token.start_mark.line <= problem.line
            and token.value.startswith("-")
        ):
            line = lines[token.start_mark.line]
            if line[: token.start_mark.column].strip() == "" and _DASH_WITHOUT_SPACE.match(line):
                return _dash_mistake(line, token.start_mark.line + 1)
    # The scanner stopped on the text itself ("-quanto costa" among "- ..." items).
    for mark in (context, problem):
        if mark is not None and mark.line < len(lines):
            line = lines[mark.line]
            if _DASH_WITHOUT_SPACE.match(line) and _indent(line) == mark.column:
                return _dash_mistake(line, mark.line + 1)
    return None


def _dash_mistake(line: str, number: int) -> YamlMistake:
    indent = _indent(line)
    item = line.strip()[1:]
    return YamlMistake(
        number,
        indent,
        f"'-' without a space after it: YAML reads {_short(line.strip())!r} as a text, not as "
        "an item of a list",
        f"write a dash and a space before the item: - {_short(item)}",
    )


def _colon_or_indentation(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    if not str(error.problem).startswith("mapping values are not allowed"):
        return None
    line = lines[problem.line]
    key = _LEADING_KEY.match(line)
    first_colon = key.end() - 1 if key else -1
    if problem.column == first_colon:
        # The line is a key of its own, but the text on the line above swallowed it: that line
        # lacks the space after its colon, or one of the two is indented wrongly.
        above = [number for number in _line_starts(lines, tokens) if number < problem.line]
        if above:
            glued = _glued_key(lines[above[-1]], above[-1] + 1)
            if glued is not None:
                return glued
        return _misaligned(lines, tokens, problem.line)
    if key is None:
        return YamlMistake(
            problem.line + 1,
            problem.column,
            "a colon followed by a space (': ') inside a text: YAML takes the words before it "
            "for a key",
            "put the whole text in double quotes",
        )
    value = line[key.end() :].strip()
    return YamlMistake(
        problem.line + 1,
        problem.column,
        "a colon followed by a space (': ') inside a text: YAML takes the words before it "
        "for a new key",
        f"put the whole text in double quotes: {line[: key.end()].strip()} {_quoted(value)}",
    )


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _spaces(count: int) -> str:
    return {0: "no spaces", 1: "1 space"}.get(count, f"{count} spaces")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _indentation(
    lines: list[str],
    tokens: list[Token],
    error: yaml.MarkedYAMLError,
    problem: Mark,
    context: Mark | None,
) -> YamlMistake | None:
    wording = f"{error.context} {error.problem}"
    if not any(
        word in wording
        for word in (
            "block end",
            "expected key",
            "'-' indicator",
            "block mapping",
            "block collection",
        )
    ):
        return None
    return _misaligned(lines, tokens, problem.line)


def _misaligned(lines: list[str], tokens: list[Token], index: int) -> YamlMistake:
    """The line near ``index`` (0-based) whose indentation fits neither neighbour."""
    starts = _line_starts(lines, tokens)
    above = [number for number in starts if number < index]
    blamed = index
    if above:
        previous = above[-1]
        before = above[-2] if len(above) > 1 else None
        # "en:" pushed to the left between "it:" and "fr:": the line above is the odd one.
        if (
            before is not None
            and _indent(lines[before]) == _indent(lines[index])
            and _indent(lines[previous]) != _indent(lines[index])
            and not lines[before].rstrip().endswith(":")
        ):
            blamed = previous
        # "it:" pushed to the right as the first line under "title:", its siblings below in
        # step with each other: the first line is the odd one, not the second.
        following = _next_significant(lines, index)
        if (
            before is not None
            and lines[before].rstrip().endswith(":")
            and _indent(lines[before]) < min(_indent(lines[index]), _indent(lines[previous]))
            and _indent(lines[previous]) != _indent(lines[index])
            and following is not None
            and _indent(lines[following]) == _indent(lines[index])
        ):
            blamed = previous
    reference = _reference(lines, starts, blamed)
    indent = _indent(lines[blamed])
    if reference is None:
        return YamlMistake(
            blamed + 1,
            indent,
            f"this line is indented by {_spaces(indent)}, which fits no line above it",
            "line it up with the other lines of its block (2 spaces per level)",
        )
    other = _indent(lines[reference])
    return YamlMistake(
        blamed + 1,
        indent,
        f"this line is indented by {_spaces(indent)}, line {reference + 1} by {other}: "
        "the lines of one block must start in the same column",
        f"indent this line by {_spaces(other)}, like line {reference + 1} "
        "(2 spaces per level; never tabs)",
    )


def _reference(lines: list[str], starts: list[int], blamed: int) -> int | None:
    """The line the blamed one should line up with: its sibling above, else the one below."""
    above = [number for number in starts if number < blamed]
    if above:
        previous = lines[above[-1]]
        parent = previous.rstrip().endswith(":") and _indent(previous) < _indent(lines[blamed])
        if not parent and _indent(previous) != _indent(lines[blamed]):
            return above[-1]
    following = _next_significant(lines, blamed)
    if following is not None and _indent(lines[following]) != _indent(lines[blamed]):
        return following
    return None


def _line_starts(lines: list[str], tokens: list[Token]) -> list[int]:
    """The lines that begin a key or a list item (not lines inside a long text), 0-based."""
    starts = set()
    for token in tokens:
        if isinstance(token, KeyToken | BlockEntryToken | ScalarToken):
            line = token.start_mark.line
            if line < len(lines) and lines[line][: token.start_mark.column].strip() == "":
                starts.add(line)
    return sorted(starts)


def _next_significant(lines: list[str], index: int) -> int | None:
    for number in range(index + 1, len(lines)):
        stripped = lines[number].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
