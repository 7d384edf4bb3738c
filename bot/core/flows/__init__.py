"""This package contains the dialogues the engine routes to, one module each.

Every flow declares its states as an enum (their values are what sessions store) and the
beginnings of the choice ids it answers; ``table.py`` routes a session's state and a pressed
choice to the flow that owns it. See ``base.py`` for what a flow is.
"""
