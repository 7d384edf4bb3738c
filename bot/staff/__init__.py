"""This package contains the staff console, channel-neutral: the rules of the commands the
staff group types (``/oggi``, ``/cerca``, ``/esporta``, ``/chiudi``, ...), their replies to the
bot's messages and the buttons they tap. It answers with ``StaffAnswer`` objects (text in the
project's markup, buttons as ``(choice id, label)`` rows, a file as bytes and a name) that each
channel renders; it imports no platform library.
"""

from bot.staff.answers import StaffAnswer, StaffFile
from bot.staff.console import Command, StaffConsole

__all__ = ["Command", "StaffAnswer", "StaffConsole", "StaffFile"]
