"""The schema as SQLite's own migrations 1 to 17 (``bot/storage/migrations.py``) left it.

A database made by those migrations is stamped with this revision instead of running it
(``bot.storage.db``); a new database, SQLite or PostgreSQL, starts here.

Revision ID: 0001
Revises:
Create Date: 2026-11-30 18:27:56.025301

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "appointment_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("office", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("speaks", sa.Text(), nullable=False),
        sa.Column("days", sa.Text(), nullable=False),
        sa.Column("part", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("proposed_start", sa.Text(), nullable=True),
        sa.Column("proposed_end", sa.Text(), nullable=True),
        sa.Column("waiting_since", sa.Double(), nullable=False),
        sa.Column("reminded_at", sa.Double(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.CheckConstraint("part IN ('morning', 'afternoon', 'any')", name="requests_part_known"),
        sa.CheckConstraint(
            "status IN ('open', 'proposed', 'booked', 'declined', 'withdrawn', 'expired')",
            name="requests_status_known",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("appointment_requests", schema=None) as batch_op:
        batch_op.create_index(
            "appointment_requests_user", ["channel", "user_id", "status"], unique=False
        )
        batch_op.create_index(
            "appointment_requests_waiting", ["status", "waiting_since"], unique=False
        )

    op.create_table(
        "appointments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("office", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.Text(), nullable=False),
        sa.Column("ends_at", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("reminded_at", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'cancelled', 'attended', 'no_show')",
            name="appointments_status_known",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index("appointments_slot", ["office", "starts_at", "status"], unique=False)
        batch_op.create_index("appointments_user", ["channel", "user_id", "status"], unique=False)

    op.create_table(
        "checklist_answers",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "closures",
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("added_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "contacts",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("last_inbound_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_id"),
    )
    op.create_table(
        "daily_posts",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "deadline_reminders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("event_date", sa.Text(), nullable=False),
        sa.Column("remind_on", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("sent_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("deadline_reminders", schema=None) as batch_op:
        batch_op.create_index(
            "deadline_reminders_due",
            ["remind_on"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )
        batch_op.create_index(
            "deadline_reminders_user", ["channel", "user_id", "kind"], unique=False
        )

    op.create_table(
        "event_salts",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hour", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("area", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("office", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("user", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("events_hour", ["hour"], unique=False)

    op.create_table(
        "handovers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index(
            "handovers_open",
            ["channel", "user_id"],
            unique=False,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.create_table(
        "inbound_seen",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "message_id"),
    )
    with op.batch_alter_table("inbound_seen", schema=None) as batch_op:
        batch_op.create_index("inbound_seen_received_at", ["received_at"], unique=False)

    op.create_table(
        "inbound_updates",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("update_key", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "update_key"),
    )
    with op.batch_alter_table("inbound_updates", schema=None) as batch_op:
        batch_op.create_index("inbound_updates_received_at", ["received_at"], unique=False)

    op.create_table(
        "leases",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("taken_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "notice_parts",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("last_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "recipient", "message_id"),
    )
    with op.batch_alter_table("notice_parts", schema=None) as batch_op:
        batch_op.create_index("notice_parts_created_at", ["created_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.Double(), server_default="0", nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("sending_since", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'refused')", name="outbox_status_known"
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("outbox_pending", ["channel", "status", "id"], unique=False)
        batch_op.create_index("outbox_provider_id", ["provider_id"], unique=False)
        batch_op.create_index(
            "outbox_recipient", ["channel", "recipient", "status", "id"], unique=False
        )

    op.create_table(
        "sessions",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_id"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("sessions_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "shared_questions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("nearest_topic", sa.Text(), nullable=True),
        sa.Column("shared_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("shared_questions", schema=None) as batch_op:
        batch_op.create_index("shared_questions_shared_at", ["shared_at"], unique=False)
        batch_op.create_index("shared_questions_user", ["channel", "user_id"], unique=False)

    op.create_table(
        "turn_locks",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("since", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_id"),
    )
    op.create_table(
        "webchat_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("webchat_messages", schema=None) as batch_op:
        batch_op.create_index("webchat_messages_created_at", ["created_at"], unique=False)
        batch_op.create_index("webchat_messages_user", ["user_id", "id"], unique=False)

    _refuse_changes_to_events()


def _refuse_changes_to_events() -> None:
    """The monitoring figures are append-only: changing or deleting an event fails."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE OF hour, kind, action, channel, "
            "language, area, topic, service, office, seconds ON events "
            "BEGIN SELECT RAISE(ABORT, 'monitoring events are append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
            "BEGIN SELECT RAISE(ABORT, 'monitoring events are append-only'); END"
        )
        return
    op.execute(
        "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'monitoring events are append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE OF hour, kind, action, channel, "
        "language, area, topic, service, office, seconds ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("webchat_messages", schema=None) as batch_op:
        batch_op.drop_index("webchat_messages_user")
        batch_op.drop_index("webchat_messages_created_at")

    op.drop_table("webchat_messages")
    op.drop_table("turn_locks")
    with op.batch_alter_table("shared_questions", schema=None) as batch_op:
        batch_op.drop_index("shared_questions_user")
        batch_op.drop_index("shared_questions_shared_at")

    op.drop_table("shared_questions")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("sessions_updated_at")

    op.drop_table("sessions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("outbox_recipient")
        batch_op.drop_index("outbox_provider_id")
        batch_op.drop_index("outbox_pending")
        batch_op.drop_index("outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("notice_parts", schema=None) as batch_op:
        batch_op.drop_index("notice_parts_created_at")

    op.drop_table("notice_parts")
    op.drop_table("leases")
    with op.batch_alter_table("inbound_updates", schema=None) as batch_op:
        batch_op.drop_index("inbound_updates_received_at")

    op.drop_table("inbound_updates")
    with op.batch_alter_table("inbound_seen", schema=None) as batch_op:
        batch_op.drop_index("inbound_seen_received_at")

    op.drop_table("inbound_seen")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index(
            "handovers_open",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.drop_table("handovers")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("events_hour")

    op.drop_table("events")
    op.drop_table("event_salts")
    with op.batch_alter_table("deadline_reminders", schema=None) as batch_op:
        batch_op.drop_index("deadline_reminders_user")
        batch_op.drop_index(
            "deadline_reminders_due",
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )

    op.drop_table("deadline_reminders")
    op.drop_table("daily_posts")
    op.drop_table("contacts")
    op.drop_table("closures")
    op.drop_table("checklist_answers")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("appointments_user")
        batch_op.drop_index("appointments_slot")

    op.drop_table("appointments")
    with op.batch_alter_table("appointment_requests", schema=None) as batch_op:
        batch_op.drop_index("appointment_requests_waiting")
        batch_op.drop_index("appointment_requests_user")

    op.drop_table("appointment_requests")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_append_only()")
