"""This module contains what the staff console answers: a text, buttons, a file."""

from __future__ import annotations

from dataclasses import dataclass

#: A button: its choice id (what a tap sends back to the console) and its label.
Button = tuple[str, str]


@dataclass(frozen=True)
class Step:
    """A step of a staff dialogue (``/registra``, a request's buttons): a text, and buttons
    as ``(label, data)`` when the dialogue goes on."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    columns: int = 2  # buttons in a row


@dataclass(frozen=True)
class StaffFile:
    """A file for the staff group (an export): its bytes and its name."""

    data: bytes
    name: str


@dataclass(frozen=True)
class StaffAnswer:
    """What to show the staff group: a text in the project's markup, rows of buttons, a file.

    An answer with a file and no text is the file alone.
    """

    text: str = ""
    rows: tuple[tuple[Button, ...], ...] = ()
    file: StaffFile | None = None

    @classmethod
    def of(cls, step: Step) -> StaffAnswer:
        """A dialogue step (its buttons as ``(label, data)``, so many to a row) as an answer."""
        buttons = [(data, label) for label, data in step.buttons]
        width = max(step.columns, 1)
        rows = tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))
        return cls(step.text, rows)
