"""This package contains the channel-neutral engine: messages in, replies out."""
