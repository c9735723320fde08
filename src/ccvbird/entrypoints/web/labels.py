"""Words for states and problems, in the page's language: what happened, and what to do.

The engine records *why* in English sentences (the event log and ``reason``); these give each
state a name and each kind of problem (``reason_code``) a translated "what to do".
"""

from __future__ import annotations

from ccvbird.domain.credits import CreditProblemCode
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints.web.i18n import _
from ccvbird.service.sync import Outcome


def state_label(state: SyncState | str) -> str:
    labels = {
        SyncState.WAITING: _("Waiting"),
        SyncState.BOOKING: _("Booking"),
        SyncState.BOOKED: _("Booked"),
        SyncState.AWAITING_PAYMENT: _("Booked, awaiting payment"),
        SyncState.SKIPPED: _("Skipped"),
        SyncState.NEEDS_ATTENTION: _("Needs attention"),
        SyncState.CHANGED: _("Changed after booking"),
        SyncState.CREDITED: _("Credited in Moneybird"),
        SyncState.INVOICE_DELETED: _("Invoice deleted in Moneybird"),
    }
    return labels.get(SyncState(state), str(state))


def event_label(event: str) -> str:
    """A step of an order's log in words ("payment.created" → "Betaling geregistreerd");
    an event this version does not know keeps its name."""
    labels = {
        "booking.start": _("Booking started"),
        "contact.create": _("Creating the contact"),
        "contact.resolved": _("Contact found or created"),
        "invoice.create": _("Creating the invoice"),
        "invoice.created": _("Invoice created (draft)"),
        "invoice.adopted": _("Invoice found after an interruption"),
        "invoice.found_existing": _("Invoice found in Moneybird already"),
        "invoice.draft_deleted": _("Own draft invoice deleted"),
        "invoice.figures_differ": _("Moneybird's figures differ"),
        "invoice.send": _("Finalising the invoice"),
        "invoice.sent": _("Invoice finalised"),
        "invoice_date.recovered": _("Invoice date recovered"),
        "payment.create": _("Registering the payment"),
        "payment.created": _("Payment registered"),
        "payment.adopted": _("Payment found after an interruption"),
        "payment.seen_paid": _("Paid in CCV Shop"),
        "booked": _("Booked"),
        "booked.awaiting_payment": _("Booked, awaiting payment"),
        "awaiting_payment": _("Awaiting payment"),
        "waiting": _("Waiting"),
        "skipped": _("Skipped"),
        "needs_attention": _("Needs attention"),
        "changed_after_booking": _("Changed after booking"),
        "connection.paused": _("Connection paused"),
        "retry.requested": _("Retry asked for"),
        "retry.scheduled": _("Retry scheduled"),
        "retry.rate_limited": _("Waiting for the request limit"),
        "retry.handed_back": _("Handed back at a stop"),
        "moneybird.credited": _("Credited in Moneybird"),
        "moneybird.invoice_deleted": _("Invoice deleted in Moneybird"),
        "credit.create": _("Creating the credit invoice"),
        "credit.created": _("Credit invoice created (draft)"),
        "credit.edit": _("Credit invoice lines set"),
        "credit.send": _("Finalising the credit invoice"),
        "credit.settle": _("Settling the credit invoice"),
        "credit.adopted": _("Credit invoice found after an interruption"),
        "credit.booked": _("Credit booked"),
        "credit.parked": _("Credit needs attention"),
        "credit.retry": _("Credit retry scheduled"),
        "credit.waiting": _("Credit waits for the invoice"),
        "cancelled_after_booking": _("Cancelled after booking"),
        "credited": _("Credited"),
    }
    return labels.get(event, event)


