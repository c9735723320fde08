"""Invoice references of connections sharing a Moneybird administration (domain/references.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.mapping import invoice_reference, map_order
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.references import claimed_by, conflict, draft_prefix
from tests.builders import order_document, row


def test_the_first_connection_gets_no_prefix_the_next_ones_b_c() -> None:
    assert draft_prefix([]) == ""
    assert draft_prefix([""]) == "B-"
    assert draft_prefix(["", "B-"]) == "C-"
    assert draft_prefix(["", "C"]) == "B-"  # "C" would start "C-"
    assert draft_prefix(["B-", "C-"]) == "D-"


@pytest.mark.parametrize(
    ("prefix", "others"),
    [("", [""]), ("B-", ["", "B-"]), ("B", ["B-"]), ("B-1", ["B-"]), ("B-", ["B"])],
)
def test_equal_or_alike_prefixes_in_one_administration_are_refused(
    prefix: str, others: list[str]
) -> None:
    problem = conflict(prefix, others)
    assert problem is not None and "for example" in problem


@pytest.mark.parametrize(
    ("prefix", "others"), [("", []), ("B-", [""]), ("", ["B-"]), ("A-", ["B-"])]
)
def test_distinct_prefixes_are_accepted(prefix: str, others: list[str]) -> None:
    assert conflict(prefix, others) is None


def test_an_unprefixed_reference_under_another_connections_prefix_is_that_ones() -> None:
    assert claimed_by("B-1001", "", ["B-"]) == "B-"
    assert claimed_by("1001", "", ["B-"]) is None
    assert claimed_by("B-1001", "B-", [""]) is None  # the prefixed connection's own


numbers = st.text(alphabet="AB-0123456789", min_size=1, max_size=8)


@given(numbers, numbers)
def test_accepted_prefixes_never_make_one_reference_for_two_connections(n: str, m: str) -> None:
    """Whatever the two shops' order numbers look like: either the references differ, or the
    unprefixed connection's order is one it must not book (claimed by the other)."""
    for first, second in [("", "B-"), ("A-", "B-"), ("", "B2-")]:
        assert conflict(second, [first]) is None
        a, b = f"{first}{n}", f"{second}{m}"
        if a == b:
            assert claimed_by(a, first, [second]) == second


def test_the_reference_is_the_prefix_and_the_order_number() -> None:
    document = order_document([row("Koffie", 1, "12.10", 21)], paid="12.10", number="1001")
    order = parse_order(document["order"], document["orderrows"])
    assert invoice_reference(order, MappingProfile()) == "1001"
    profile = MappingProfile(reference_prefix="B-")
    assert invoice_reference(order, profile) == "B-1001"
    assert map_order(order, profile).draft.reference == "B-1001"


@pytest.mark.parametrize("prefix", ["B|", "B,", "-B", "ABCDEFGHIJKLM", "B 1"])
def test_a_prefix_that_cannot_be_filtered_on_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigError, match=r"invoicing\.reference_prefix"):
        parse_profile(f'[invoicing]\nreference_prefix = "{prefix}"\n')


def test_a_prefix_is_read_from_the_profile() -> None:
    assert parse_profile('[invoicing]\nreference_prefix = "B-"\n').reference_prefix == "B-"
    assert parse_profile("").reference_prefix == ""
