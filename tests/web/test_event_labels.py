"""Every step the engine writes into an order's log has words in Dutch and English.

The step names are read from the engine's source (every literal it passes as an event to a
commit or a save), so a new step without words fails here rather than showing "payment.created"
on a Dutch page.
"""

from __future__ import annotations

import re
from pathlib import Path

import ccvbird
from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.labels import event_label

SOURCE = Path(ccvbird.__file__).parent
#: Calls that write a step into an order's log: (record, "event", ...) or ("event", ...).
CALLS = re.compile(
    r"(?:_later|_commit|\.save|\.save_credit|_save|_event)\(\s*(?:[a-z_.]+,\s*)?\"([a-z_.]+)\"",
)


def engine_events() -> set[str]:
    found: set[str] = set()
    for folder in ("service", "adapters/db", "wiring", "entrypoints"):
        for path in (SOURCE / folder).rglob("*.py"):
            found.update(CALLS.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_engine_writes_steps_this_test_can_see() -> None:
    events = engine_events()
    assert {"booked", "payment.created", "invoice.create", "waiting"} <= events


def test_every_step_has_words_in_both_languages() -> None:
    missing = []
    for event in sorted(engine_events()):
        for language in ("en", "nl"):
            token = i18n.set_language(language)
            try:
                label = event_label(event)
            finally:
                i18n._language.reset(token)
            if label == event:
                missing.append((language, event))
        token = i18n.set_language("nl")
        try:
            if event_label(event) == i18n.translations("en").gettext(event_label(event)):
                pass
        finally:
            i18n._language.reset(token)
    assert missing == []


def test_dutch_step_words_are_not_the_english_ones() -> None:
    english, dutch = {}, {}
    for language, into in (("en", english), ("nl", dutch)):
        token = i18n.set_language(language)
        try:
            into.update({e: event_label(e) for e in engine_events()})
        finally:
            i18n._language.reset(token)
    same = sorted(e for e in english if english[e] == dutch[e])
    assert same == []
