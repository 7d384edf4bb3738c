"""This module contains the database's tables, for SQLAlchemy Core: one description that
SQLite and PostgreSQL both build their statements from.

Times are kept as they always were, so that a copied database reads the same on both: moments
as seconds since 1970 (``Double``), calendar days and slot times as ISO text in UTC
(``2026-12-01T09:00:00Z``). Migrations (``bot/storage/alembic``) create and change these
tables; a test checks that a migrated database and this module agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
)

metadata = MetaData()

#: Row ids: SQLite's own rowid (INTEGER PRIMARY KEY), a 64-bit sequence on PostgreSQL.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[int]:
    return Column("id", RowId, primary_key=True, autoincrement=True)


sessions = Table(
    "sessions",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("sessions_updated_at", "updated_at"),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Double, nullable=False, server_default="0"),
    Column("provider_id", Text),
    Column("error", Text),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("sending_since", Double),
    CheckConstraint(
        "status IN ('pending', 'sent', 'failed', 'refused')", name="outbox_status_known"
    ),
    Index("outbox_due", "status", "next_attempt_at"),
    Index("outbox_recipient", "channel", "recipient", "status", "id"),
    Index("outbox_provider_id", "provider_id"),
    Index("outbox_pending", "channel", "status", "id"),
    sqlite_autoincrement=True,
)

inbound_seen = Table(
    "inbound_seen",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("message_id", Text, primary_key=True),
    Column("received_at", Double, nullable=False),
    Index("inbound_seen_received_at", "received_at"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("last_inbound_at", Double, nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    _id(),
    Column("code", Text, nullable=False, unique=True),
    Column("office", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("starts_at", Text, nullable=False),
    Column("ends_at", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("name", Text),
    Column("phone", Text),
    Column("language", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("reminded_at", Double),
    CheckConstraint(
        "status IN ('active', 'cancelled', 'attended', 'no_show')",
        name="appointments_status_known",
    ),
    Index("appointments_slot", "office", "starts_at", "status"),
    Index("appointments_user", "channel", "user_id", "status"),
    sqlite_autoincrement=True,
)

closures = Table(
    "closures",
    metadata,
    Column("day", Text, primary_key=True),
    Column("added_at", Double, nullable=False),
)

handovers = Table(
    "handovers",
    metadata,
    _id(),
    Column("channel", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("opened_at", Double, nullable=False),
    Column("answered_at", Double),
    Column("closed_at", Double),
    Column("closed_by", Text),
    Index(
        "handovers_open",
        "channel",
        "user_id",
        sqlite_where=text("closed_at IS NULL"),
        postgresql_where=text("closed_at IS NULL"),
    ),
    sqlite_autoincrement=True,
)

#: Append-only (a trigger on each backend refuses changes): the monitoring figures.
events = Table(
    "events",
    metadata,
    _id(),
    Column("hour", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("language", Text),
    Column("area", Text),
    Column("topic", Text),
    Column("service", Text),
    Column("office", Text),
    Column("seconds", Integer),
    Column("user", Text),
    Index("events_hour", "hour"),
    sqlite_autoincrement=True,
)

event_salts = Table(
    "event_salts",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("salt", LargeBinary, nullable=False),
)

daily_posts = Table(
    "daily_posts",
    metadata,
    Column("name", Text, primary_key=True),
    Column("day", Text, nullable=False),
)

appointment_requests = Table(
    "appointment_requests",
    metadata,
    _id(),
    Column("code", Text, nullable=False, unique=True),
    Column("office", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("speaks", Text, nullable=False),
    Column("days", Text, nullable=False),
    Column("part", Text, nullable=False),
    # The only personal data: kept while staff need them, moved to the appointment when one
    # is made, erased by the retention rule and on the user's request.
    Column("name", Text),
    Column("phone", Text),
    Column("status", Text, nullable=False, server_default="open"),
    Column("proposed_start", Text),
    Column("proposed_end", Text),
    Column("waiting_since", Double, nullable=False),
    Column("reminded_at", Double),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    CheckConstraint("part IN ('morning', 'afternoon', 'any')", name="requests_part_known"),
    CheckConstraint(
        "status IN ('open', 'proposed', 'booked', 'declined', 'withdrawn', 'expired')",
        name="requests_status_known",
    ),
    Index("appointment_requests_user", "channel", "user_id", "status"),
    Index("appointment_requests_waiting", "status", "waiting_since"),
    sqlite_autoincrement=True,
)

shared_questions = Table(
    "shared_questions",
    metadata,
    _id(),
    Column("channel", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("nearest_topic", Text),
    Column("shared_at", Double, nullable=False),
    Index("shared_questions_shared_at", "shared_at"),
    Index("shared_questions_user", "channel", "user_id"),
    sqlite_autoincrement=True,
)

notice_parts = Table(
    "notice_parts",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("recipient", Text, primary_key=True),
    Column("message_id", Text, primary_key=True),
    Column("last_id", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Index("notice_parts_created_at", "created_at"),
)

inbound_updates = Table(
    "inbound_updates",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("update_key", Text, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("received_at", Double, nullable=False),
    Column("holder", Text),
    Index("inbound_updates_received_at", "received_at"),
)

webchat_messages = Table(
    "webchat_messages",
    metadata,
    _id(),
    Column("user_id", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Index("webchat_messages_user", "user_id", "id"),
    Index("webchat_messages_created_at", "created_at"),
    sqlite_autoincrement=True,
)

deadline_reminders = Table(
    "deadline_reminders",
    metadata,
    _id(),
    Column("channel", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("event_date", Text, nullable=False),
    Column("remind_on", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("sent_at", Double),
    Index(
        "deadline_reminders_due",
        "remind_on",
        sqlite_where=text("sent_at IS NULL"),
        postgresql_where=text("sent_at IS NULL"),
    ),
    Index("deadline_reminders_user", "channel", "user_id", "kind"),
    sqlite_autoincrement=True,
)

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("taken_at", Double, nullable=False),
)

turn_locks = Table(
    "turn_locks",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("since", Double, nullable=False),
)

checklist_answers = Table(
    "checklist_answers",
    metadata,
    Column("code", Text, primary_key=True),
    Column("answers", Text, nullable=False),
    Column("created_at", Double, nullable=False),
)
