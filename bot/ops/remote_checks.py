"""This module contains the doctor's checks over the network: Telegram's token and webhook,
the Twilio account and its templates, and whether the public address reaches the bot.

Every request honours TELEGRAM_API_URL and TWILIO_API_URL (fake servers in the tests), and no
secret ever appears in what is reported.
"""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from bot.config import Settings
from bot.ops.checks import RUNBOOK, Check, fail, ok, warn

#: WhatsApp purposes that need a pre-approved template outside the 24-hour window.
TEMPLATE_PURPOSES = (
    "reminder",
    "staff_cancel",
    "handover",
    "request_proposal",
    "request_declined",
    "deadline",
)


class JsonClient:
    """A small JSON client; every answer is (status, body), every failure a short reason."""

    def __init__(self, session: aiohttp.ClientSession, secrets: list[str]) -> None:
        self.session = session
        self.secrets = [secret for secret in secrets if secret]

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text

    async def get(self, url: str, auth: tuple[str, str] | None = None) -> tuple[int, Any] | str:
        headers = {}
        if auth is not None:
            # A header of our own: aiohttp deprecates its BasicAuth helper.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            async with self.session.get(url, headers=headers, allow_redirects=False) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, body
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            reason = str(error) or type(error).__name__
            return self.clean(f"{type(error).__name__}: {reason}")


async def telegram(settings: Settings, http: JsonClient) -> list[Check]:
    token = settings.telegram_bot_token
    if not token:
        return [ok("telegram", "off (TELEGRAM_BOT_TOKEN is not set)")]
    base = f"{settings.telegram_api_url}/bot{token}"
    answer = await http.get(f"{base}/getMe")
    if isinstance(answer, str):
        return [
            fail(
                "telegram",
                f"cannot reach {settings.telegram_api_url}: {answer}",
                "check this server's internet access (DNS, firewall, proxy) and TELEGRAM_API_URL",
            )
        ]
    status, body = answer
    if status in (401, 404):
        return [
            fail(
                "telegram",
                f"Telegram refused the token ({status})",
                "copy the token again from BotFather (/mybots, API Token) into "
                "TELEGRAM_BOT_TOKEN, then restart the bot",
            )
        ]
    if status != 200 or not isinstance(body, dict) or not body.get("ok"):
        return [
            fail(
                "telegram",
                f"unexpected answer {status} from getMe",
                "try again later; see https://t.me/BotNews",
            )
        ]
    checks = [ok("telegram", f"the token belongs to @{body['result'].get('username', '?')}")]
    checks.append(await _webhook(settings, http, base))
    if settings.telegram_staff_chat_id is None:
        checks.append(
            warn(
                "staff group",
                "TELEGRAM_STAFF_CHAT_ID is not set: booking notices go nowhere",
                "add the bot to the staff group; it answers with the group's id to put in "
                "TELEGRAM_STAFF_CHAT_ID",
            )
        )
    else:
        bot_id = body["result"].get("id")
        checks.append(await _staff_group(settings.telegram_staff_chat_id, bot_id, http, base))
    return checks


#: The bot's statuses in a chat that let it post (a restricted member only if allowed to).
_MEMBER_STATUSES = ("creator", "administrator", "member", "restricted")


async def _staff_group(chat_id: int, bot_id: object, http: JsonClient, base: str) -> Check:
    """Whether the bot is in the chat TELEGRAM_STAFF_CHAT_ID names and may post there."""
    name = "staff group"
    readd = (
        "a staff member (one of TELEGRAM_STAFF_USER_IDS) adds the bot to the staff group: it "
        "answers with the group's id; put that in TELEGRAM_STAFF_CHAT_ID and restart the bot"
    )
    answer = await http.get(f"{base}/getChat?chat_id={chat_id}")
    if isinstance(answer, str):
        return warn(name, f"could not ask Telegram about chat {chat_id}: {answer}", "try again")
    status, chat = answer
    description = _description(chat)
    if status in (400, 403):
        return fail(
            name,
            f"the bot cannot reach chat {chat_id} (TELEGRAM_STAFF_CHAT_ID): Telegram says "
            f'"{description}": booking notices and requests to talk to a person cannot be '
            "posted there",
            readd,
        )
    if status != 200 or not isinstance(chat, dict) or not isinstance(chat.get("result"), dict):
        return warn(name, f"unexpected answer {status} from getChat", "try again later")
    found = chat["result"]
    if found.get("type") not in ("group", "supergroup"):
        return warn(
            name,
            f"chat {chat_id} is a {found.get('type', 'chat')}, not a group",
            "staff notices should go to the staff's group: " + readd,
        )
    title = f'"{found.get("title") or chat_id}"'
    answer = await http.get(f"{base}/getChatMember?chat_id={chat_id}&user_id={bot_id}")
    if isinstance(answer, str) or answer[0] != 200 or not isinstance(answer[1], dict):
        return warn(
            name,
            f"the bot finds the group {title}, but could not check that it may post there",
            "try again; `/status` in the group shows whether the bot answers",
        )
    member = answer[1].get("result") or {}
    role = str(member.get("status", "?"))
    if role not in _MEMBER_STATUSES or member.get("is_member") is False:
        return fail(name, f"the bot is no longer in the group {title} ({role})", readd)
    if role == "restricted" and not member.get("can_send_messages", False):
        return fail(
            name,
            f"the bot is in the group {title} but may not send messages there",
            "in the group's settings (Permissions, or the bot's exceptions), let the bot send "
            "messages, or make it an administrator",
        )
    return ok(name, f"the bot is in the group {title} ({role}) and may post there")


