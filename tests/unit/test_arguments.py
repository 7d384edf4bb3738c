"""Every bad argument of every ``sportello`` command: one plain line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def _bad(tmp_path: Path) -> list[tuple[list[str], str]]:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("notes")
    return [
        (["stats", "--from", "2026-13-01"], "'2026-13-01' is not a date: write it as YYYY-MM-DD"),
        (["stats", "--to", "yesterday"], "'yesterday' is not a date"),
        (["stats", "--office", " "], "argument --office: it is empty"),
        (["report", "--out", str(tmp_path)], f"{tmp_path} is a folder: give the name of a file"),
        (
            ["report", "--out", str(tmp_path / "missing" / "r.html")],
            f"the folder {tmp_path / 'missing'} does not exist",
        ),
        (["report", "--out", "r.html", "--from", "31/12/2026"], "'31/12/2026' is not a date"),
        (["content", "check", "--stale-days", "-5"], "-5 is negative: give 0 or more days"),
        (["content", "check", "--stale-days", "many"], "'many' is not a whole number"),
        (["content", "check", "--law", " "], "argument --law: it is empty"),
        (["content", "check", str(tmp_path / "nowhere")], "does not exist: give a folder"),
        (["content", "train", str(a_file)], "notes.txt is a file: give a folder"),
        (["outbox", "retry", "--hours", "-1"], "'-1' is not a number of hours greater than 0"),
        (["outbox", "retry", "--hours", "nan"], "'nan' is not a number of hours greater than 0"),
        (["outbox", "retry", "--hours", "a day"], "'a day' is not a number of hours"),
        (["unanswered", "--days", "0"], "0 is too small: give 1 or more"),
        (["unanswered", "--days", "-3"], "-3 is too small"),
        (["backup", str(tmp_path), "--keep", "0"], "0 is too small: give 1 or more"),
        (["chat", "--user", ""], "argument --user: it is empty"),
        (["chat", "--lang", " "], "argument --lang: it is empty"),
        (["ask", ""], "argument question: it is empty"),
        (["ask", "ciao", "--lang", ""], "argument --lang: it is empty"),
    ]


def test_every_bad_argument_is_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for arguments, expected in _bad(tmp_path):
        with pytest.raises(SystemExit) as stopped:
            main(arguments)
        assert stopped.value.code == 2, arguments
        errors = capsys.readouterr().err
        last = errors.strip().splitlines()[-1]
        assert last.startswith(f"sportello {arguments[0]}"), errors
        assert expected in last, (arguments, last)
        assert "Traceback" not in errors and "invalid" not in last  # not "invalid fromisoformat"


def test_good_arguments_still_pass(tmp_path: Path) -> None:
    from bot import arguments

    assert str(arguments.day(" 2026-03-31 ")) == "2026-03-31"
    assert arguments.hours("1.5") == 1.5
    assert arguments.days_or_none("0") == 0
    assert arguments.count("14") == 14
    assert arguments.new_file(str(tmp_path / "report.html")) == tmp_path / "report.html"
    assert arguments.folder(str(tmp_path)) == tmp_path
