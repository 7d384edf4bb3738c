"""This module contains the Telegram channel, on python-telegram-bot.

It only translates: a Telegram ``Update`` becomes an ``Incoming`` for the engine, and each
``Reply`` becomes a message with an inline keyboard. Conversation state lives in the engine,
never in PTB's own handlers, so every flow is the same on every channel. The staff group's
commands are PTB ``CommandHandler``s, open only to staff in the staff chat; what they do is
the staff console's (``bot.staff``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
import io
import logging
import os
import secrets
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

# Opt in to PTB's future behaviour (durations as timedelta) so that RetryAfter on a 429 does
# not warn on every retry; we never read those durations ourselves.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.base import Handler, InboundStore, OutboxStore, Reach
from bot.channels.digest import StaffDigest
from bot.channels.flood import FloodControl, Verdict
from bot.channels.formatting import split_message, to_html, to_plain
from bot.channels.telegram_pacing import NOTICE, PacedRateLimiter, telegram_pacer
from bot.config import Settings
from bot.content import identity
from bot.content.catalog import Catalog
from bot.core.messages import Incoming, Kind, Reply
from bot.i18n import N_, STAFF_LANGUAGE, Interface, bidi_text
from bot.notice import Notice
from bot.notify.leadership import Leadership
from bot.notify.worker import Meter, OutboxWorker, SendError
from bot.staff import Command, StaffAnswer, StaffConsole
from bot.staff.answers import Button

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and Bot API URLs contain the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

CHANNEL = "telegram"
STAFF = "staff:"
STAFF_COMMANDS = 1  # the handler group of the staff commands, after the router's (0)
RETRY_DELAY_FIRST = 5.0  # seconds before trying to reach Telegram again at start-up
RETRY_DELAY_MAX = 300.0
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for callback_data
REFUSED_REMEMBERED = 256  # malformed updates remembered, so that their retries are not logged

#: Commands shown in Telegram's menu, in every enabled language.
COMMANDS = (
    ("start", N_("Start again")),
    ("menu", N_("Main menu")),
    ("language", N_("Change language")),
    ("help", N_("How to use this chat")),
)


EDIT_WINDOW_SECONDS = 120  # an edit this soon after sending is a correction: answer it


def _edited_long_after(message: Message) -> bool:
    if message.edit_date is None:
        return False
    return (message.edit_date - message.date).total_seconds() > EDIT_WINDOW_SECONDS


def _utf16_length(text: str) -> int:
    return len(to_plain(text).encode("utf-16-le")) // 2


def render(reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """A reply as Telegram messages: HTML text parts, the keyboard under the last one."""
    parts = split_message(reply.text, MessageLimit.MAX_TEXT_LENGTH, _utf16_length) or [""]
    buttons = [
        [InlineKeyboardButton(choice.label, callback_data=choice.id)]
        for choice in reply.choices
        if len(choice.id.encode()) <= CALLBACK_DATA_LIMIT
    ]
    keyboard = InlineKeyboardMarkup(buttons) if buttons else None
    rendered: list[tuple[str, InlineKeyboardMarkup | None]] = [
        (to_html(bidi_text(part, reply.rtl)), None) for part in parts
    ]
    rendered[-1] = (rendered[-1][0], keyboard)
    return rendered


def _user_ok(user: object) -> bool:
    return (
        isinstance(user, User)
        and isinstance(user.id, int)
        and isinstance(user.is_bot, bool)
        and isinstance(user.language_code, str | None)
    )


def _chat_ok(chat: object) -> bool:
    return isinstance(chat, Chat) and isinstance(chat.id, int) and isinstance(chat.type, str)


def _message_ok(message: object, depth: int = 0) -> bool:
    if not isinstance(message, Message):
        return False
    replied = message.reply_to_message
    contact = message.contact
    return (
        _chat_ok(message.chat)
        and isinstance(message.message_id, int)
        and isinstance(message.date, datetime)
        and isinstance(message.edit_date, datetime | None)
        and isinstance(message.text, str | None)
        and isinstance(message.caption, str | None)
        and (message.from_user is None or _user_ok(message.from_user))
        and (
            contact is None
            or (isinstance(contact.phone_number, str) and isinstance(contact.user_id, int | None))
        )
        and (replied is None or (depth == 0 and _message_ok(replied, depth + 1)))
    )


def well_formed(update: Update) -> bool:
    """Whether the parts of an update this channel reads have the types the Bot API documents.

    PTB's parser keeps whatever the JSON held (a message without its chat, a text that is a
    number); such an update is refused whole, not failed on half-way through its answer.
    """
    query = update.callback_query
    if query is not None and not (
        _user_ok(query.from_user)
        and isinstance(query.data, str | None)
        and (query.message is None or _chat_ok(query.message.chat))
    ):
        return False
    member = update.my_chat_member
    if member is not None and not (
        _chat_ok(member.chat)
        and _user_ok(member.from_user)
        and isinstance(member.new_chat_member, ChatMember)
        and isinstance(member.new_chat_member.status, str)
    ):
        return False
    return all(
        message is None or _message_ok(message)
        for message in (update.message, update.edited_message)
    )


def _message_kind(message: Message) -> Kind | None:
    if message.text is not None:
        return Kind.TEXT
    if message.contact is not None:
        return Kind.CONTACT
    if message.location is not None or message.venue is not None:
        return Kind.LOCATION
    if any(
        (
            message.sticker,
            message.photo,
            message.voice,
            message.audio,
            message.video,
            message.video_note,
            message.document,
            message.animation,
            message.poll,
            message.dice,
        )
    ):
        return Kind.MEDIA
    return None  # service messages (members joined, pinned, ...): nothing to answer


def _keyboard(rows: Iterable[Iterable[Button]], prefix: str) -> InlineKeyboardMarkup | None:
    """Rows of ``(choice id, label)`` as an inline keyboard, each id after ``prefix``; a
    button whose data Telegram would refuse is left out."""
    keyboard = [
        [
            InlineKeyboardButton(label, callback_data=f"{prefix}{data}")
            for data, label in row
            if len(f"{prefix}{data}".encode()) <= CALLBACK_DATA_LIMIT
        ]
        for row in rows
    ]
    return InlineKeyboardMarkup([row for row in keyboard if row]) if any(keyboard) else None


def _notice_keyboard(
    notice: Notice, staff: bool, console: StaffConsole
) -> InlineKeyboardMarkup | None:
    """The buttons a notice brings: its own rows (a proposal's "accept", a request's "propose
    a time", a digest's), else those of a booking or a conversation."""
    if not notice.buttons:
        return _keyboard(console.notice_buttons(notice.code, notice.handover), STAFF)
    prefix = STAFF if staff else ""  # the staff group's buttons are told apart by it
    return _keyboard(notice.buttons, prefix)


def _cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _update_key(update_id: int) -> str:
    return f"update:{update_id}"


class StoredUpdateQueue(asyncio.Queue[object]):
    """PTB's update queue, storing each update before it is queued.

    Both ways updates arrive put them here, and both acknowledge an update only after the
    put returns: the webhook answers 200 after ``push``, and polling asks for the next
    updates (which confirms these) after putting the last one. A crash before the update's
    turn is saved thus leaves it stored, and the next start processes it.
    """

    def __init__(self, store: InboundStore) -> None:
        super().__init__()
        self._store = store

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            try:
                if not await self._store.keep(CHANNEL, _update_key(item.update_id), item.to_dict()):
                    return  # a redelivery of an update processed or in hand already
            except Exception:
                # Answering matters more than surviving a crash: process it unstored.
                log.exception("telegram: an update could not be stored; processing it anyway")
        await super().put(item)

    async def put_stored(self, update: Update) -> None:
        """Queue an update stored by an earlier run (it was never processed)."""
        await super().put(update)


class _Application(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's application, calling ``done`` after each update's handlers, however they ended
    (not when stopped half-way: the next start processes it)."""

    def __init__(self, done: Callable[[object], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._done = done

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if not _cancelled():
                await self._done(update)


class TelegramChannel:
    """Runs the bot on Telegram, by long polling or by webhook on our own web server."""

    name = CHANNEL
    reach = Reach(user_id_is_phone=False, files=True, window_hours=None, unprompted=True)

    def __init__(
        self,
        engine: Handler,
        settings: Settings,
        interface: Interface,
        catalog: Callable[[], Catalog],
        outbox: OutboxStore | None = None,
        inbound: InboundStore | None = None,
        *,
        staff: StaffConsole | None = None,
        meter: Meter | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.engine = engine
        self.settings = settings
        self.interface = interface
        self.webhook_url = settings.telegram_webhook_url
        self.webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        self.languages: tuple[str, ...] = ()
        self.default_language = "it"
        self.flood = FloodControl(settings.telegram_rate_limit)
        #: The content, for the languages of the command menu.
        self.catalog: Callable[[], Catalog] | None = catalog
        #: What the staff group's commands, replies and buttons do (without bookings,
        #: requests or monitoring: /status and the help only).
        self.staff = staff or StaffConsole(interface.translator(STAFF_LANGUAGE))
        self.connected = False  # getMe answered and updates are being received
        self.retry_delay = RETRY_DELAY_FIRST
        # Notices (to staff, reminders, staff replies to users) wait in the outbox until sent.
        # Staff notices in a burst go to the group as one digest message.
        digest = StaffDigest(MessageLimit.MAX_TEXT_LENGTH, _utf16_length)
        self.worker = (
            OutboxWorker(
                outbox, CHANNEL, self.send, digest=digest, meter=meter, leadership=leadership
            )
            if outbox
            else None
        )
        self._connecting: asyncio.Task[None] | None = None
        self._sweeping: asyncio.Task[None] | None = None
        self.outbox = outbox
        self._chat_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._refused: collections.deque[int | None] = collections.deque(maxlen=REFUSED_REMEMBERED)
        #: Every send waits its turn here: replies first, notices with what is left.
        self.pacer = telegram_pacer(settings.telegram_max_sends_per_second)
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token)
            .base_url(f"{settings.telegram_api_url}/bot")
            .base_file_url(f"{settings.telegram_api_url}/file/bot")
            # Sends paced under Telegram's limits, live replies before the outbox's notices;
            # 429s are retried after the time Telegram asks for. 0 lifts every cap.
            .rate_limiter(PacedRateLimiter(self.pacer))
            .concurrent_updates(64)
            .application_class(_Application, {"done": self._on_done})
        )
        #: Updates stored on arrival (webhook and polling alike), until their turn is saved.
        self.inbound = inbound
        self._stored_updates = StoredUpdateQueue(inbound) if inbound is not None else None
        if self._stored_updates is not None:
            builder = builder.update_queue(self._stored_updates)
        if self.webhook_url:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_handlers(self._staff_handlers(), group=STAFF_COMMANDS)
        self.application.add_error_handler(self._on_error)

    @property
    def webhook_path(self) -> str:
        path = urlparse(self.webhook_url or "").path
        return path if path not in ("", "/") else "/telegram"

    def routes(self) -> Sequence[BaseRoute]:
        """The webhook, when Telegram posts updates to us (none in polling mode)."""
        if not self.webhook_url:
            return ()
        return (Route(self.webhook_path, self._webhook, methods=["POST"]),)

    def health(self) -> Mapping[str, object]:
        # Not an error of ours: the bot keeps trying, and WhatsApp works meanwhile.
        return {"connected": self.connected}

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background: a Telegram outage at start-up does not hold up the
        rest of the bot (``start_when_reachable``)."""
        self._connecting = asyncio.create_task(self.start_when_reachable())

    async def connect(self) -> None:
        """Connect (getMe), register commands and descriptions, start receiving updates."""
        if self.catalog is not None:
            catalog = self.catalog()
            self.languages = tuple(language.code for language in catalog.enabled_languages)
            self.default_language = catalog.default_language
        await self.application.initialize()
        await self._register_commands()
        await self.application.start()
        await self._process_left_over()
        self._sweeping = asyncio.create_task(self._take_over_left_over())
        if self.webhook_url:
            await self.application.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("telegram: webhook registered at %s", self.webhook_url)
        else:
            updater = self.application.updater
            assert updater is not None  # built with an updater in polling mode
            await self.application.bot.delete_webhook()
            await updater.start_polling(
                allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=10
            )
            log.info("telegram: long polling started")
        if self.worker is not None:
            self.worker.start()
            self.worker.wake()  # whatever waited in the outbox while we were down

    async def _process_left_over(self) -> None:
        """Queue the updates a previous run stored and never processed (a crash, a kill)."""
        if self.inbound is None or self._stored_updates is None:
            return
        left = await self.inbound.take_over(CHANNEL)
        for key, payload in left:
            try:
                update = Update.de_json(payload, self.application.bot)
            except (KeyError, TypeError, ValueError):
                await self.inbound.done(CHANNEL, key)  # unreadable: it would fail every start
                continue
            await self._stored_updates.put_stored(update)
        if left:
            log.info("telegram: processing %d updates left from the last run", len(left))

    async def _take_over_left_over(self) -> None:
        """Several instances on one database: the updates an instance stored and never
        processed (it was killed) are this one's once that instance's lease expired."""
        while True:
            await asyncio.sleep(self.settings.lease_renew_seconds)
            try:
                await self._process_left_over()
            except Exception as error:
                log.warning("telegram: cannot look for updates left over (%s)", error)

    async def start_when_reachable(self) -> None:
        """Start, trying again with growing pauses while Telegram cannot be reached.

        A reboot during a Telegram outage (or before the network is up) must not take the
        rest of the bot down with it: WhatsApp, the health check and the reminders go on.
        """
        delay = self.retry_delay
        while True:
            try:
                await self.connect()
            except TelegramError as error:
                # The error's text may hold the token (InvalidToken): only its kind is logged.
                log.warning(
                    "telegram: cannot connect (%s); trying again in %.0f s",
                    type(error).__name__,
                    delay,
                )
                await self._reset()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_DELAY_MAX)
                continue
            self.connected = True
            return

    async def _reset(self) -> None:
        """Undo a start that failed half-way, so that the next attempt starts clean."""
        try:
            await self.stop()
        except Exception:
            log.warning("telegram: could not reset after a failed start", exc_info=True)

    async def stop(self) -> None:
        """Stop receiving, let updates in flight finish, then close the connection."""
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
            self._connecting = None
        if self._sweeping is not None:
            self._sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeping
            self._sweeping = None
        self.connected = False
        if self.worker is not None:
            await self.worker.stop()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _register_commands(self) -> None:
        bot = self.application.bot
        catalog = self.catalog() if self.catalog is not None else None
        for code in (None, *self.languages):
            t = self.interface.translator(code or "en")
            commands = [BotCommand(name, t._(description)) for name, description in COMMANDS]
            try:
                await bot.set_my_commands(commands, language_code=code)
                if catalog is not None:  # the counter's own words (desk.yaml)
                    await bot.set_my_description(
                        identity.description(catalog, t), language_code=code
                    )
                    await bot.set_my_short_description(
                        identity.short_description(catalog, t), language_code=code
                    )
            except TelegramError as error:
                # Not fatal: the bot works without its command menu.
                log.warning(
                    "telegram: cannot register commands for %s: %s", code or "default", error
                )

    # -- webhook ---------------------------------------------------------------------------

    async def _webhook(self, request: Request) -> Response:
        """Receive one Telegram update; only Telegram knows the secret token."""
        if not self.secret_matches(request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
            return Response(status_code=403)
        try:
            payload = await request.json()
        except (ValueError, RecursionError) as error:  # not JSON, or nested past the parser
            log.warning("telegram: a webhook body is not an update (%s)", type(error).__name__)
            return Response(status_code=400)
        if not await self.push(payload):
            return Response(status_code=400)
        return Response(status_code=200)

    def secret_matches(self, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(
            header.encode(), self.webhook_secret.encode()
        )

    async def push(self, payload: Any) -> bool:
        """Queue one update received by the webhook; False (logged once) if it is not one."""
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int):
            self._refuse(None, "no update_id")
            return False
        try:
            update = Update.de_json(payload, self.application.bot)
        except Exception as error:
            # PTB's parser raises whatever a mistyped field leads to (AttributeError for a
            # message that is a string, OverflowError for a date past 2038...): not an update.
            self._refuse(update_id, type(error).__name__)
            return False
        if not well_formed(update):
            self._refuse(update_id, "fields of the wrong type")
            return False
        await self.application.update_queue.put(update)
        return True

    def _refuse(self, update_id: int | None, reason: str) -> None:
        """Log a malformed update once, however often Telegram sends it again; its content
        (names, messages) stays out of the log."""
        if update_id is not None and update_id in self._refused:
            return
        self._refused.append(update_id)
        log.warning("telegram: refused a malformed update %s (%s)", update_id, reason)

    # -- updates ---------------------------------------------------------------------------

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: error while handling an update", exc_info=context.error)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle one update; only the staff group's commands go on to their handlers."""
        if await self._route(update):
            raise ApplicationHandlerStop

    async def _on_done(self, update: object) -> None:
        """Forget an update's stored copy once handled (an update that fails is not processed
        again at every start)."""
        if isinstance(update, Update):
            await self._processed(update.update_id)

    async def _processed(self, update_id: int) -> None:
        if self.inbound is None:
            return
        try:
            await self.inbound.done(CHANNEL, _update_key(update_id))
        except Exception:
            log.exception("telegram: could not mark an update processed")

    async def _route(self, update: Update) -> bool:
        """Route one update: private messages and buttons to the engine, staff replies to the
        staff console. False for a message of the staff group that its commands may take."""
        if not well_formed(update):  # polling brings them here; the webhook refused them
            self._refuse(update.update_id, "fields of the wrong type")
            return True
        if update.my_chat_member is not None:
            await self._membership(update.my_chat_member)
            return True
        if update.callback_query is not None:
            await self._button(update.callback_query, update.update_id)
            return True
        message = update.message or update.edited_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return True
        if message.chat.type != ChatType.PRIVATE:
            if message.chat.id != self.settings.telegram_staff_chat_id:
                return True  # other groups: not ours to answer
            return await self._staff_reply(message)
        kind = _message_kind(message)
        if kind is None:
            return True
        user = message.from_user
        verdict = self.flood.check(str(user.id))
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.WARN:
                language = await self.engine.language_of(CHANNEL, str(user.id))
                await self._say(message.chat_id, self._slow_down(language))
            return True
        if update.edited_message is not None and _edited_long_after(update.edited_message):
            # An old message changed: answering it now would not fit the conversation.
            language = await self.engine.language_of(CHANNEL, str(user.id))
            t = self.interface.translator(language)
            await self._say(message.chat_id, t._("I only read new messages: please send it again."))
            return True
        text = message.text or ""
        if kind is Kind.MEDIA:
            text = message.caption or ""  # a photo's words are read, the photo is not
        if kind is Kind.CONTACT and message.contact is not None:
            # Only the user's own card counts as their phone number.
            own = message.contact.user_id == user.id
            text = message.contact.phone_number if own else ""
        if kind is Kind.TEXT and text.startswith("/") and text[1:].strip():
            # "/start@SportelloBot payload" is the command "start"; arguments are not used.
            kind, text = Kind.COMMAND, text[1:].split(maxsplit=1)[0].split("@", 1)[0]
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(user.id),
            kind=kind,
            text=text,
            language_hint=user.language_code,
            stored_as=self._stored_as(update.update_id),
        )
        await self._answer(message.chat_id, incoming, update.update_id)
        return True

    def _stored_as(self, update_id: int) -> str | None:
        """The key of a stored update, done with in the same write as its turn's state."""
        return _update_key(update_id) if self.inbound is not None else None

    async def _answer(self, chat_id: int, incoming: Incoming, update_id: int) -> None:
        """Ask the engine and send its replies, one message of a chat at a time, in order."""
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        async with lock:
            replies = await self.engine.handle(incoming)
            # The turn's save marked the update processed (``stored_as``): after a crash, or
            # at another instance, it is not answered again against the next step. A turn
            # that could not be saved is done with here (it would fail at every start). A
            # crash while sending loses these replies instead.
            await self._processed(update_id)
            await self._deliver(chat_id, replies)

    async def _button(self, query: CallbackQuery, update_id: int) -> None:
        # Acknowledge first, so the client's spinner stops even if the answer takes a moment.
        try:
            await query.answer()
        except TelegramError as error:
            log.info("telegram: cannot acknowledge a button press: %s", error)
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.id == self.settings.telegram_staff_chat_id:
            await self._staff_button(query)
            return
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        user = query.from_user
        if self.flood.check(str(user.id)) is not Verdict.ALLOW:
            return
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(user.id),
            kind=Kind.CHOICE,
            choice_id=query.data or "",
            language_hint=user.language_code,
            stored_as=self._stored_as(update_id),
        )
        await self._answer(chat.id, incoming, update_id)

    async def _deliver(self, chat_id: int, replies: list[Reply]) -> None:
        for reply in replies:
            for text, keyboard in render(reply):
                await self._send(chat_id, text, keyboard)
            for attachment in reply.attachments:  # an appointment's calendar file, say
                await self.application.bot.send_document(
                    chat_id=chat_id,
                    document=InputFile(io.BytesIO(attachment.data), filename=attachment.filename),
                )

    async def _send(
        self, chat_id: int, html_text: str, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        await self.application.bot.send_message(
            chat_id=chat_id,
            text=html_text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def _say(self, chat_id: int, text: str) -> None:
        await self._send(chat_id, to_html(text), None)

    # -- flood control ---------------------------------------------------------------------

    def _slow_down(self, language: str) -> str:
        t = self.interface.translator(language)
        return t._("You are sending messages very quickly. Please wait a minute, then write again.")

    # -- groups and staff ------------------------------------------------------------------

    def is_staff(self, user_id: int) -> bool:
        return user_id in self.settings.telegram_staff_user_ids

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    async def send(self, recipient: str, notice: Notice) -> str | None:
        """Send one queued notice; returns the id of its (last) message.

        Staff notices carry the buttons of their booking or conversation; a staff member
        answers a conversation by replying to the message with this id, or to any earlier
        part of a long notice (their ids are remembered). A notice in doubt (an attempt cut
        short by a crash) is sent again: the Bot API cannot tell what a bot sent, and a notice
        twice is better than a booking staff never hear of.
        """
        try:
            chat_id = int(recipient)
        except ValueError as error:
            raise SendError("not a Telegram chat id", retry=False) from error
        staff = chat_id == self.settings.telegram_staff_chat_id
        keyboard = _notice_keyboard(notice, staff, self.staff)
        parts = split_message(notice.text, MessageLimit.MAX_TEXT_LENGTH, _utf16_length) or [""]
        sent_ids: list[str] = []
        try:
            for number, part in enumerate(parts, 1):
                message = await self.application.bot.send_message(
                    chat_id=chat_id,
                    text=to_html(part),
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard if number == len(parts) else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    rate_limit_args=NOTICE,  # after the live replies waiting
                )
                sent_ids.append(str(message.message_id))
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise SendError("Telegram flood control", retry=True, retry_after=seconds) from error
        except ChatMigrated as error:
            # The staff group became a supergroup: it has a new id, which only the
            # administrator can set.
            reason = f"the chat moved: set TELEGRAM_STAFF_CHAT_ID={error.new_chat_id}"
            log.error("telegram: %s", reason)
            raise SendError(reason, retry=False) from error
        except (Forbidden, BadRequest) as error:
            # Blocked by the user, or a chat that no longer exists: retrying cannot help.
            if isinstance(error, Forbidden):
                await self._tell_staff_unreachable(chat_id, notice)
            raise SendError(f"Telegram refused: {type(error).__name__}", retry=False) from error
        except NetworkError as error:
            # A timeout may come after Telegram took the message: the next attempt is in doubt.
            raise SendError(
                f"Telegram unavailable: {type(error).__name__}", retry=True, maybe_sent=True
            ) from error
        if len(sent_ids) > 1 and self.outbox is not None:
            await self._remember_parts(recipient, sent_ids)
        return sent_ids[-1] if sent_ids else None

    async def _tell_staff_unreachable(self, chat_id: int, notice: Notice) -> None:
        """A user who blocked the bot gets nothing more: staff learn it (a reply, a proposal,
        a reminder), as WhatsApp's refusals outside the 24-hour window are told."""
        staff_chat = self.settings.telegram_staff_chat_id
        if staff_chat is None or chat_id == staff_chat or notice.courtesy:
            return
        told = self.staff.unreachable("Telegram", notice.reference or None)
        with contextlib.suppress(TelegramError):
            await self._show(staff_chat, told)

    async def _remember_parts(self, recipient: str, sent_ids: list[str]) -> None:
        assert self.outbox is not None
        try:
            await self.outbox.remember_parts(CHANNEL, recipient, sent_ids)
        except Exception:
            # The notice is out: failing now would send it all again. Only a reply to one of
            # its earlier parts goes unrecognised (and staff are told so).
            log.exception("telegram: the parts of a long notice could not be remembered")

    async def _staff_button(self, query: CallbackQuery) -> None:
        """A tap on a staff button: a step of /registra or of a request, a booking's outcome,
        a conversation closed (strangers' taps do nothing)."""
        data = (query.data or "").removeprefix(STAFF)
        answer = await self.staff.button(data, staff=self.is_staff(query.from_user.id))
        if answer is None or query.message is None:
            return
        with contextlib.suppress(TelegramError):
            await self._show(query.message.chat.id, answer)

    async def _staff_reply(self, message: Message) -> bool:
        """A reply in the staff group to one of the bot's messages, which the staff console
        may take (an answer to a conversation or to a request's prompt). False when it is no
        such reply: a command then runs as any other."""
        replied = message.reply_to_message
        if replied is None or replied.from_user is None:
            return False
        if replied.from_user.id != self.application.bot.id:
            return False
        assert message.from_user is not None
        answer = await self.staff.reply(
            CHANNEL,
            str(message.chat_id),
            str(replied.message_id),
            message.text or "",
            edited=message.edit_date is not None,
            staff=self.is_staff(message.from_user.id),
        )
        if answer is None:
            return False
        await self._show(message.chat_id, answer)
        return True

    async def _membership(self, change: ChatMemberUpdated) -> None:
        """Stay in the staff group; leave any other group a stranger added the bot to."""
        chat = change.chat
        joined = change.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
        if (
            not joined
            or chat.type == ChatType.PRIVATE
            or chat.id == self.settings.telegram_staff_chat_id
        ):
            return
        t = self.interface.translator(self.default_language)
        if self.is_staff(change.from_user.id):
            # A staff member is setting up a group: tell them the id to configure.
            await self._say(
                chat.id,
                t._(
                    "This group's id is {chat_id}. To make it the staff group, set "
                    "TELEGRAM_STAFF_CHAT_ID={chat_id}."
                ).format(chat_id=chat.id),
            )
            return
        log.info("telegram: leaving a group the bot was added to by someone who is not staff")
        try:
            await self.application.bot.leave_chat(chat.id)
        except TelegramError as error:
            log.warning("telegram: cannot leave a group: %s", error)

    # -- staff commands --------------------------------------------------------------------

    def _staff_handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The staff group's commands, for staff only; any other command there gets the
        help (staff) or a refusal (anyone else)."""
        staff_chat = self.settings.telegram_staff_chat_id
        if staff_chat is None:
            return []
        group = filters.Chat(chat_id=staff_chat)
        staff = group & filters.User(user_id=self.settings.telegram_staff_user_ids)
        handlers: list[BaseHandler[Any, Any, Any]] = [
            CommandHandler("status", self._status, filters=staff)
        ]
        handlers += [
            CommandHandler(command.names, self._command(command), filters=staff)
            for command in self.staff.commands
        ]
        handlers += [
            MessageHandler(staff & filters.COMMAND, self._unknown_command),
            MessageHandler(group & filters.COMMAND, self._stranger_command),
        ]
        return handlers

    def _command(
        self, command: Command
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            assert message is not None
            # The words after the command, as typed (context.args loses their spacing).
            words = (message.text or "")[1:].split(maxsplit=1)
            await self._show(message.chat_id, await command.run(words[1] if len(words) > 1 else ""))

        return run

    async def _status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/status: whether the bot works, how it receives updates, its languages."""
        assert update.effective_message is not None
        mode = "webhook" if self.webhook_url else "polling"
        answer = self.staff.status(mode, self.languages)
        await self._show(update.effective_message.chat_id, answer)

    async def _unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command staff typed that is none of theirs: the list of those there are."""
        assert update.effective_message is not None
        await self._show(update.effective_message.chat_id, self.staff.help())

    async def _stranger_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone in the staff group who is not in TELEGRAM_STAFF_USER_IDS."""
        assert update.effective_message is not None
        await self._show(update.effective_message.chat_id, self.staff.refusal())

    async def _show(self, chat_id: int, answer: StaffAnswer) -> None:
        """A staff console's answer: its text with its buttons, or its file."""
        if answer.file is not None:
            document = InputFile(io.BytesIO(answer.file.data), filename=answer.file.name)
            await self.application.bot.send_document(chat_id=chat_id, document=document)
        if answer.text or answer.file is None:
            await self._send(chat_id, to_html(answer.text), _keyboard(answer.rows, STAFF))
