"""This package contains personal deadlines: reading the date a user gives, computing their
dates from the rules in ``content/deadlines.yaml``, the texts that tell them (the answer and
the reminders), and the reminders a user asked for (``reminders``: kept, listed, sent)."""
