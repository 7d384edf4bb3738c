"""A fake Twilio REST API on 127.0.0.1, for the real twilio client to talk to; and what
Twilio does with a webhook's TwiML answer (it sends the messages in it)."""

from __future__ import annotations

import asyncio
import base64
import time
import xml.etree.ElementTree as ElementTree
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
    created_at: dict[str, float] = field(default_factory=dict)  # sid -> time created
    lookups: int = 0  # how many times the messages were listed
    #: Seconds between taking a message (recorded) and answering: a bot killed meanwhile
    #: never learns that its message went.
    answer_delay: float = 0.0

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                ),
                Route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    self._list_messages,
                    methods=["GET"],
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
        self.created_at[sid] = time.time()
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
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

    async def _list_messages(self, request: Request) -> JSONResponse:
        """Messages to and from the given numbers, newest first (as Twilio lists them)."""
        if not self._authorized(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        self.lookups += 1
        query = request.query_params
        found = [
            message
            for message in reversed(self.messages)
            if message.get("To") == query.get("To", message.get("To"))
            and message.get("From") == query.get("From", message.get("From"))
        ][: int(query.get("PageSize", "50"))]
        return JSONResponse(
            {
                "messages": [
                    {
                        "sid": message["Sid"],
                        "account_sid": request.path_params["sid"],
                        "from": message.get("From"),
                        "to": message.get("To"),
                        "body": message.get("Body"),
                        "status": "sent",
                        "date_created": time.strftime(
                            "%a, %d %b %Y %H:%M:%S +0000",
                            time.gmtime(self.created_at[message["Sid"]]),
                        ),
                    }
                    for message in found
                ],
                "uri": str(request.url.path),
                "page": 0,
                "page_size": len(found),
                "first_page_uri": str(request.url.path),
                "next_page_uri": None,
                "previous_page_uri": None,
            }
        )

    def add_sent(self, form: dict[str, str]) -> str:
        """A message Twilio accepted although the bot never heard back (it died meanwhile)."""
        sid = f"SM{len(self.messages):032x}"
        self.messages.append({**form, "Sid": sid})
        self.created_at[sid] = time.time()
        return sid

    def take_answer(self, form: dict[str, str], status: int, content_type: str, text: str) -> int:
        """What Twilio does with a webhook's answer to the message ``form``: a 200 with TwiML
        sends each ``<Message>`` to the sender, in order; how many. Twilio parses it as XML:
        anything not well formed fails here as it would there (error 12100)."""
        if status != 200:
            return 0
        assert content_type.split(";")[0].strip() in ("text/xml", "application/xml"), content_type
        root = ElementTree.fromstring(text)
        assert root.tag == "Response", text
        for message in root:
            assert message.tag == "Message", text
            body = message.find("Body")
            # <Message>text</Message> is the short form of <Message><Body>text</Body>.
            text_of = body.text if body is not None else message.text
            self.add_sent(
                {"From": form["To"], "To": form["From"], "Body": text_of or "", "Via": "twiml"}
            )
        return len(root)

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("To") == f"whatsapp:{phone}"]

    async def wait_for(self, predicate: Any, seconds: float = 10.0) -> None:
        await wait_until(predicate, seconds, lambda: f"messages so far: {len(self.messages)}")
