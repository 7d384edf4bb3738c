"""The staff console's answers: a dialogue step's buttons as rows of (choice id, label)."""

from __future__ import annotations

from bot.staff import StaffAnswer
from bot.staff.answers import Step


def test_a_step_becomes_rows_of_its_width() -> None:
    step = Step("Chi?", (("A", "a"), ("B", "b"), ("C", "c")), columns=2)
    assert StaffAnswer.of(step) == StaffAnswer("Chi?", ((("a", "A"), ("b", "B")), (("c", "C"),)))


def test_a_step_without_buttons_is_its_text() -> None:
    assert StaffAnswer.of(Step("Fatto.", columns=0)) == StaffAnswer("Fatto.")
