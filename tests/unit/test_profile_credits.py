"""``[credits]`` read from a profile file into the domain's credit policy."""

from __future__ import annotations

import pytest

from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.domain.credit_policy import (
    CancellationPolicy,
    CreditedBeforeBooking,
    SettleMethod,
)
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.order import Order
from tests.builders import example_profile, order_document, row


def _order(method: str) -> Order:
    document = order_document([row("Bonen", 1, "10.00", 9)], paid="10.00")
    document["order"]["paymethod"] = method
    return parse_order(document["order"], document["orderrows"])


def test_the_defaults_ask_book_neither_and_follow_the_money() -> None:
    policy = example_profile().credits
    assert policy.cancellations is CancellationPolicy.ASK
    assert policy.credited_before_booking is CreditedBeforeBooking.NEITHER
    order = _order("MollieIdeal")
    assert policy.settle_method(order, original_paid=True) is SettleMethod.REFUND
    assert policy.settle_method(order, original_paid=False) is SettleMethod.SET_OFF


def test_settle_and_refund_account_per_payment_method() -> None:
    profile = example_profile(
        credits={"cancellations": "credit", "credited_before_booking": "both",
                 "settle_default": "set_off"},
        **{"credits.settle": {"MollieIdeal": "refund"}},
    )  # fmt: skip
    policy = profile.credits
    assert policy.cancellations is CancellationPolicy.CREDIT
    assert policy.credited_before_booking is CreditedBeforeBooking.BOTH
    ideal, transfer = _order("MollieIdeal"), _order("BankTransfer")
    assert policy.settle_method(ideal, original_paid=False) is SettleMethod.REFUND
    assert policy.settle_method(transfer, original_paid=True) is SettleMethod.SET_OFF
    # no refund account of its own: the account its payment was booked on
    assert policy.refund_account(ideal, payment_account="470000000000050002") == (
        "470000000000050002"
    )


def test_a_refund_account_must_be_a_moneybird_id() -> None:
    with pytest.raises(ConfigError) as caught:
        example_profile(**{"credits.refund_accounts": {"MollieIdeal": "mollie"}})
    assert caught.value.problems == [
        "credits.refund_accounts.MollieIdeal: must be a Moneybird id (digits), got 'mollie'"
    ]
