"""This module contains the WhatsApp channel, through Twilio.

Inbound: Twilio posts each message to our webhook, signed; we check the signature, skip
retries of a message already handled, ask the engine, and answer with the replies in the
webhook's TwiML: Twilio sends them, with no REST call and no outbox row of ours.
Outbound through the outbox: everything else (reminders, staff answers, notices, a reply not
ready in time, one that needs a template, one to a message left over from a crash); the
worker sends it with twilio's asynchronous client, in order per user, retrying when Twilio is
unavailable. WhatsApp allows free text only within 24 hours of the user's last message (a
reply is always inside it); later, only a pre-approved template.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.booking.ical import link_matches, link_token
from bot.channels.base import Handler, InboundStore, OutboxStore, Reach, SeenStore
from bot.channels.flood import FloodControl, Verdict
from bot.channels.formatting import split_message
from bot.channels.forms import form_fields
from bot.channels.twiml import twiml
from bot.config import Settings
from bot.content.markup import spans
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.i18n import STAFF_LANGUAGE, Interface, bidi_text
from bot.notice import REPLY, Notice
from bot.notify.leadership import Leadership
from bot.notify.worker import Meter, NoMeter, OutboxWorker, SendError

log = logging.getLogger(__name__)
# Twilio's client can log request bodies (phone numbers, messages): never below WARNING.
logging.getLogger("twilio").setLevel(logging.WARNING)

CHANNEL = "whatsapp"
MESSAGE_LIMIT = 1600
#: Seconds the webhook waits for a message's replies: Twilio gives up on a webhook after 15.
#: Replies ready later go through the outbox.
REPLY_DEADLINE = 10.0
WINDOW_SECONDS = 24 * 3600
TYPED_STAR = "\u2217"

# A first guess of the language from the phone's country calling code (confirmed by the
# engine with one question). Longest prefix wins.
COUNTRY_LANGUAGES: Mapping[str, str] = {
    "39": "it",
    "44": "en", "1": "en", "353": "en", "234": "en", "233": "en", "254": "en", "91": "en",
    "33": "fr", "32": "fr", "221": "fr", "223": "fr", "225": "fr", "226": "fr", "227": "fr",
    "228": "fr", "229": "fr", "224": "fr", "237": "fr", "241": "fr", "242": "fr", "243": "fr",
    "212": "ar", "213": "ar", "216": "ar", "218": "ar", "20": "ar", "249": "ar", "222": "ar",
    "963": "ar", "964": "ar", "962": "ar", "961": "ar", "966": "ar", "971": "ar", "967": "ar",
    "34": "es", "52": "es", "54": "es", "51": "es", "57": "es", "58": "es", "56": "es",
    "53": "es", "591": "es", "593": "es", "595": "es", "598": "es", "502": "es", "503": "es",
    "504": "es", "505": "es", "506": "es", "507": "es", "1809": "es", "1829": "es", "1849": "es",
    "355": "sq", "383": "sq",
    "380": "uk",
    "92": "ur",
    "86": "zh",
    "880": "bn",
}  # fmt: skip


def guess_language(phone: str) -> str | None:
    digits = phone.lstrip("+")
    for length in range(4, 0, -1):
        language = COUNTRY_LANGUAGES.get(digits[:length])
        if language is not None:
            return language
    return None


def to_whatsapp(text: str) -> str:
    """Content markup to WhatsApp's: ``**bold**`` becomes ``*bold*``; no HTML ever. WhatsApp
    has no escape: a star in typed text (a name, a staff reply) becomes the look-alike "∗"
    (U+2217), so that it cannot make WhatsApp's bold."""
    return "".join(f"*{run}*" if bold else run for run, bold in spans(text, _typed_star))


def _typed_star(char: str) -> str:
    return TYPED_STAR if char == "*" else char


#: How many of a number's latest messages are looked at to find what an attempt cut short by
#: a crash sent (the attempt's own parts: a notice has a few at most).
LOOKUP_LIMIT = 20
#: Twilio's clock against ours (and its whole seconds): a message created this much before
#: the attempt began still counts as the attempt's.
CLOCK_SLACK_SECONDS = 30.0