def advice(reason_code: str) -> str:
    """What a person can do about an order with this ``reason_code`` ("" when nothing)."""
    advice_by_code = {
        "unmapped_vat_rate": _(
            "Choose a Moneybird tax rate for this VAT rate in the profile, then retry the order."
        ),
        "totals_do_not_reconcile": _(
            "The invoice would not add up to what the customer paid. Check the order in CCV "
            "Shop; raise the rounding tolerance in the profile if the difference is only "
            "rounding, then retry."
        ),
        "no_rounding_tax_rate": _(
            "Choose a tax rate for rounding lines in the profile, then retry the order."
        ),
        "missing_vat_number": _(
            "A reverse-charge order needs the customer's VAT number. Add it to the order in "
            "CCV Shop, then retry."
        ),
        "no_rows": _("The order has no products. Check it in CCV Shop, then retry."),
        "unknown_coupon_type": _(
            "ccvbird does not know this kind of discount. Check the order in CCV Shop."
        ),
        "not_completed": _("Nothing to do: the customer has not finished the order."),
        "cancelled": _("Nothing to do: cancelled orders are never invoiced."),
        "status_not_triggering": _(
            "Nothing to do: the order is booked once it reaches a status the profile names."
        ),
        "not_paid": _("Nothing to do: the order is booked once it is paid."),
        "before_start": _(
            "The order is older than the connection's start date. Import the history to book it."
        ),
        "deleted": _("Nothing to do: the order was deleted in CCV Shop."),
        "invalid_data": _("CCV Shop sent data ccvbird cannot read. Check the order, then retry."),
        "negative_total": _(
            "The order totals less than zero. A refund belongs on a credit invoice in Moneybird; "
            "check the quantities and costs of the order in CCV Shop."
        ),
        "reference_too_long": _(
            "The order number is too long for an invoice reference. Check it in CCV Shop."
        ),
        "amount_out_of_range": _(
            "An amount is larger than Moneybird accepts. Check the quantities and prices of the "
            "order in CCV Shop."
        ),
        "amount_below_a_cent": _(
            "The order has amounts below a cent, which would be 0.00 on the invoice. Check the "
            "prices in CCV Shop."
        ),
        "invalid_email": _(
            "The customer's e-mail address is not valid. Correct it in CCV Shop, then retry."
        ),
        "foreign_currency": _(
            "The order is in another currency than the administration. Allow invoices in other "
            "currencies in the profile (invoicing.foreign_currency), then retry."
        ),
        "refused": _(
            "Moneybird or CCV Shop refused a request. Read the message, fix the cause "
            "(often the profile), then retry."
        ),
        "keeps_failing": _(
            "Check that CCV Shop and Moneybird are reachable, then retry the order."
        ),
        "transient": _("Nothing to do: ccvbird retries by itself."),
        "bug": _("This is a bug in ccvbird. Retry after updating, or report it."),
        "changed": _(
            "The order changed after it was booked. Correct the invoice in Moneybird if needed "
            "(for example with a credit invoice)."
        ),
        "awaiting_payment": _(
            "Nothing to do: the invoice is open in Moneybird; its payment is registered once "
            "CCV Shop says the order is paid."
        ),
        "cancelled_after_booking": _(
            "The order was cancelled after it was invoiced and no payment was registered. "
            "Credit the invoice in Moneybird if the order is not delivered."
        ),
        "credited": _("Nothing to do: the invoice was credited in Moneybird."),
        "invoice_deleted": _(
            "Press retry to book the order again, or leave it if it should not be invoiced."
        ),
        "already_in_moneybird": _(
            "Moneybird has an unfinished invoice for this order already. Finish it in Moneybird "
            "and retry, or let ccvbird finish such invoices (profile: an invoice Moneybird has "
            "already)."
        ),
        **_credit_advice(),
    }
    return advice_by_code.get(reason_code, "")


def by_hand(first: str) -> str:
    """``first``, then what holds for every parked credit: ccvbird does not book it again."""
    return (
        first
        + " "
        + _(
            "ccvbird does not book this credit. If the credit is right, make the credit invoice "
            "by hand in Moneybird (Credit the invoice)."
        )
    )


