"""This module contains the reading of posted forms, as webhooks (Twilio's) post them."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

URLENCODED = "application/x-www-form-urlencoded"


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's text fields (the last of a repeated name, as Starlette's form gives).

    Twilio posts URL-encoded forms: the standard library's parser reads one in a fraction of
    what Starlette's streaming parser (python-multipart) costs, the same fields and values;
    any other body goes through Starlette's.
    """
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == URLENCODED:
        body = (await request.body()).decode("latin-1")
        return dict(parse_qsl(body, keep_blank_values=True))
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
