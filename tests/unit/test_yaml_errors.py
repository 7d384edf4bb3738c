"""YAML mistakes in plain words: each common one planted in the real content, found at its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content.loader import ContentIssue, validate
from bot.content.yaml_errors import dash_in_value, explain
from tests.conftest import REPO_CONTENT


def plant(path: Path, old: str, new: str) -> int:
    """Replace the line ``old`` by ``new``; the 1-based number of the line changed."""
    lines = path.read_text(encoding="utf-8").split("\n")
    number = lines.index(old)
    lines[number] = new
    path.write_text("\n".join(lines), encoding="utf-8")
    return number + 1


def the_error(root: Path) -> ContentIssue:
    errors = validate(root).errors  # today: the real content was reviewed recently
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


LOST = "topics/permit_lost.yaml"
YAML_SIGNS = [
    ": ",
    "-",
    "\t",
    '"',
    "'",
    "[",
    "]",
    "{",
    "}",
    "\n ",
    "\n",
    " ",
    "#",
    "|",
    "&",
    "*",
    "?",
]
COSTS = "topics/permit_renewal_costs.yaml"


@pytest.mark.parametrize(
    ("file", "old", "new", "message", "hint"),
    [
        pytest.param(
            LOST,
            "  en: Lost or stolen permit",
            "  en: Lost or stolen: what to do",
            "a colon followed by a space (': ') inside a text",
            'put the whole text in double quotes: en: "Lost or stolen: what to do"',
            id="colon in a text",
        ),
        pytest.param(
            COSTS,
            "  - human: true",
            "  -human: true",
            "'-' without a space after it",
            "write a dash and a space before the item: - human: true",
            id="dash without space (a YAML error)",
        ),
        pytest.param(
            COSTS,
            "  - D.Lgs. 286/1998 art. 5",
            "  -D.Lgs. 286/1998 art. 5",
            "'-' without a space after it: YAML reads '-D.Lgs. 286/1998 art. 5' as a text",
            "write a dash and a space before the item: - D.Lgs. 286/1998 art. 5",
            id="dash without space (valid YAML, not a list)",
        ),
        pytest.param(
            LOST,
            "  fr: Titre de séjour perdu ou volé",
            "\tfr: Titre de séjour perdu ou volé",
            "a tab at the start of this line",
            "indent with spaces",
            id="tab",
        ),
        pytest.param(
            LOST,
            "  en: Lost or stolen permit",
            '  en: "Lost or stolen permit',
            'a quote (") opens here and is not closed on this line',
            'add the closing " at the end of the text on this line',
            id="unclosed double quote",
        ),
        pytest.param(
            LOST,
            "  en: Lost or stolen permit",
            "  en: 'Lost or stolen permit",
            "a quote (') opens here and is not closed on this line",
            "write an apostrophe twice",
            id="unclosed single quote",
        ),
        pytest.param(
            LOST,
            "  en: Lost or stolen permit",
            "   en: Lost or stolen permit",
            "this line is indented by 3 spaces, line 5 by 2",
            "indent this line by 2 spaces, like line 5",
            id="indented too far",
        ),
        pytest.param(
            LOST,
            "  en: Lost or stolen permit",
            " en: Lost or stolen permit",
            "this line is indented by 1 space, line 5 by 2",
            "indent this line by 2 spaces",
            id="indented too little",
        ),
        pytest.param(
            LOST,
            "  en: Lost or stolen permit",
            "en: Lost or stolen permit",
            "this line is indented by no spaces, line 5 by 2",
            "indent this line by 2 spaces",
            id="not indented",
        ),
        pytest.param(
            LOST,
            "  it: Permesso perso o rubato",
            "   it: Permesso perso o rubato",
            "this line is indented by 3 spaces, line 6 by 2",
            "indent this line by 2 spaces, like line 6",
            id="the first line of a block indented too far",
        ),
        pytest.param(
            LOST,
            "  it: Permesso perso o rubato",
            " it: Permesso perso o rubato",
            "this line is indented by 1 space, line 6 by 2",
            "indent this line by 2 spaces, like line 6",
            id="the first line of a block indented too little",
        ),
        pytest.param(
            COSTS,
            "    - **16 euro** di marca da bollo (si compra dal tabaccaio);",
            "  - **16 euro** di marca da bollo (si compra dal tabaccaio);",
            "this line is indented by 2 spaces, the text it belongs to by 4 (line 17)",
            "indent this line by 4 spaces, like the other lines of the text",
            id="a line of a long text indented too little",
        ),
    ],
)
def test_each_common_mistake_gets_its_hint_at_its_line(
    repo_content_copy: Path, file: str, old: str, new: str, message: str, hint: str
) -> None:
    line = plant(repo_content_copy / file, old, new)
    error = the_error(repo_content_copy)
    assert (error.file, error.line) == (file, line), str(error)
    assert message in error.message
    assert error.hint is not None and hint in error.hint
    assert error.column is not None
    assert new[error.column] in "\t-'\": ei" and "mapping values" not in error.message


@pytest.mark.parametrize(
    ("old", "new", "line", "message", "hint"),
    [
        pytest.param(
            "  en: Lost or stolen permit",
            "  en:Lost or stolen permit",
            6,
            "no space after the colon of 'en'",
            "write a space after the colon: en: Lost or stolen permit",
            id="no space after a key's colon",
        ),
        pytest.param(
            "  - url: https://questure.poliziadistato.it/it/Firenze/articolo/5730dceb2c175873493366",
            "  - url:https://questure.poliziadistato.it/it/Firenze/articolo/5730dceb2c175873493366",
            200,
            "no space after the colon of 'url'",
            "write a space after the colon: url: https://",
            id="no space after the colon of a list item's key",
        ),
        pytest.param(
            "title:",
            "title",
            4,
            "'title' has no colon after it",
            "write a colon after the key: title:",
            id="no colon",
        ),
        pytest.param(
            "  en: Lost or stolen permit",
            '  en: "Lost" or stolen permit',
            6,
            'text goes on after the closing quote (")',
            """put the whole text in ' quotes: en: '"Lost" or stolen permit'""",
            id="text after a closing quote",
        ),
    ],
)
def test_other_slips_are_named_too(
    repo_content_copy: Path, old: str, new: str, line: int, message: str, hint: str
) -> None:
    assert plant(repo_content_copy / LOST, old, new) == line
    error = the_error(repo_content_copy)
    assert (error.file, error.line) == (LOST, line), str(error)
    assert message in error.message
    assert error.hint is not None and hint in error.hint


