"""This module contains instance holders for tests of leases and of what reads them."""

from __future__ import annotations

import subprocess
import sys

from bot.storage.instance import new_holder


def dead_holder() -> str:
    """The holder id of an instance of this machine whose process has ended (a kill -9)."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host, namespace, _pid, token = new_holder().split(":")
    return f"{host}:{namespace}:{ended.pid}:{token}"
