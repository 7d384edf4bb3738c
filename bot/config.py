"""This module contains the one ``Settings`` object, read from the environment and ``.env``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qsl, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The repository (or installation) root: where the embedded defaults live.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
#: How SPORTELLO_DB names a PostgreSQL database rather than a SQLite file (as
#: ``bot.storage.db.is_postgresql`` says: the configuration imports nothing of the storage).
_POSTGRESQL_SCHEMES = ("postgresql:", "postgres:", "postgresql+")
#: ``?schema=NAME`` of an address: PostgreSQL's identifiers that need no quoting.
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class ConfigError(Exception):
    """The configuration is invalid; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def is_database_address(value: str) -> bool:
    """Whether SPORTELLO_DB's value is a PostgreSQL address rather than a SQLite file."""
    return value.startswith(_POSTGRESQL_SCHEMES)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise ConfigError([f"{path}:{number}: expected KEY=value, got {line[:40]!r}"])
        key, value = match.groups()
        quoted = re.fullmatch(r"""(["'])(.*)\1(?:\s+#.*)?""", value)
        value = quoted.group(2) if quoted else value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with. Built once, at start, by :meth:`from_env`."""

    #: SPORTELLO_DB: a SQLite file (a ``Path``, the default), or a PostgreSQL database's
    #: address as written (a ``str``: ``postgresql://user:password@host:5432/name``, with
    #: ``?schema=NAME`` for one schema of it). A ``str`` that is not an address becomes a Path.
    db_path: Path | str = field(default_factory=lambda: Path("data") / "sportello.sqlite3")
    content_dir: Path = PROJECT_ROOT / "content"
    locales_dir: Path = PROJECT_ROOT / "locales"
    #: Where the understanding model trained on the content is kept between runs (None: never).
    cache_dir: Path | None = None
    default_language: str | None = None
    timezone: str = "Europe/Rome"
    stale_after_days: int = 365
    retention_days: int = 90
    reminder_hour: int = 18
    #: From this hour, people's deadline reminders of the day are sent (``bot.deadlines``).
    deadline_hour: int = 10
    #: A deadline reminder sent is deleted once its event is this many days past.
    deadline_keep_days: int = 7
    agenda_hour: int | None = 8  # None: no morning post
    host: str = "127.0.0.1"
    port: int = 8080
    content_poll_seconds: float = 2.0
    #: Several instances on one database: how long a lease (the reminders, an outbox, each
    #: instance's own) lasts unrenewed, so how soon another instance takes over from one that
    #: died; and how often its holder renews it (well within the lease).
    lease_seconds: float = 30.0
    lease_renew_seconds: float = 10.0
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object a line, for log collectors
    public_base_url: str | None = None
    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_staff_chat_id: int | None = None
    telegram_staff_user_ids: frozenset[int] = frozenset()
    telegram_rate_limit: int = 20
    telegram_max_sends_per_second: int = 30
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    whatsapp_webhook_path: str = "/whatsapp"
    whatsapp_rate_limit: int = 20
    #: Pre-approved WhatsApp templates by purpose, from TWILIO_TEMPLATE_<PURPOSE>=<content SID>.
    twilio_templates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: E-mail copies of staff notices: off unless SMTP_HOST is set.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # "starttls", "tls" (implicit, port 465) or "none"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    #: The web chat (the widget for other sites and the /chat page): off unless enabled.
    webchat_enabled: bool = False
    #: Origins (https://www.comune.example.it) whose pages may embed the chat and call its API.
    webchat_allowed_origins: tuple[str, ...] = ()
    webchat_rate_limit: int = 20  # messages a minute from one browser
    webchat_address_limit: int = 300  # API calls a minute from one address (polls included)
    webchat_start_limit: int = 30  # new conversations a minute from one address

    def __post_init__(self) -> None:
        if isinstance(self.db_path, str) and not is_database_address(self.db_path):
            object.__setattr__(self, "db_path", Path(self.db_path))

    @property
    def database_address(self) -> str | None:
        """SPORTELLO_DB's PostgreSQL address (it may hold a password: show it only through
        ``bot.storage.db.shown``), or None for a SQLite file."""
        return self.db_path if isinstance(self.db_path, str) else None

    @property
    def database_file(self) -> Path | None:
        """SPORTELLO_DB's SQLite file, or None for a PostgreSQL database."""
        return self.db_path if isinstance(self.db_path, Path) else None

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_whatsapp_from
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from and self.smtp_to)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read the settings; real environment variables win over the ``.env`` file."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update(read_env_file(env_file))
        values.update(os.environ if environ is None else environ)
        return _parse(values)


