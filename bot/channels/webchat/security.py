"""This module contains the web chat's guards: where it may be embedded, who may call it.

The page and the assets carry a Content-Security-Policy that allows nothing but this server;
the page may be framed only by the configured origins (``frame-ancestors``), and the API
answers cross-origin calls only from them (CORS). A call from any other origin is refused
on the server too: a browser enforces CORS, but a refusal here does not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.requests import Request

#: The chat page: its own script, style and API, nothing else; images only as data (icons).
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
)
#: A script or stylesheet opened on its own: it runs nothing and may not be framed.
ASSET_POLICY = "default-src 'none'; frame-ancestors 'none'"


def page_headers(allowed_origins: Sequence[str]) -> dict[str, str]:
    ancestors = " ".join(["'self'", *allowed_origins])
    return {
        "Content-Security-Policy": PAGE_POLICY.format(ancestors=ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def asset_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": ASSET_POLICY,
        "X-Content-Type-Options": "nosniff",
        # Any page may load the widget's script and style (a page sending COEP needs this).
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Cache-Control": "public, max-age=300",
    }


def origin_allowed(request: Request, allowed_origins: Sequence[str]) -> bool:
    """Whether the calling page may use the API: no Origin (not a browser's cross-origin
    call), this server's own host (the chat page), or a configured origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin in allowed_origins:
        return True
    # Behind a proxy the scheme we see may differ from the browser's: the host decides.
    host = request.headers.get("host")
    return host is not None and urlsplit(origin).netloc == host


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts the proxy's client there when told to trust it)."""
    return request.client.host if request.client is not None else "unknown"
