"""This package contains what a server's administrator runs: checks, logs and metrics."""
