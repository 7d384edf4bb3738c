"""This package contains the channel adapters: platform messages to ``Incoming`` and back."""
