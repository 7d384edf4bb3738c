"""This module contains the identity of a running instance (a process using the database):
its holder id in leases, turns and stored updates, and whether a holder's process is gone."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path


def new_holder() -> str:
    """An id for this process's instance: the machine, the process namespace and id (so
    that an instance on this machine can tell a holder whose process is gone), and a random
    part (a process id comes back one day)."""
    return f"{socket.gethostname()}:{_namespace()}:{os.getpid()}:{secrets.token_hex(4)}"


def _namespace() -> str:
    """The process id namespace (containers on one machine each have theirs); "-" if unknown."""
    try:
        return str(Path("/proc/self/ns/pid").stat().st_ino)
    except OSError:
        return "-"


def is_gone(holder: str) -> bool:
    """Whether ``holder`` is an instance of this machine and namespace whose process has
    ended (killed: it could not let go of its leases). Unknown holders are not gone."""
    parts = holder.split(":")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, namespace, pid, _token = parts
    if host != socket.gethostname() or namespace == "-" or namespace != _namespace():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, under another user
    return False
