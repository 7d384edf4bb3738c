"""This module contains the web chat's tokens: made at random, kept by the browser, hashed here.

A token is 256 random bits, so its plain SHA-256 is as good as any keyed hash: nobody can
find a token from its hash, and the database (logs, backups) never holds a token that would
let someone read or continue a conversation.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(value: str) -> bool:
    """Whether ``value`` has the shape of a token we made (a forged one is just a new user)."""
    return _TOKEN.fullmatch(value) is not None


def user_id(token: str) -> str:
    """The user id a token stands for: what sessions, bookings and the mailbox store."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if it is a token at all."""
    scheme, _, value = (header or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and is_token(value) else None
