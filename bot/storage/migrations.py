"""This module contains the database migrations, applied in order at start.

Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "conversation sessions",
        """
        CREATE TABLE sessions (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (channel, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX sessions_updated_at ON sessions (updated_at);
        """,
    ),
    (
        2,
        "outbox, inbound de-duplication and last contact per channel user",
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'refused')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            provider_id TEXT,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
        CREATE INDEX outbox_recipient ON outbox (channel, recipient, status, id);
        CREATE INDEX outbox_provider_id ON outbox (provider_id);
        CREATE TABLE inbound_seen (
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (channel, message_id)
        ) WITHOUT ROWID;
        CREATE INDEX inbound_seen_received_at ON inbound_seen (received_at);
        CREATE TABLE contacts (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            last_inbound_at REAL NOT NULL,
            PRIMARY KEY (channel, user_id)
        ) WITHOUT ROWID;
        """,
    ),
    (
        3,
        "counter appointments",
        """
        CREATE TABLE appointments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL UNIQUE,
            office TEXT NOT NULL,
            service TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            name TEXT,
            phone TEXT,
            language TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'cancelled', 'attended', 'no_show')),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX appointments_slot ON appointments (office, starts_at, status);
        CREATE INDEX appointments_user ON appointments (channel, user_id, status);
        """,
    ),
    (
        4,
        "appointment reminders",
        """
        ALTER TABLE appointments ADD COLUMN reminded_at REAL;
        """,
    ),
    (
        5,
        "closures added by staff",
        """
        CREATE TABLE closures (
            day TEXT PRIMARY KEY,
            added_at REAL NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        6,
        "conversations with a person (handover)",
        """
        CREATE TABLE handovers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            language TEXT NOT NULL,
            opened_at REAL NOT NULL,
            answered_at REAL,
            closed_at REAL,
            closed_by TEXT
        );
        CREATE INDEX handovers_open ON handovers (channel, user_id) WHERE closed_at IS NULL;
        """,
    ),
    (
        7,
        "anonymous monitoring events and the pseudonyms' yearly salt",
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            hour TEXT NOT NULL,
            kind TEXT NOT NULL,
            action TEXT NOT NULL,
            channel TEXT NOT NULL,
            language TEXT,
            area TEXT,
            topic TEXT,
            service TEXT,
            office TEXT,
            seconds INTEGER,
            user TEXT
        );
        CREATE INDEX events_hour ON events (hour);
        -- The record of what the counter did is append-only: nothing rewrites history. Only
        -- the pseudonym may change, when its person erases their data (see retention.py).
        CREATE TRIGGER events_no_update
            BEFORE UPDATE OF hour, kind, action, channel, language, area, topic, service,
                office, seconds ON events
            BEGIN SELECT RAISE(ABORT, 'monitoring events are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'monitoring events are append-only'); END;
        CREATE TABLE event_salts (
            year INTEGER PRIMARY KEY,
            salt BLOB NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        8,
        "posts made once a day (the morning agenda), remembered across restarts",
        """
        CREATE TABLE daily_posts (
            name TEXT PRIMARY KEY,
            day TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        9,
        "appointment requests, which staff schedule (the appointment keeps the request's code)",
        """
        CREATE TABLE appointment_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL UNIQUE,
            office TEXT NOT NULL,
            service TEXT NOT NULL,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            language TEXT NOT NULL,
            speaks TEXT NOT NULL,
            days TEXT NOT NULL,
            part TEXT NOT NULL CHECK (part IN ('morning', 'afternoon', 'any')),
            -- The only personal data: kept while staff need them, moved to the appointment
            -- when one is made, erased by the retention rule and on the user's request.
            name TEXT,
            phone TEXT,
            status TEXT NOT NULL DEFAULT 'open' CHECK (
                status IN ('open', 'proposed', 'booked', 'declined', 'withdrawn', 'expired')
            ),
            proposed_start TEXT,
            proposed_end TEXT,
            waiting_since REAL NOT NULL,
            reminded_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX appointment_requests_user ON appointment_requests (channel, user_id, status);
        CREATE INDEX appointment_requests_waiting ON appointment_requests (status, waiting_since);
        """,
    ),
    (
        10,
        "questions users chose to share with the counter after no answer was found",
        """
        CREATE TABLE shared_questions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            language TEXT NOT NULL,
            text TEXT NOT NULL,
            nearest_topic TEXT,
            shared_at REAL NOT NULL
        );
        CREATE INDEX shared_questions_shared_at ON shared_questions (shared_at);
        CREATE INDEX shared_questions_user ON shared_questions (channel, user_id);
        """,
    ),
    (
        11,
        "the platform's ids of every part of a notice sent in several messages",
        """
        -- A long notice goes as several messages, and the outbox keeps the id of the last
        -- one (provider_id): staff may reply to any part, so each earlier part's id leads to
        -- it. Ids only, no personal data; kept as long as sent messages.
        CREATE TABLE notice_parts (
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            message_id TEXT NOT NULL,
            last_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (channel, recipient, message_id)
        ) WITHOUT ROWID;
        CREATE INDEX notice_parts_created_at ON notice_parts (created_at);
        """,
    ),
    (
        12,
        "inbound updates stored before they are answered; outbox attempts recorded before sending",
        """
        -- An update (a Telegram update, a Twilio form) is kept from the moment it arrives until
        -- its turn is saved, so that a crash in between does not lose it: the next start
        -- processes what is left. Deleted once processed, and by the retention rule.
        CREATE TABLE inbound_updates (
            channel TEXT NOT NULL,
            update_key TEXT NOT NULL,
            payload TEXT NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (channel, update_key)
        ) WITHOUT ROWID;
        CREATE INDEX inbound_updates_received_at ON inbound_updates (received_at);
        -- Set just before a message goes to its platform, cleared when the outcome is
        -- recorded: still set at the next start, the message is in doubt (it may have gone).
        ALTER TABLE outbox ADD COLUMN sending_since REAL;
        """,
    ),
    (
        13,
        "the outbox's pending messages in order, for the worker's next batch",
        """
        -- The worker's next batch walks a channel's pending messages in order and stops at
        -- the batch's size: with 10,000 notices waiting it read them all and sorted them
        -- (8 ms on the database's thread, which every user's reply waited behind).
        CREATE INDEX outbox_pending ON outbox (channel, status, id);
        """,
    ),
    (
        14,
        "messages waiting for a web chat browser to fetch them",
        """
        -- The web chat's replies and notices, kept until the browser confirms it has them
        -- (its next poll names the last id it holds), then deleted: the transcript lives in
        -- the browser. user_id is a hash of the browser's token, never the token itself.
        CREATE TABLE webchat_messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX webchat_messages_user ON webchat_messages (user_id, id);
        CREATE INDEX webchat_messages_created_at ON webchat_messages (created_at);
        """,
    ),
    (
        15,
        "personal deadline reminders (a permit's renewal, say), sent once on their day",
        """
        -- Only what sending the reminder needs: the chat, its language, the kind of deadline
        -- and two dates; no name, no note, no text. event_date and remind_on are ISO dates in
        -- the counter's time zone. sent_at is set in the transaction that queues the notice,
        -- so each goes once. Erased on the user's request; the retention rule removes each
        -- once sent and its event past.
        CREATE TABLE deadline_reminders (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            language TEXT NOT NULL,
            kind TEXT NOT NULL,
            event_date TEXT NOT NULL,
            remind_on TEXT NOT NULL,
            created_at REAL NOT NULL,
            sent_at REAL
        );
        CREATE INDEX deadline_reminders_due ON deadline_reminders (remind_on)
            WHERE sent_at IS NULL;
        CREATE INDEX deadline_reminders_user ON deadline_reminders (channel, user_id, kind);
        """,
    ),
    (
        16,
        "several instances on one database: leases, turns held across processes",
        """
        -- A lease: the loop or role ``name`` (the reminders, one channel's outbox, Telegram's
        -- long polling, "instance:<holder>" for each running instance) belongs to ``holder``
        -- until ``expires_at`` (unix seconds); the holder renews it, another instance takes
        -- it once it has expired. No personal data.
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at REAL NOT NULL,
            taken_at REAL NOT NULL
        ) WITHOUT ROWID;
        -- One user's turn in hand: held by the instance answering them, deleted when the
        -- turn is saved; free again if that instance's lease ("instance:<holder>") expired.
        CREATE TABLE turn_locks (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            holder TEXT NOT NULL,
            since REAL NOT NULL,
            PRIMARY KEY (channel, user_id)
        ) WITHOUT ROWID;
        -- Which instance stored an update and answers it; another takes it over only once
        -- that instance's lease expired (NULL: stored before several instances were known).
        ALTER TABLE inbound_updates ADD COLUMN holder TEXT;
        """,
    ),
    (
        17,
        "the answers to a service's checklist, kept with an appointment or a request",
        """
        -- The answer ids a user gave to the questions of a service's checklist of documents
        -- ("permit=work;kit=yes"), keyed by the code of their appointment or request (the
        -- same code once a request becomes an appointment): the confirmation, the proposal and
        -- the reminder list the documents those answers need. No names, no free text. Deleted
        -- once the appointment is over or cancelled or the request closed (retention), and
        -- at once when the user erases their data.
        CREATE TABLE checklist_answers (
            code TEXT PRIMARY KEY,
            answers TEXT NOT NULL,
            created_at REAL NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
)
