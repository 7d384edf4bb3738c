"""Settings from the environment and .env, validated with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, ConfigError, Settings, read_env_file


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "missing.env")
    assert settings.content_dir == PROJECT_ROOT / "content"
    assert settings.db_path == Path("data") / "sportello.sqlite3"
    assert settings.timezone == "Europe/Rome"
    assert settings.tz.key == "Europe/Rome"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.telegram_bot_token is None


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nPORT=9000\nexport HOST='0.0.0.0'\nSPORTELLO_DEFAULT_LANGUAGE=fr # inline\n"
        "TELEGRAM_BOT_TOKEN=\"123:abc\"  # production bot\nTWILIO_AUTH_TOKEN='a#b'\n"
        "TWILIO_ACCOUNT_SID=AC1\nTWILIO_WHATSAPP_FROM=+390000\n\n",
        encoding="utf-8",
    )
    settings = Settings.from_env({"PORT": "9100"}, env_file=env_file)
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"
    assert settings.default_language == "fr"
    assert settings.telegram_bot_token == "123:abc"
    assert settings.twilio_auth_token == "a#b"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(
            {
                "PORT": "eighty",
                "SPORTELLO_TIMEZONE": "Mars/Olympus",
                "SPORTELLO_DEFAULT_LANGUAGE": "Italiano",
                "SPORTELLO_CONTENT": str(tmp_path / "nowhere"),
                "TELEGRAM_API_URL": "ftp://x",
                "TWILIO_ACCOUNT_SID": "AC1",
                "SPORTELLO_LOG_LEVEL": "LOUD",
                "SPORTELLO_STALE_DAYS": "0",
            },
            env_file=None,
        )
    text = str(raised.value)
    for name in (
        "PORT must be a whole number",
        "SPORTELLO_TIMEZONE",
        "SPORTELLO_DEFAULT_LANGUAGE",
        "SPORTELLO_CONTENT is not a folder",
        "TELEGRAM_API_URL must be an http(s) URL",
        "TWILIO_AUTH_TOKEN",
        "SPORTELLO_LOG_LEVEL",
        "SPORTELLO_STALE_DAYS must be between",
    ):
        assert name in text
    assert len(raised.value.problems) == 8


def test_morning_agenda_can_be_switched_off() -> None:
    assert Settings.from_env({"SPORTELLO_AGENDA_HOUR": "off"}, env_file=None).agenda_hour is None
    assert Settings.from_env({"SPORTELLO_AGENDA_HOUR": "7"}, env_file=None).agenda_hour == 7


def test_port_range() -> None:
    with pytest.raises(ConfigError, match="between 1 and 65535"):
        Settings.from_env({"PORT": "70000"}, env_file=None)


def test_malformed_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("this is not a setting\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.env:1: expected KEY=value"):
        read_env_file(env_file)


def test_env_example_documents_every_variable() -> None:
    example = (PROJECT_ROOT / "deploy" / ".env.example").read_text(encoding="utf-8")
    source = (PROJECT_ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    import re

    used = set(
        re.findall(
            r'"((?:SPORTELLO|TELEGRAM|TWILIO|WHATSAPP|PUBLIC|HOST|PORT)[A-Z_]*[A-Z])"', source
        )
    )
    used.add("TWILIO_TEMPLATE_REMINDER")  # TWILIO_TEMPLATE_<PURPOSE>, documented by example
    assert used >= {"SPORTELLO_DB", "TELEGRAM_BOT_TOKEN", "TWILIO_API_URL", "PUBLIC_BASE_URL"}
    for name in used:
        assert re.search(rf"^#?\s*{name}=", example, re.MULTILINE), (
            f"{name} is not in deploy/.env.example"
        )


def test_sportello_db_is_a_sqlite_file_or_a_postgresql_address(tmp_path: Path) -> None:
    missing = tmp_path / "missing.env"
    address = "postgresql://sportello:s3cret@db.example:5432/sportello?schema=roma"
    on_postgresql = Settings.from_env({"SPORTELLO_DB": address}, env_file=missing)
    assert on_postgresql.db_path == address  # as written: a Path would fold its "//"
    assert (on_postgresql.database_address, on_postgresql.database_file) == (address, None)
    on_file = Settings.from_env({"SPORTELLO_DB": "/var/lib/s/bot.sqlite3"}, env_file=missing)
    assert on_file.db_path == Path("/var/lib/s/bot.sqlite3")
    assert (on_file.database_address, on_file.database_file) == (None, on_file.db_path)
    by_url = Settings.from_env({"SPORTELLO_DB": "sqlite:///data/bot.sqlite3"}, env_file=missing)
    assert by_url.db_path == Path("data/bot.sqlite3")
    # Settings built in code take a str for a file too, and make it a Path.
    assert Settings(db_path=str(tmp_path / "x.sqlite3")).database_file == tmp_path / "x.sqlite3"


def test_a_postgresql_address_must_name_its_database_and_a_plain_schema(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(
            {"SPORTELLO_DB": "postgresql://sportello:s3cret@db.example:5432/"},
            env_file=tmp_path / "missing.env",
        )
    assert "must name the database" in str(raised.value)
    assert "s3cret" not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(
            {"SPORTELLO_DB": "postgresql://sportello@db.example/s?schema=Roma;drop"},
            env_file=tmp_path / "missing.env",
        )
    assert "?schema= must be" in str(raised.value)
