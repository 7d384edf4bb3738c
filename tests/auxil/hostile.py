"""Hypothesis strategies for what a careless or hostile user can send: any text, any button
data (random, or forged to look like ours), any update shape.

The profiles live in ``tests/conftest.py``; this module only says what to draw.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

#: Telegram allows 1-64 bytes of callback data; WhatsApp's ButtonPayload is ours too.
CALLBACK_DATA_BYTES = 64

#: Prefixes of the engine's choice ids (``bot/core``) and of the staff group's buttons
#: (``bot/channels/telegram.py``): forged data that looks like ours reaches the deepest code.
CHOICE_PREFIXES = (
    "go:",
    "lang:",
    "nav:back",
    "nav:home",
    "nav:language",
    "act:human",
    "act:human:end",
    "act:erase",
    "act:share",
    "act:book:",
    "bk:svc:",
    "bk:office:",
    "bk:day:",
    "bk:days:",
    "bk:times:",
    "bk:time:",
    "bk:confirm",
    "bk:mine",
    "bk:move:",
    "bk:cancel:",
    "bk:cancelyes:",
    "rq:accept:",
    "rq:other:",
    "rq:withdraw:",
    "rq:withdrawyes:",
    "rq:move:",
    "rq:asap",
    "rq:day:",
    "rq:daysdone",
    "rq:part:",
    "rq:speaks:",
    "rq:send",
    "staff:attended:",
    "staff:no_show:",
    "staff:cancel:",
    "staff:hclose:",
)

#: Values that mean something somewhere: ids of our content, dates, times, numbers.
KNOWN_VALUES = (
    "",
    "permit_renewal",
    "family_reunification",
    "a2_test",
    "menu_permits",
    "luino",
    "cittiglio",
    "it",
    "ar",
    "de",
    "mon",
    "wed",
    "morning",
    "any",
    "0",
    "1",
    "-1",
    "99999999999999999999",
    "2026-11-30",
    "2099-01-01",
    "1900-02-30",
    "2026-11-30T10:00",
    "2026-11-30T10:00:00+01:00",
    "2027-03-08T09:30:00+01:00",
    "not-a-date",
    ":",
    "::",
)

#: Words that move a conversation somewhere: the realistic part of a random walk.
KNOWN_TEXTS = (
    "start",
    "menu",
    "indietro",
    "lingua",
    "aiuto",
    "1",
    "2",
    "3",
    "9",
    "0",
    "٢",
    "2️⃣",
    "vorrei un appuntamento",
    "I want an appointment",
    "parlare con una persona",
    "cancella i miei dati",
    "i miei appuntamenti",
    "rinnovo del permesso di soggiorno",
    "lunedì",
    "domani alle 10",
    "pomeriggio",
    "Mario Rossi",
    "333 1234567",
    "+39 333 1234567",
    "sì",
    "no",
)

#: Any text a person can type: every script, emoji, right-to-left marks, control characters;
#: never lone surrogates (no platform delivers them).
any_text = st.text(st.characters(codec="utf-8"), max_size=300)
long_text = st.text(st.characters(codec="utf-8"), min_size=2000, max_size=5000)
texts = st.one_of(
    st.sampled_from(KNOWN_TEXTS),
    any_text,
    st.sampled_from(("\u202e", "\u200f", "\u0000", "\r\n", "\t", " ", "👨‍👩‍👧‍👦", "مرحبا")),
    long_text,
)


def _fits_callback(data: str) -> bool:
    return len(data.encode()) <= CALLBACK_DATA_BYTES


def forged_choices(codes: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """Button data a client can send: random, or one of our prefixes with any value,
    a known value, or the code of someone else's booking or request (``codes``)."""
    forged = st.builds(
        lambda prefix, value: prefix + value,
        st.sampled_from(CHOICE_PREFIXES),
        st.one_of(st.sampled_from(KNOWN_VALUES + codes), st.text(max_size=20)),
    )
    return st.one_of(forged, st.text(max_size=CALLBACK_DATA_BYTES)).filter(_fits_callback)


#: JSON values of any shape: what a mistyped field may hold.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: the root, each key of an object, each list item."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any, values: st.SearchStrategy[Any] = json_values) -> Any:
    """A recorded payload with a few fields removed, retyped or added: the update shapes a
    platform (or a change of its API) might send."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(result)))
        if not path:
            if draw(st.integers(0, 9)) == 0:  # now and then the whole document is something else
                result = draw(values)
            continue
        parent = result
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(("retype", "remove", "add")))
        if action == "retype":
            parent[path[-1]] = draw(values)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(max_size=12))] = draw(values)
    return result