class _Answer:
    """A webhook waiting for its message's replies, to send them back in its TwiML."""

    __slots__ = ("bodies", "claimed", "waiting")

    def __init__(self) -> None:
        #: The webhook still waits: the replies may go in its answer.
        self.waiting = True
        #: The replies go in the answer (the message is being marked answered): the webhook
        #: waits for them even past its deadline, a database trip at most.
        self.claimed = False
        self.bodies: list[str] = []


@dataclass
class _Went:
    """A message Twilio holds for a recipient, sent since an attempt left in doubt."""

    sid: str
    body: str


LIST_BODY_LIMIT = 1024  # characters WhatsApp allows in the body of a list message
LIST_ITEM_LIMIT = 24  # characters of a list item's title


def render_as_list(
    reply: Reply, templates: Mapping[str, str], button: str
) -> tuple[str, dict[str, str]] | None:
    """A reply as a list-picker message, when a template for its number of choices exists.

    ``TWILIO_TEMPLATE_CHOICES_<N>`` names a list-picker content template with N items whose
    variables are: 1 the body, 2 the button, then for item k: 2k+1 its title, 2k+2 its id.
    """
    template = templates.get(f"choices_{len(reply.choices)}")
    if template is None or not reply.choices:
        return None  # before rendering the body: most replies are not lists
    body = bidi_text(to_whatsapp(reply.text), reply.rtl)
    if len(body) > LIST_BODY_LIMIT:
        return None
    variables = {"1": body, "2": button[:LIST_ITEM_LIMIT]}
    for number, choice in enumerate(reply.choices, 1):
        variables[str(2 * number + 1)] = choice.label[:LIST_ITEM_LIMIT]
        variables[str(2 * number + 2)] = choice.id
    return template, variables


TEMPLATE_VARIABLE_LIMIT = 1000


def template_variable(value: str) -> str:
    """A value WhatsApp accepts in a template: no new lines or tabs, no long runs of spaces;
    stars (a staff reply's) as look-alikes, as in any typed text, so they make nothing bold."""
    return " ".join(value.replace("*", TYPED_STAR).split())[:TEMPLATE_VARIABLE_LIMIT]


def render(reply: Reply, hint: str) -> list[str]:
    """A reply as WhatsApp messages: choices as a numbered list with a one-line hint."""
    text = to_whatsapp(reply.text)
    if reply.choices:
        # No padding: "* 1.*" would not be bold on WhatsApp, and its font is proportional.
        lines = [f"*{number}.* {choice.label}" for number, choice in enumerate(reply.choices, 1)]
        text = f"{text}\n\n" + "\n".join(lines) + f"\n\n_{hint}_"
    return [bidi_text(part, reply.rtl) for part in split_message(text, MESSAGE_LIMIT)]


class SignedFields(dict[str, str]):
    """A form as twilio's validator reads it fastest: for each field it tries Flask's
    ``getall``, then Django's ``getlist``, then ``[value]``; a plain dict costs it two
    exceptions a field, twice a request (half of the signature check's time)."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


class _TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # untyped base
    """twilio's asynchronous HTTP client, pointed at TWILIO_API_URL (a fake one in tests).

    It also sends the credentials as a header itself: aiohttp deprecates the ``BasicAuth``
    object the stock client builds.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=30)
        self._base = urlsplit(base_url)

    async def request(
        self, method: str, url: str, *args: Any, auth: tuple[str, str] | None = None, **kwargs: Any
    ) -> TwilioResponse:
        parts = urlsplit(url)
        url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Basic {token}"}
        return await super().request(method, url, *args, **kwargs)


#: An active appointment's calendar file by its code, or None (``bot.app`` builds it).
CalendarFile = Callable[[str], Awaitable[bytes | None]]


