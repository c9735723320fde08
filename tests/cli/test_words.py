"""The command line names every outcome in words, each by one label from one table."""

from __future__ import annotations

import re
from collections import Counter

from ccvbird.entrypoints.cli.words import OUTCOME_WORDS, tally
from ccvbird.service.sync import Outcome


def test_every_engine_outcome_has_words() -> None:
    assert {o.value for o in Outcome} <= set(OUTCOME_WORDS)


def test_no_label_is_an_engine_code() -> None:
    for one, several in OUTCOME_WORDS.values():
        assert not re.search(r"[a-z]_[a-z]", one + several), (one, several)


def test_a_tally_is_counts_in_words_in_a_fixed_order() -> None:
    outcomes = Counter(retry_later=6, parked=3, booked=8, taken_over=1, paid=0)
    assert tally(outcomes) == (
        "8 booked, 1 taken over (Moneybird had its invoice), 3 need attention, 6 will be retried"
    )
    assert tally(Counter(parked=1, would_book=17)) == "1 needs attention, 17 would be booked"
