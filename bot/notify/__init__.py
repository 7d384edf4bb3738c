"""This package contains the delivery of outgoing messages through the persistent outbox."""