def _description(body: object) -> str:
    """Telegram's own words for an error answer."""
    if isinstance(body, dict) and body.get("description"):
        return str(body["description"])
    return "no reason given"


async def _webhook(settings: Settings, http: JsonClient, base: str) -> Check:
    answer = await http.get(f"{base}/getWebhookInfo")
    if isinstance(answer, str) or answer[0] != 200 or not isinstance(answer[1], dict):
        return warn("telegram webhook", "could not read the webhook information", "try again")
    info = answer[1].get("result") or {}
    registered = str(info.get("url") or "")
    wanted = settings.telegram_webhook_url
    if not wanted:
        if registered:
            return warn(
                "telegram webhook",
                f"TELEGRAM_WEBHOOK_URL is unset (long polling) but Telegram sends to {registered}",
                "start the bot: it removes the webhook; if it runs, is another installation "
                "using the same token?",
            )
        return ok("telegram webhook", "none: the bot uses long polling")
    if registered != wanted:
        return warn(
            "telegram webhook",
            f"Telegram sends updates to {registered or 'nowhere'}, not to TELEGRAM_WEBHOOK_URL",
            "start (or restart) the bot: it registers TELEGRAM_WEBHOOK_URL; if it runs, is "
            "another installation using the same token?",
        )
    if info.get("last_error_message"):
        return warn(
            "telegram webhook",
            f"registered, but Telegram's last delivery failed: {info['last_error_message']}",
            "check that the address reaches `sportello serve` through the reverse proxy",
        )
    pending = int(info.get("pending_update_count") or 0)
    return ok("telegram webhook", f"registered at {wanted} ({pending} update(s) waiting)")


async def twilio(settings: Settings, http: JsonClient) -> list[Check]:
    if not settings.whatsapp_enabled:
        return [ok("whatsapp", "off (TWILIO_ACCOUNT_SID and the others are not set)")]
    sid = settings.twilio_account_sid or ""
    answer = await http.get(
        f"{settings.twilio_api_url}/2010-04-01/Accounts/{sid}.json",
        auth=(sid, settings.twilio_auth_token or ""),
    )
    if isinstance(answer, str):
        return [
            fail(
                "whatsapp",
                f"cannot reach {settings.twilio_api_url}: {answer}",
                "check this server's internet access (DNS, firewall, proxy) and TWILIO_API_URL",
            )
        ]
    status, body = answer
    if status in (401, 403, 404):
        return [
            fail(
                "whatsapp",
                f"Twilio refused the account SID or auth token ({status})",
                "copy both again from the Twilio console (Account info) into TWILIO_ACCOUNT_SID "
                "and TWILIO_AUTH_TOKEN, then restart the bot",
            )
        ]
    account = body if isinstance(body, dict) else {}
    if status != 200 or account.get("status") != "active":
        return [
            fail(
                "whatsapp",
                f"the Twilio account is {account.get('status', f'unavailable ({status})')}",
                "log in to the Twilio console: the account may be suspended or out of credit",
            )
        ]
    checks = [ok("whatsapp", f"Twilio account {account.get('friendly_name', sid)} is active")]
    missing = [p for p in TEMPLATE_PURPOSES if p not in settings.twilio_templates]
    if missing:
        names = ", ".join(f"TWILIO_TEMPLATE_{purpose.upper()}" for purpose in missing)
        checks.append(
            warn(
                "whatsapp templates",
                f"not set: {names}",
                "without them these messages cannot reach a user who last wrote more than 24 "
                f"hours ago (staff are told instead); see {RUNBOOK}",
            )
        )
    else:
        checks.append(ok("whatsapp templates", "every purpose has a template"))
    return checks


async def public_url(settings: Settings, http: JsonClient) -> list[Check]:
    base = settings.public_base_url
    if not base:
        if settings.whatsapp_enabled:
            return [
                warn(
                    "public address",
                    "PUBLIC_BASE_URL is not set",
                    "set it to the https address of this server: Twilio's signatures are "
                    "checked against it behind a reverse proxy",
                )
            ]
        return [ok("public address", "not set (not needed for long polling)")]
    answer = await http.get(f"{base}/healthz")
    fix = (
        "check that the domain points at this server, that the reverse proxy (Caddy) runs and "
        "ports 80 and 443 are open, and that `sportello serve` runs (some networks cannot "
        "reach their own public address from inside: then try from outside)"
    )
    if isinstance(answer, str):
        return [fail("public address", f"{base}/healthz cannot be reached: {answer}", fix)]
    status, body = answer
    state = body.get("status") if isinstance(body, dict) else None
    if 300 <= status < 400:
        # Twilio signs the exact address it calls: PUBLIC_BASE_URL must be the final one.
        return [
            fail(
                "public address",
                f"{base}/healthz redirects elsewhere ({status})",
                "set PUBLIC_BASE_URL to the final https address (https://, no redirect)",
            )
        ]
    if status == 503:
        return [
            fail(
                "public address",
                f"{base}/healthz answers, but the bot reports a problem ({state})",
                "the bot's database does not answer: see the bot's log",
            )
        ]
    if status != 200 or state != "ok":
        return [fail("public address", f"{base}/healthz answered {status} ({state})", fix)]
    return [ok("public address", f"{base}/healthz answers ok")]