def _parse(env: Mapping[str, str]) -> Settings:
    problems: list[str] = []
    defaults = Settings()

    def text(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            problems.append(f"{name} must be a whole number, got {raw!r}")
            return default
        if not low <= value <= high:
            problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def number(name: str, default: float) -> float:
        raw = text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if value <= 0:
            problems.append(f"{name} must be greater than 0, got {raw}")
        return value

    def url(name: str, default: str | None) -> str | None:
        raw = text(name)
        if raw is None:
            return default
        parsed = urlparse(raw)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            problems.append(
                f"{name} must be an http(s) URL such as https://example.org, got {raw!r}"
            )
        return raw.rstrip("/")

    def path(name: str, default: Path) -> Path:
        raw = text(name)
        return default if raw is None else Path(raw).expanduser()

    def database(name: str, default: Path | str) -> Path | str:
        """A SQLite file (``sqlite:///`` addresses too) or a PostgreSQL address, kept as
        written: a Path would fold its ``//``."""
        raw = text(name)
        if raw is None:
            return default
        if raw.startswith("sqlite:///"):
            return Path(raw.removeprefix("sqlite:///")).expanduser()
        if not is_database_address(raw):
            return Path(raw).expanduser()
        parsed = urlparse(raw)
        schemas = [v for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k == "schema"]
        if not parsed.path.strip("/"):
            problems.append(
                f"{name} must name the database, such as postgresql://sportello@db.example/"
                "sportello (add ?schema=NAME for a schema of it)"
            )
        elif any(not _SCHEMA_NAME.match(schema) for schema in schemas):
            problems.append(
                f"{name}'s ?schema= must be a lower-case name of letters, digits and _, "
                f"got {schemas!r}"
            )
        return raw

    timezone = text("SPORTELLO_TIMEZONE") or defaults.timezone
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"SPORTELLO_TIMEZONE is not a known time zone: {timezone!r}")

    language = text("SPORTELLO_DEFAULT_LANGUAGE")
    if language is not None:
        language = language.lower()
        if not _LANGUAGE_CODE.match(language):
            problems.append(
                f"SPORTELLO_DEFAULT_LANGUAGE must be a language code such as 'it', got {language!r}"
            )

    log_level = (text("SPORTELLO_LOG_LEVEL") or defaults.log_level).upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append(
            f"SPORTELLO_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
        )

    log_format = (text("SPORTELLO_LOG_FORMAT") or defaults.log_format).lower()
    if log_format not in {"text", "json"}:
        problems.append(f"SPORTELLO_LOG_FORMAT must be text or json, got {log_format!r}")

    # Training the understanding takes seconds: keep the model for the next start. systemd's
    # CacheDirectory= sets CACHE_DIRECTORY; elsewhere the user's cache folder.
    cache_home = text("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    cache_dir = path(
        "SPORTELLO_CACHE_DIR",
        Path(text("CACHE_DIRECTORY") or Path(cache_home) / "sportello"),
    )

    content_dir = path("SPORTELLO_CONTENT", defaults.content_dir)
    if not content_dir.is_dir():
        problems.append(f"SPORTELLO_CONTENT is not a folder: {content_dir}")

    sid, auth, sender = (
        text("TWILIO_ACCOUNT_SID"),
        text("TWILIO_AUTH_TOKEN"),
        text("TWILIO_WHATSAPP_FROM"),
    )
    if any((sid, auth, sender)) and not all((sid, auth, sender)):
        problems.append(
            "WhatsApp needs all three of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_WHATSAPP_FROM (or none of them)"
        )

    staff_chat = text("TELEGRAM_STAFF_CHAT_ID")
    staff_chat_id: int | None = None
    if staff_chat is not None:
        try:
            staff_chat_id = int(staff_chat)
        except ValueError:
            problems.append(
                "TELEGRAM_STAFF_CHAT_ID must be a chat id such as -1001234567890, "
                f"got {staff_chat!r}"
            )
    staff_users: set[int] = set()
    for item in (text("TELEGRAM_STAFF_USER_IDS") or "").replace(";", ",").split(","):
        if not item.strip():
            continue
        try:
            staff_users.add(int(item.strip()))
        except ValueError:
            problems.append(
                "TELEGRAM_STAFF_USER_IDS must be numeric user ids separated by commas, "
                f"got {item.strip()!r}"
            )
    secret = text("TELEGRAM_WEBHOOK_SECRET")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET may only hold letters, digits, '_' and '-' (1 to 256)"
        )

    webhook_path = text("WHATSAPP_WEBHOOK_PATH") or defaults.whatsapp_webhook_path
    if not re.fullmatch(r"/[A-Za-z0-9/_-]*", webhook_path):
        problems.append(
            f"WHATSAPP_WEBHOOK_PATH must be a path such as /whatsapp, got {webhook_path!r}"
        )
    templates: dict[str, str] = {}
    for name, value in env.items():
        if name.startswith("TWILIO_TEMPLATE_") and value.strip():
            if not re.fullmatch(r"HX[0-9a-fA-F]{32}", value.strip()):
                problems.append(
                    f"{name} must be a Twilio content SID (HX followed by 32 hex digits)"
                )
            templates[name.removeprefix("TWILIO_TEMPLATE_").lower()] = value.strip()

    smtp_host = text("SMTP_HOST")
    smtp_security = (text("SMTP_SECURITY") or defaults.smtp_security).lower()
    if smtp_security not in {"starttls", "tls", "none"}:
        problems.append(f"SMTP_SECURITY must be starttls, tls or none, got {smtp_security!r}")
    smtp_to = tuple(
        address.strip()
        for address in (text("SMTP_TO") or "").replace(";", ",").split(",")
        if address.strip()
    )
    smtp_from = text("SMTP_FROM")
    for address in (*smtp_to, *([smtp_from] if smtp_from else [])):
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            problems.append(f"SMTP_FROM and SMTP_TO must be e-mail addresses, got {address!r}")
    if smtp_host is not None and not (smtp_from and smtp_to):
        problems.append("E-mail copies need SMTP_FROM and SMTP_TO as well as SMTP_HOST")

    webchat_enabled = (text("WEBCHAT_ENABLED") or "false").lower()
    if webchat_enabled not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
        problems.append(f"WEBCHAT_ENABLED must be true or false, got {webchat_enabled!r}")
    origins: list[str] = []
    for item in (text("WEBCHAT_ALLOWED_ORIGINS") or "").replace(";", ",").split(","):
        origin = item.strip().rstrip("/")
        if not origin:
            continue
        parsed = urlparse(origin)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.path:
            problems.append(
                "WEBCHAT_ALLOWED_ORIGINS must be origins such as https://www.comune.example.it "
                f"(scheme and host, no path), separated by commas, got {item.strip()!r}"
            )
        origins.append(origin)

    settings = Settings(
        db_path=database("SPORTELLO_DB", defaults.db_path),
        content_dir=content_dir,
        cache_dir=cache_dir,
        locales_dir=path("SPORTELLO_LOCALES", defaults.locales_dir),
        default_language=language,
        timezone=timezone,
        stale_after_days=integer("SPORTELLO_STALE_DAYS", defaults.stale_after_days, 1, 3650),
        retention_days=integer("SPORTELLO_RETENTION_DAYS", defaults.retention_days, 1, 3650),
        reminder_hour=integer("SPORTELLO_REMINDER_HOUR", defaults.reminder_hour, 0, 23),
        deadline_hour=integer("SPORTELLO_DEADLINE_HOUR", defaults.deadline_hour, 0, 23),
        deadline_keep_days=integer(
            "SPORTELLO_DEADLINE_KEEP_DAYS", defaults.deadline_keep_days, 0, 365
        ),
        agenda_hour=None
        if (text("SPORTELLO_AGENDA_HOUR") or "").lower() == "off"
        else integer("SPORTELLO_AGENDA_HOUR", 8, 0, 23),
        host=text("HOST") or defaults.host,
        port=integer("PORT", defaults.port, 1, 65535),
        content_poll_seconds=number(
            "SPORTELLO_CONTENT_POLL_SECONDS", defaults.content_poll_seconds
        ),
        lease_seconds=number("SPORTELLO_LEASE_SECONDS", defaults.lease_seconds),
        lease_renew_seconds=number("SPORTELLO_LEASE_RENEW_SECONDS", defaults.lease_renew_seconds),
        log_level=log_level,
        log_format=log_format,
        public_base_url=url("PUBLIC_BASE_URL", None),
        telegram_bot_token=text("TELEGRAM_BOT_TOKEN"),
        telegram_api_url=url("TELEGRAM_API_URL", defaults.telegram_api_url) or "",
        telegram_webhook_url=url("TELEGRAM_WEBHOOK_URL", None),
        telegram_webhook_secret=secret,
        telegram_staff_chat_id=staff_chat_id,
        telegram_staff_user_ids=frozenset(staff_users),
        telegram_rate_limit=integer("TELEGRAM_RATE_LIMIT", defaults.telegram_rate_limit, 1, 1000),
        telegram_max_sends_per_second=integer(
            "TELEGRAM_MAX_SENDS_PER_SECOND", defaults.telegram_max_sends_per_second, 0, 1000
        ),
        twilio_account_sid=sid,
        twilio_auth_token=auth,
        twilio_whatsapp_from=sender,
        twilio_api_url=url("TWILIO_API_URL", defaults.twilio_api_url) or "",
        whatsapp_webhook_path=webhook_path,
        whatsapp_rate_limit=integer("WHATSAPP_RATE_LIMIT", defaults.whatsapp_rate_limit, 1, 1000),
        twilio_templates=MappingProxyType(templates),
        smtp_host=smtp_host,
        smtp_port=integer("SMTP_PORT", 465 if smtp_security == "tls" else 587, 1, 65535),
        smtp_security=smtp_security,
        smtp_user=text("SMTP_USER"),
        smtp_password=text("SMTP_PASSWORD"),
        smtp_from=smtp_from,
        smtp_to=smtp_to,
        webchat_enabled=webchat_enabled in {"true", "1", "yes", "on"},
        webchat_allowed_origins=tuple(origins),
        webchat_rate_limit=integer("WEBCHAT_RATE_LIMIT", defaults.webchat_rate_limit, 1, 1000),
        webchat_address_limit=integer(
            "WEBCHAT_ADDRESS_LIMIT", defaults.webchat_address_limit, 10, 100_000
        ),
        webchat_start_limit=integer("WEBCHAT_START_LIMIT", defaults.webchat_start_limit, 1, 10_000),
    )
    if settings.lease_renew_seconds >= settings.lease_seconds:
        problems.append(
            "SPORTELLO_LEASE_RENEW_SECONDS must be less than SPORTELLO_LEASE_SECONDS (a lease "
            f"is renewed before it expires), got {settings.lease_renew_seconds:g} and "
            f"{settings.lease_seconds:g}"
        )
    if problems:
        raise ConfigError(problems)
    return settings
