"""This package contains the personal deadline assistant: the reminders a user asked for
(``reminders``), their texts, and the days they are set on."""