class WhatsAppChannel:
    """Receives Twilio webhooks and sends through the outbox."""

    name = CHANNEL
    #: The sender's number is their id; files go as signed links; Meta's 24-hour window.
    reach = Reach(user_id_is_phone=True, files=False, window_hours=24, unprompted=True)

    def __init__(
        self,
        engine: Handler,
        settings: Settings,
        interface: Interface,
        outbox: OutboxStore,
        inbound: SeenStore,
        updates: InboundStore,
        default_language: Callable[[], str],
        staff_alert: Callable[[str], Awaitable[None]] | None = None,
        calendar: CalendarFile | None = None,
        meter: Meter | None = None,
        reply_deadline: float = REPLY_DEADLINE,
        leadership: Leadership | None = None,
    ) -> None:
        if not settings.whatsapp_enabled:
            raise ValueError(
                "WhatsApp needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM"
            )
        self.engine = engine
        self.settings = settings
        self.interface = interface
        self.outbox = outbox
        self.inbound = inbound
        #: Messages stored before Twilio gets its answer, until their turn is saved.
        self.updates = updates
        self.default_language = default_language
        self.staff_alert = staff_alert
        self.calendar = calendar
        self.meter: Meter = meter if meter is not None else NoMeter()
        self.reply_deadline = reply_deadline
        self.validator = RequestValidator(settings.twilio_auth_token)
        self.sender = self._address(settings.twilio_whatsapp_from or "")
        self.flood = FloodControl(settings.whatsapp_rate_limit)
        self.worker = OutboxWorker(
            outbox, CHANNEL, self.send, meter=self.meter, leadership=leadership
        )
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None
        self._left_over: asyncio.Task[None] | None = None
        #: Turns past the webhook's deadline, still going: stopped with the channel.
        self._late: set[asyncio.Future[None]] = set()

    @staticmethod
    def _address(number: str) -> str:
        return number if number.startswith("whatsapp:") else f"whatsapp:{number}"

    @property
    def path(self) -> str:
        return self.settings.whatsapp_webhook_path.rstrip("/") or "/whatsapp"

    @property
    def status_path(self) -> str:
        return f"{self.path}/status"

    def public_url(self, path: str, request_url: str) -> str:
        """The URL Twilio signed: the public one when behind a proxy or tunnel."""
        if self.settings.public_base_url:
            query = urlsplit(request_url).query
            return f"{self.settings.public_base_url}{path}" + (f"?{query}" if query else "")
        return request_url

    def calendar_link(self, filename: str) -> str | None:
        """A link to an appointment's calendar file (WhatsApp sends no such files)."""
        code = filename.removesuffix(".ics")
        if not self.settings.public_base_url or not self.settings.twilio_auth_token:
            return None
        token = link_token(self.settings.twilio_auth_token, code)
        return f"{self.settings.public_base_url}/calendar/{code}.ics?k={token}"

    def routes(self) -> Sequence[BaseRoute]:
        return (
            Route(self.path, self._webhook, methods=["POST"]),
            Route(self.status_path, self._status, methods=["POST"]),
            Route("/calendar/{code}.ics", self._calendar_file, methods=["GET"]),
        )

    def health(self) -> Mapping[str, object]:
        return {}  # Twilio is asked only when sending: the outbox's figures tell its state

    # -- web routes ------------------------------------------------------------------------

    async def _signed_form(self, request: Request, path: str) -> dict[str, str] | None:
        form = await form_fields(request)
        url = self.public_url(path, str(request.url))
        if not self.signature_ok(url, form, request.headers.get("X-Twilio-Signature")):
            return None
        return form

    async def _webhook(self, request: Request) -> Response:
        """Receive one WhatsApp message from Twilio; unsigned requests get 403."""
        form = await self._signed_form(request, self.path)
        if form is None:
            return Response(status_code=403)
        replies = await self.receive(form)
        if replies is None:
            return Response(status_code=400)
        # The live replies: Twilio sends them as the answer to the message (those that
        # cannot go so went to the outbox, which counts its own).
        self.meter.message_sent(CHANNEL, len(replies))
        return Response(twiml(replies), media_type="text/xml")

    async def _status(self, request: Request) -> Response:
        """Receive a delivery report from Twilio (signed too)."""
        form = await self._signed_form(request, self.status_path)
        if form is None:
            return Response(status_code=403)
        await self.delivery_status(form)
        return Response(status_code=204)

    async def _calendar_file(self, request: Request) -> Response:
        """An appointment's calendar file, for the holder of its signed link."""
        secret = self.settings.twilio_auth_token
        code = str(request.path_params["code"]).upper()
        token = request.query_params.get("k", "")
        if self.calendar is None or not secret or not link_matches(secret, code, token):
            return Response(status_code=404)
        invitation = await self.calendar(code)
        if invitation is None:
            return Response(status_code=404)
        return Response(
            invitation,
            media_type="text/calendar",
            headers={
                "Content-Disposition": f'attachment; filename="{code}.ics"',
                "Cache-Control": "private, no-store",  # someone's appointment: no shared cache
            },
        )

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._http = _TwilioHttpClient(self.settings.twilio_api_url)
        self._client = Client(
            self.settings.twilio_account_sid,
            self.settings.twilio_auth_token,
            http_client=self._http,
        )
        self.worker.start()
        self.worker.wake()  # whatever waited in the outbox while we were down
        self._left_over = asyncio.create_task(self._process_left_over())

    async def _process_left_over(self) -> None:
        """Answer the messages a previous run stored and never processed (a crash, a kill),
        then, every few seconds, those of another instance on the database that died."""
        while True:
            try:
                await self._answer_left_over()
            except Exception as error:
                log.warning("whatsapp: cannot look for messages left over (%s)", error)
            await asyncio.sleep(self.settings.lease_renew_seconds)

    async def _answer_left_over(self) -> None:
        left = await self.updates.take_over(CHANNEL)
        if left:
            log.info("whatsapp: processing %d messages left from the last run", len(left))
        for key, form in left:
            try:
                await self._handle({str(name): str(value) for name, value in form.items()}, key)
            except Exception:
                log.exception("whatsapp: a message left from the last run failed")

    async def stop(self) -> None:
        # Stopped half-way, a message stays stored: the next start answers it.
        for task in [self._left_over, *self._late]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):  # logged: done
                    await task
        await self.worker.stop()
        if self._http is not None:
            await self._http.close()

    # -- inbound ---------------------------------------------------------------------------

    def signature_ok(self, url: str, form: Mapping[str, str], signature: str | None) -> bool:
        fields = SignedFields(form)
        return bool(signature) and bool(self.validator.validate(url, fields, signature))

    async def receive(self, form: Mapping[str, str]) -> list[str] | None:
        """Handle one signed inbound message: the texts of the replies for the webhook's
        TwiML (none when they go through the outbox, or for a message answered already);
        None if it is not a message at all."""
        message_id = form.get("MessageSid") or form.get("SmsMessageSid")
        sender = form.get("From", "")
        if not message_id or not sender.startswith("whatsapp:"):
            # Signed, so Twilio's: a change of its fields is worth one line (none of its values).
            log.warning("whatsapp: refused a signed post without MessageSid or whatsapp: sender")
            return None
        # Stored before Twilio hears back: a crash before the turn is saved loses nothing.
        try:
            fresh = stored = await self.updates.keep(CHANNEL, message_id, dict(form))
        except Exception as error:
            # Answering matters more than surviving a crash (a full disk): process it unstored.
            log.error(
                "whatsapp: a message could not be stored (%s); answering anyway", _reason(error)
            )
            fresh, stored = True, False
        if not fresh:
            return []  # a retry of a message answered, or in hand, already
        answer = _Answer()
        # Stored, it was not seen: keep() checked, and holds the only copy until it is done.
        handling = asyncio.ensure_future(self._handle(form, message_id, stored, answer))
        try:
            # Not wait_for: past the deadline the turn goes on, its replies to the outbox.
            await asyncio.wait((handling,), timeout=self.reply_deadline)
            if not handling.done() and not answer.claimed:
                log.warning(
                    "whatsapp: no reply in %.0f s; it goes through the outbox when ready",
                    self.reply_deadline,
                )
                return []
            await handling  # done, or only its marking as answered left: a moment
        finally:
            # Late, or this request cancelled (a shutdown): the replies are not in an answer.
            answer.waiting = False
            if not handling.done():  # its turn goes on; stopped with the channel
                self._late.add(handling)
                handling.add_done_callback(self._late_done)
        return answer.bodies

    def _late_done(self, task: asyncio.Future[None]) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("whatsapp: a late reply failed", exc_info=task.exception())

    async def _handle(
        self,
        form: Mapping[str, str],
        message_id: str,
        unseen: bool = False,
        answer: _Answer | None = None,
    ) -> None:
        phone = form.get("From", "").removeprefix("whatsapp:")
        # One message of a user at a time: a retry racing its original waits, then is skipped.
        lock = self._locks.get(phone)
        if lock is None:
            lock = self._locks[phone] = asyncio.Lock()
        try:
            async with lock:
                recorded = await self._receive(form, phone, message_id, unseen, answer)
        except asyncio.CancelledError:
            raise  # stopped half-way: the next start processes it
        except BaseException:
            await self._done(message_id)  # not again at every start
            raise
        # The outbox marks it done with the replies, in their transaction; an answer in
        # TwiML, before the webhook answers.
        if not recorded:
            await self._done(message_id)

    async def _done(self, message_id: str) -> None:
        try:
            await self.updates.done(CHANNEL, message_id)
        except Exception as error:
            # The user was answered; the next start would answer again unless the database
            # recovers first (its id is then seen already).
            log.error("whatsapp: a message could not be marked done (%s)", _reason(error))

    async def _receive(
        self,
        form: Mapping[str, str],
        phone: str,
        message_id: str,
        unseen: bool,
        answer: _Answer | None,
    ) -> bool:
        """Answer a message; True when it was marked done with its replies (queued, or
        handed to the webhook's answer)."""
        try:
            if not unseen and await self.inbound.seen(CHANNEL, message_id):
                return False  # Twilio retried a message we already answered
            await self.inbound.touch(CHANNEL, phone)
        except Exception as error:
            # The database fails (a full disk): the user is answered all the same, below.
            log.error("whatsapp: an inbound message cannot be recorded (%s)", _reason(error))
        verdict = self.flood.check(phone)
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.WARN:
                t = self.interface.translator(await self.engine.language_of(CHANNEL, phone))
                text = t._(
                    "You are sending messages very quickly. Please wait a minute, then write again."
                )
                return await self._reply(
                    phone, [Notice.reply(CHANNEL, phone, text)], message_id, answer
                )
            return False
        replies = await self.engine.handle(self._incoming(form, phone))
        rendered: list[Notice] = []
        for reply in replies:
            t = self.interface.translator(reply.language)
            listed = render_as_list(reply, self.settings.twilio_templates, t._("Choose"))
            if listed is not None:
                template, variables = listed
                rendered.append(Notice(CHANNEL, phone, "", REPLY, variables, template=template))
                continue
            hint = t._("Reply with the number of your choice.")
            # The erasure's confirmation: the outbox deletes it (and the number) once sent.
            rendered.extend(
                Notice.reply(CHANNEL, phone, part, forget=reply.forget)
                for part in render(reply, hint)
            )
            for attachment in reply.attachments:
                link = self.calendar_link(attachment.filename)
                if attachment.media_type == "text/calendar" and link is not None:
                    text = t._("Add it to your calendar: {link}").format(link=link)
                    rendered.append(Notice.reply(CHANNEL, phone, bidi_text(text, reply.rtl)))
        return await self._reply(phone, rendered, message_id, answer)

    def _incoming(self, form: Mapping[str, str], phone: str) -> Incoming:
        body = form.get("Body", "")
        kind = Kind.TEXT
        choice_id = None
        if form.get("ButtonPayload") or form.get("ListId"):
            # A tap on a quick-reply button or a list item: its id is our choice id.
            kind, choice_id = Kind.CHOICE, form.get("ButtonPayload") or form["ListId"]
        elif form.get("Latitude") and form.get("Longitude"):
            kind = Kind.LOCATION
        elif _int(form.get("NumMedia")) > 0:
            kind = Kind.MEDIA
        return Incoming(
            channel=CHANNEL,
            user_id=phone,
            kind=kind,
            text=body,
            choice_id=choice_id,
            language_guess=guess_language(phone),
        )

    async def _reply(
        self,
        phone: str,
        replies: list[Notice],
        message_id: str,
        answer: _Answer | None,
    ) -> bool:
        """The replies to a message: in the webhook's answer while it waits, else queued.

        A turn with a template (a list picker) goes whole through the outbox: TwiML cannot
        name a template, and the turn's messages must keep their order.
        """
        if (
            answer is None
            or not answer.waiting
            or any(reply.template is not None for reply in replies)
        ):
            return await self._queue(phone, replies, message_id)
        answer.claimed = True
        try:
            fresh = await self.updates.answered(CHANNEL, message_id)
        except Exception as error:
            # Answering matters more (a full disk): the next start answers again, unless the
            # database recovers first (then its id is seen already).
            log.error(
                "whatsapp: a message could not be marked answered (%s); answering anyway",
                _reason(error),
            )
            answer.bodies = [reply.text for reply in replies]
            return False
        if not fresh:
            return True  # answered already (a retry racing the first delivery)
        answer.bodies = [reply.text for reply in replies]
        if any(reply.forget for reply in replies):
            # An erasure's confirmation: the stored message (the number, the text) was just
            # deleted; its old copies leave the WAL too, as when the outbox sends it.
            try:
                await self.updates.forget_copies()
            except Exception as error:
                log.error("whatsapp: the WAL could not be emptied (%s)", _reason(error))
        return True

    async def _queue(self, phone: str, replies: list[Notice], in_reply_to: str | None) -> bool:
        """Queue replies; True if the outbox took them (and marked ``in_reply_to`` done)."""
        try:
            added = await self.outbox.add(CHANNEL, phone, replies, in_reply_to=in_reply_to)
        except Exception as error:
            # The outbox cannot be written (a full disk): send at once, or the user hears
            # nothing at all. Without the outbox there is no retry, so one try each.
            log.error(
                "whatsapp: the outbox cannot be written (%s); answering directly", _reason(error)
            )
            for reply in replies:
                try:
                    await self.send(phone, reply)
                except SendError as failed:
                    log.warning("whatsapp: a direct answer failed: %s", failed.reason)
                    return False
            return False
        if added is None:
            return False  # answered already (a retry racing the first delivery)
        self.worker.wake()
        return True

    async def delivery_status(self, form: Mapping[str, str]) -> None:
        """A signed delivery report; failures (such as 63016, outside the window) are recorded."""
        status = form.get("MessageStatus", "")
        sid = form.get("MessageSid", "")
        if status in ("failed", "undelivered") and sid:
            error = f"{status}: Twilio error {form.get('ErrorCode', '?')}"
            if await self.outbox.mark_delivery_failed(sid, error):
                log.warning("whatsapp: a message was not delivered (%s)", error)

    # -- business-initiated messages -------------------------------------------------------

    async def notify(
        self,
        phone: str,
        text: str,
        purpose: str,
        variables: Mapping[str, str] | None = None,
        language: str | None = None,
    ) -> None:
        """Queue a message the user did not just ask for; see ``_send_notice``."""
        notice = Notice(CHANNEL, phone, text, purpose, dict(variables or {}), language=language)
        await self.outbox.add_notices([notice])
        self.worker.wake()

    def wake(self) -> None:
        self.worker.wake()

    # -- outbound --------------------------------------------------------------------------

    async def send(self, recipient: str, notice: Notice) -> str | None:
        since = notice.in_doubt_since
        # An earlier attempt died before its outcome was recorded: what Twilio accepted
        # then is not sent again (only the parts that did not go).
        went = await self._went_since(recipient, since) if since is not None else None
        if not notice.is_reply:
            return await self._send_notice(recipient, notice, went)
        if notice.template is not None:  # a list picker
            payload = {"content_sid": notice.template, "variables": dict(notice.variables)}
            return await self._send_payload(recipient, payload, went)
        return await self._send_payload(recipient, {"body": notice.text}, went)

    async def _went_since(self, phone: str, since: float) -> list[_Went]:
        """Our messages to ``phone`` Twilio accepted since ``since`` that our outbox does not
        know as sent, oldest first."""
        assert self._client is not None
        try:
            listed = await self._client.messages.list_async(
                to=self._address(phone), from_=self.sender, limit=LOOKUP_LIMIT
            )
        except TwilioRestException as error:
            raise SendError(
                f"Twilio {error.status} looking up a message", retry=True, maybe_sent=True
            ) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(
                f"network: {type(error).__name__} looking up a message", retry=True, maybe_sent=True
            ) from error
        recent = [
            message
            for message in listed
            if message.sid
            and message.status not in ("failed", "undelivered")  # it did not arrive: send
            and (
                message.date_created is None
                or message.date_created.timestamp() >= since - CLOCK_SLACK_SECONDS
            )
        ]
        known = await self.outbox.known_provider_ids(CHANNEL, [str(m.sid) for m in recent])
        return [
            _Went(str(message.sid), message.body or "")
            for message in reversed(recent)
            if str(message.sid) not in known
        ]

    async def _send_notice(
        self, phone: str, notice: Notice, went: list[_Went] | None = None
    ) -> str | None:
        """A message the user did not just ask for (a reminder, a staff reply).

        Inside the 24-hour window the text goes as is; outside it only the template
        configured for its purpose may go; with none, nothing is sent, the refusal is
        recorded and staff are told. Decided when sending: a notice may wait in the outbox.
        """
        text, purpose = notice.text, notice.purpose
        last = await self.inbound.last_inbound(CHANNEL, phone)
        if last is not None and time.time() - last < WINDOW_SECONDS:
            sent = None
            for part in self._notice_parts(text, notice):
                sent = await self._send_payload(phone, {"body": part}, went)
            return sent
        templates = self.settings.twilio_templates
        language = notice.language
        # A template approved in the user's language first (REMINDER_AR), else the general one.
        template = templates.get(f"{purpose}_{language}") or templates.get(purpose)
        if template is not None:
            variables = {
                str(key): template_variable(str(value)) for key, value in notice.variables.items()
            }
            return await self._send_payload(
                phone, {"content_sid": template, "variables": variables}, went
            )
        reason = f"outside the 24-hour window and no TWILIO_TEMPLATE_{purpose.upper()} configured"
        if self.staff_alert is not None and not notice.courtesy:
            about = notice.reference
            staff = self.interface.translator(STAFF_LANGUAGE)
            await self.staff_alert(
                staff.pgettext(
                    "staff",
                    "WhatsApp: a '{purpose}' message{about} was not sent ({reason}). "
                    "Contact the person another way.",
                ).format(purpose=purpose, about=f" ({about})" if about else "", reason=reason)
            )
        raise SendError(reason, retry=False, refused=True)

    def _notice_parts(self, text: str, notice: Notice) -> list[str]:
        """A notice's text, with its choices numbered (a proposal's "accept", "another time"):
        the number the user replies is read against them, as on any menu."""
        choices = tuple(Choice(data, label) for row in notice.buttons for data, label in row)
        if not choices:
            return split_message(to_whatsapp(text), MESSAGE_LIMIT)
        t = self.interface.translator(notice.language or self.default_language())
        return render(Reply(text, choices), t._("Reply with the number of your choice."))

    async def _send_payload(
        self, phone: str, payload: dict[str, Any], went: list[_Went] | None = None
    ) -> str | None:
        assert self._client is not None
        if went:
            # The same text went after the attempt began; a template's text is Twilio's own,
            # but a template notice is one message, the only one that attempt sent.
            for number, message in enumerate(went):
                if "content_sid" in payload or message.body == payload.get("body"):
                    del went[number]
                    log.info("whatsapp: a message in doubt had gone; not sent again")
                    return message.sid
        arguments: dict[str, Any] = {"from_": self.sender, "to": self._address(phone)}
        if "content_sid" in payload:
            arguments["content_sid"] = payload["content_sid"]
            arguments["content_variables"] = json.dumps(payload.get("variables", {}))
        else:
            arguments["body"] = payload["body"]
        if self.settings.public_base_url:
            arguments["status_callback"] = f"{self.settings.public_base_url}{self.status_path}"
        try:
            message = await self._client.messages.create_async(**arguments)
        except TwilioRestException as error:
            retry = error.status >= 500 or error.status == 429
            raise SendError(f"Twilio {error.status} {error.code or ''}".strip(), retry) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            # Twilio may have taken it before the connection failed: checked next time.
            raise SendError(
                f"network: {type(error).__name__}", retry=True, maybe_sent=True
            ) from error
        return str(message.sid) if message.sid else None


def _reason(error: Exception) -> str:
    """An error in a log line: SQLite's messages name no user and hold no message text."""
    return f"{type(error).__name__}: {error}"


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