def _credit_advice() -> dict[str, str]:
    """What to do about an order or a credit with a credit reason code."""
    return {
        "cancelled_after_booking_ask": _(
            "If the order is not delivered, press Credit it: ccvbird books a credit invoice for "
            "the whole invoice in Moneybird. To credit cancelled orders by themselves, choose "
            '"credit" for cancellations in the profile.'
        ),
        "credited_before_booking": _(
            "Nothing to do: CCV Shop credited the order in full before it was booked, so "
            "neither the invoice nor its credit is booked (the profile's choice)."
        ),
        "original_not_booked": _(
            "Nothing to do: the credit is booked right after the order's invoice."
        ),
        CreditProblemCode.EXCEEDS_REMAINING: by_hand(
            _(
                "The credit is more than what is left to credit of the invoice. Check the order's "
                "credit invoices in CCV Shop."
            )
        ),
        CreditProblemCode.ROW_NOT_ON_ORIGINAL: by_hand(
            _(
                "The credit returns a product that is not on the invoice. Check the credit invoice "
                "in CCV Shop."
            )
        ),
        CreditProblemCode.VAT_RATE_NOT_ON_ORIGINAL: by_hand(
            _(
                "The credit has a VAT rate the invoice does not have for that product. Check the "
                "credit invoice in CCV Shop."
            )
        ),
        CreditProblemCode.QUANTITY_EXCEEDS_ORIGINAL: by_hand(
            _(
                "The credits return more items than were ordered. Check the order's credit "
                "invoices in CCV Shop."
            )
        ),
        CreditProblemCode.COSTS_EXCEED_ORIGINAL: by_hand(
            _(
                "The credit returns more costs or discount than the order had. Check the credit "
                "invoice in CCV Shop."
            )
        ),
        CreditProblemCode.TOTALS_DO_NOT_RECONCILE: by_hand(
            _(
                "The credit invoice would not add up to what CCV Shop credited, to the cent; "
                "ccvbird never rounds a credit. Check the credit invoice in CCV Shop."
            )
        ),
        CreditProblemCode.CURRENCY_DIFFERS: by_hand(
            _("The credit is in another currency than the order. Check it in CCV Shop.")
        ),
        CreditProblemCode.NOT_A_CREDIT: _("Nothing to do: this credit invoice credits nothing."),
        CreditProblemCode.MAPPING: by_hand(
            _(
                "The profile cannot book the credited lines (see why). Correct the profile for the "
                "orders to come."
            )
        ),
        CreditProblemCode.ORIGINAL_BOOKED_ELSEWHERE: _(
            "The invoice was not booked by this connection: credit it in Moneybird, where the "
            "invoice is."
        ),
        CreditProblemCode.ORIGINAL_INVOICE_DELETED: _(
            "The invoice is no longer in Moneybird, so there is nothing to credit. Leave it, or "
            "book the order again first."
        ),
        CreditProblemCode.ORIGINAL_NOT_BOOKABLE: _(
            "The order itself is not booked, so neither is its credit. Solve the order's problem "
            "first."
        ),
    }


def outcome_label(outcome: str) -> str:
    """What an import did with an order, in words (the engine's outcome names otherwise)."""
    labels: dict[str, str] = {  # an import also counts "invalid" orders: those keep their name
        Outcome.BOOKED: _("Booked"),
        Outcome.AWAITING_PAYMENT: _("Booked, awaiting payment"),
        Outcome.PAID: _("Payment registered"),
        Outcome.TAKEN_OVER: _("Already in Moneybird, taken over"),
        Outcome.ALREADY_BOOKED: _("Booked before"),
        Outcome.WAITING: _("Waiting"),
        Outcome.SKIPPED: _("Skipped"),
        Outcome.PARKED: _("Needs attention"),
        Outcome.CHANGED: _("Changed after booking"),
        Outcome.RETRY_LATER: _("To be retried"),
        Outcome.PAUSED: _("Paused"),
    }
    return labels.get(outcome, outcome)
