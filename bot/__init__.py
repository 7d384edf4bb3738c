"""Sportello: a multilingual information and appointment bot for the Sportello Immigrati."""

__version__ = "0.1.0"