def test_an_unclosed_quote_is_found_where_it_opened_not_where_yaml_stops(
    repo_content_copy: Path,
) -> None:
    line = plant(
        repo_content_copy / LOST, "  en: Lost or stolen permit", '  en: "Lost or stolen permit'
    )
    error = the_error(repo_content_copy)
    assert error.line == line == 6
    assert error.column == 6  # the quote itself
    assert 'up to the next " (line 26)' in error.message  # where PyYAML would have said


def test_an_unclosed_bracket_is_found_where_it_opened(repo_content_copy: Path) -> None:
    path = repo_content_copy / COSTS
    text = path.read_text(encoding="utf-8")
    old = "'130,46', pagamento kit, 30 euro poste]"
    path.write_text(text.replace(old, old[:-1], 1), encoding="utf-8")
    error = the_error(repo_content_copy)
    assert (error.line, error.column) == (148, 6)
    assert error.message == "a bracket ([) opens here and is not closed on this line"


def test_the_caret_points_at_the_colon_in_the_text() -> None:
    mistake = explain("title:\n  it: Permesso\n  en: Permit: lost\n")
    assert mistake is not None
    assert (mistake.line, mistake.column) == (3, 12)


def test_valid_yaml_has_nothing_to_explain() -> None:
    assert explain("a: 1\nb: [x, y]\nc: |\n  -not a list item: inside a text\n") is None


def test_a_dash_inside_a_long_text_is_not_a_mistake() -> None:
    text = "answer:\n  it: |\n    -non e una lista\n    - e questa riga neppure\n"
    assert dash_in_value(text, 1) is None
    assert dash_in_value("law:\n  -L. 91/1992\n", 1) is not None
    assert dash_in_value("law:\n  - L. 91/1992\n", 1) is None
    assert dash_in_value("a: -1\nb: x\n", 1) is None


@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2000), st.sampled_from(YAML_SIGNS)),
        min_size=1,
        max_size=4,
    )
)
def test_any_slip_is_explained_without_failing(edits: list[tuple[int, str]]) -> None:
    text = (REPO_CONTENT / LOST).read_text(encoding="utf-8")[:2000]
    for position, sign in edits:
        text = text[:position] + sign + text[position:]
    mistake = explain(text)
    if mistake is not None:
        assert 1 <= mistake.line <= text.count("\n") + 2
        assert mistake.column >= 0 and mistake.message and mistake.hint


@pytest.mark.parametrize("character", ["\x01", "\x0b", "\x7f"])
def test_a_control_character_pasted_in_is_named_at_its_line(
    repo_content_copy: Path, character: str
) -> None:
    """YAML's reader refuses it before reading any line (no mark): it was a traceback."""
    line = plant(
        repo_content_copy / LOST,
        "  en: Lost or stolen permit",
        f"  en: Lost or{character} stolen permit",
    )
    error = the_error(repo_content_copy)
    assert (error.file, error.line, error.column) == (LOST, line, len("  en: Lost or"))
    assert "invisible character" in error.message
    assert error.hint is not None and "pasted" in error.hint
