"""A fake Twilio REST API on 127.0.0.1, for the real twilio client to talk to."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.waiting import wait_until

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SENDER = "whatsapp:+390000000001"


@dataclass
class FakeTwilio:
    """Records messages created; can answer with an error a given number of times."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses to answer before succeeding
    attempts: int = 0
    account_status: str = "active"  # what fetching the account reports: active, suspended...

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                ),
                Route("/2010-04-01/Accounts/{sid}.json", self._fetch_account, methods=["GET"]),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    async def _fetch_account(self, request: Request) -> JSONResponse:
        if not self._authorized(request) or request.path_params["sid"] != ACCOUNT_SID:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        return JSONResponse(
            {
                "sid": ACCOUNT_SID,
                "friendly_name": "Sportello test account",
                "status": self.account_status,
                "type": "Full",
            }
        )

    async def _create_message(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        self.attempts += 1
        if self.failures:
            status = self.failures.pop(0)
            return JSONResponse(
                {"code": 20500, "message": "Internal error", "status": status}, status
            )
        form = {
            key: value for key, value in (await request.form()).items() if isinstance(value, str)
        }
        sid = f"SM{len(self.messages):032x}"
        self.messages.append({**form, "Sid": sid})
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": request.path_params["sid"],
                "from": form.get("From"),
                "to": form.get("To"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            },
            status_code=201,
        )

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("To") == f"whatsapp:{phone}"]

    async def wait_for(self, predicate: Any, seconds: float = 10.0) -> None:
        await wait_until(predicate, seconds, lambda: f"messages so far: {len(self.messages)}")
