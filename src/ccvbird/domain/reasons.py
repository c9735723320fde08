"""Why, as a code and its facts: the engine records a reason, the reader's page words it.

The engine never writes a finished sentence for a person. It records a :class:`Reason` — a code
from :data:`MESSAGES` and parameters (strings) — on the order (``reason_code`` and
``reason_params``), on a paused connection, and on each log line. The web app and the CLI render
it in the reader's language; the English rendering is also stored as text, for logs, old tools
and the API.

The English templates below are the gettext msgids: the Dutch catalog translates them, and a
test renders every code in both languages. A template names its parameters in braces. What a
parameter *is* follows from its name, so each language can format it its own way:

* ``amount`` or ``…_amount``: a Decimal as text ("1234.50"); with ``currency`` it is money;
* ``…_date``: an ISO date;
* ``field`` or ``…_field``: a profile key (``tax_rates.platform."0"``); a page names it by its
  label on the profile page and links to it; ``fields``: several keys, ``|``-separated;
* ``…_part``: the code of another message, rendered with the same parameters ("" for none);
* ``also``: further reasons (JSON ``[[code, params], …]``), rendered after this one;
* anything else: shown as it is (order numbers, ids, an error as a service worded it).

Pure: the standard library only.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

#: Every message the engine can record, by code: the English text (the gettext msgid).
MESSAGES: dict[str, str] = {
    # -- why an order waits or is skipped (eligibility: domain/decisions.py) ---------------------
    "not_completed": "The customer has not finished checking out (no order number yet).",
    "cancelled": "The order is cancelled; it is never invoiced.",
    "status_not_triggering": (
        "The order has status {status}; it is invoiced once it reaches {wanted}."
    ),
    "not_paid": "The order is not paid yet; it is invoiced once it is paid.",
    "before_start": (
        "The order is from before the connection's start date ({start_date}); import history "
        "to book it."
    ),
    "deleted": "The order no longer exists in CCV Shop.",
    "credited_before_booking": (
        "Credited before booking: CCV Shop credited the order in full before ccvbird booked it, "
        'so neither its invoice nor its credit is booked (the profile\'s {field} = "neither").'
    ),
    "connection_paused": (
        "Waiting: the connection is paused. {pause_part} This order is booked automatically "
        "once the connection resumes."
    ),
    "connection_disabled": (
        "Waiting: the connection is switched off. This order is booked automatically once it is "
        "switched on again."
    ),
    # -- why an order needs attention (domain/mapping.py) ---------------------------------------
    "unmapped_vat_rate": (
        "No Moneybird tax rate is set for {vat_part}. Choose one for {field} in the profile; "
        "ccvbird never books a VAT rate it was not told about.{hint_part}"
    ),
    "vat.domestic": "{percentage} Dutch VAT",
    "vat.reverse_charge": "{percentage} VAT reverse-charged to an EU business",
    "vat.export": "{percentage} VAT on export outside the EU",
    "vat.oss": "{percentage} VAT of {vat_country} (OSS)",
    "vat.platform": "{percentage} VAT on a platform sale",
    "unmapped_vat_rate.oss_hint": (
        " The goods went to a consumer in {country}: if the shop charges the VAT of the "
        "customer's country (OSS), set {oss_field} and map {oss_rates_field}."
    ),
    "totals_do_not_reconcile": (
        "The invoice would total {total_amount} but the customer paid {paid_amount} "
        "(difference {difference_amount}, tolerance {tolerance_amount}). Check the order in CCV "
        "Shop; it is not booked until the amounts agree. Raise the {field} if the difference "
        "is only rounding."
    ),
    "no_rounding_tax_rate": (
        "The invoice total differs from the amount paid by {difference_amount}, within the "
        "rounding tolerance, but the profile has no tax rate for a rounding line. Choose "
        "{field} (or {zero_field})."
    ),
    "missing_vat_number": (
        "The order is marked intra-community (VAT reverse charged) but the customer has no VAT "
        "number; a reverse-charge invoice must show it. Add the VAT number in CCV Shop or "
        "charge VAT."
    ),
    "no_rows": "The order has no product rows, so there is nothing to invoice.",
    "unknown_coupon_type": (
        "Coupon {coupon} has type {kind}, which ccvbird cannot turn into an amount. Turn on "
        "{field} in the profile if CCV already counts the coupon in the order's discounts."
    ),
    "negative_total": (
        "The order totals {paid_amount} (the invoice would total {total_amount}): below zero. A "
        "sales invoice is never booked for a negative amount; a refund or return belongs on a "
        "credit invoice in Moneybird. Check the order's quantities and costs in CCV Shop."
    ),
    "reference_too_long": (
        "The invoice reference of this order (its order number) would be {length} characters "
        "long; ccvbird books references of at most {limit}, and never shortens one (a shortened "
        "reference could be another order's). Check the order number in CCV Shop."
    ),
    "amount_out_of_range": (
        "An amount of the order is beyond what Moneybird accepts (±1,000,000,000): the order "
        "totals {paid_amount}. Check the order's quantities and prices in CCV Shop."
    ),
    "amount_below_a_cent": (
        "The order has amounts below a cent that would become 0.00 on the invoice ({rows}). "
        "Check the prices in CCV Shop; ccvbird books whole cents only."
    ),
    "invalid_email": (
        "The customer's e-mail address is not valid: {why_part}. ccvbird makes no contact with an "
        "address nobody can write to; correct the address in CCV Shop, then retry."
    ),
    "email.too_long": "it is {length} characters long (at most {limit} are possible)",
    "email.no_at": "it has no '@' between a name and a domain",
    "email.local_too_long": "the part before '@' has {length} characters (at most {limit})",
    "email.domain_too_long": "the domain has {length} characters (at most {limit})",
    "email.bad_local": "the part before '@' has characters an address cannot have",
    "email.bad_domain": "the domain is not a domain name like example.nl",
    "foreign_currency": (
        "The order is in {order_currency}; the administration keeps its books in "
        "{books_currency}. ccvbird books invoices in another currency only when the profile "
        "allows it ({field} = true)."
    ),
    # -- what the engine found (service/sync.py) ------------------------------------------------
    "invalid_data": "The order cannot be read: {error}.",
    "refused": "Moneybird or CCV refused a request: {error}.",
    "bug": (
        "Unexpected error ({error}). This is a bug in ccvbird; retry after updating, or report it."
    ),
    "keeps_failing": (
        "Booking failed {attempts} times in a row; the last error was: {error}. {left_part}"
        "Check that CCV Shop and Moneybird are reachable, then retry."
    ),
    "left.draft": (
        "Moneybird has a draft invoice for this order (id {invoice_id}, reference {reference}): "
        "leave it, a retry finalises and pays it. "
    ),
    "left.unpaid": (
        "Invoice {invoice} is in Moneybird, finalised but not paid yet: a retry registers the "
        "payment. "
    ),
    "left.maybe": (
        "An invoice may have been created in Moneybird (reference {reference}), possibly a "
        "draft: a retry looks it up before making one. "
    ),
    "transient": "Temporary problem, retrying: {error}",
    "rate_limited": "Moneybird or CCV asked to slow down; retrying in {seconds} seconds.",
    "interrupted": "Handed back: {error}",
    "changed": "{change_part}",
    "changed.amounts": (
        "The order changed in CCV Shop after it was booked (lines, amounts or VAT).{total_part} "
        "The Moneybird invoice is left as it is: correct it there (for example with a credit "
        "invoice) if needed."
    ),
    "changed.total": " The total was {was_amount} and is now {now_amount}.",
    "changed.deleted": "The order was deleted in CCV Shop after it was booked.",
    "awaiting_payment": (
        "Invoice {invoice} is booked and open: CCV Shop says the order is not paid yet. Its "
        "payment is registered once CCV Shop says it is paid."
    ),
    "cancelled_after_booking": (
        "The order was cancelled in CCV Shop after invoice {invoice} was booked, before its "
        "payment was registered. ccvbird registers no payment for a cancelled order; the "
        "invoice is open in Moneybird: credit it there (a credit invoice)."
    ),
    "cancelled_after_booking_ask": (
        "The order was cancelled in CCV Shop after invoice {invoice} was booked. The profile "
        'leaves a cancellation to a person ({field} = "ask"): credit it with `ccvbird credit '
        "{order}` or the order page's button, or let ccvbird credit cancelled orders by "
        "themselves."
    ),
    "already_in_moneybird": (
        "Moneybird already has invoice {invoice} for this order (reference {reference}); "
        "{state_part} ccvbird did not make another one and left it as it is: finish it in "
        'Moneybird and retry, or set {field} = "complete" in the profile to let ccvbird finish '
        "it."
    ),
    "existing.draft": "it is a draft.",
    "existing.unpaid": "it is {invoice_state_part}, not paid.",
    "moneybird_figures_differ": (
        "Moneybird computed other figures for this order's invoice than ccvbird predicted "
        "({figures_part}). The tax rates in the profile probably do not match the "
        "administration (a wrong rate, or a percentage changed in Moneybird). {then_part}"
    ),
    "figures.total": (
        "total incl. VAT: ccvbird predicted {predicted_amount}, Moneybird computed "
        "{computed_amount}"
    ),
    "figures.rate": (
        "VAT on tax rate {tax_rate_id}: ccvbird predicted {predicted_amount}, Moneybird "
        "computed {computed_amount}"
    ),
    "figures.rate_of": (
        "VAT on tax rate {tax_rate_id} ({percentage}% in the profile): ccvbird predicted "
        "{predicted_amount}, Moneybird computed {computed_amount}"
    ),
    "figures_differ.deleted": (
        "The draft was deleted; nothing was sent or paid. Fix the profile or the tax rate in "
        "Moneybird, then retry: the order is booked anew."
    ),
    "figures_differ.left": (
        "Invoice {invoice} (reference {reference}) is left in Moneybird as it is, not sent and "
        "not paid: correct or delete it there, then retry."
    ),
    "reference_taken": (
        "This order's invoice reference {reference} starts with {other}, the reference prefix "
        "of another connection that books into the same Moneybird administration, so it could "
        "be that shop's invoice. ccvbird books neither for the other: give this connection a "
        "reference prefix of its own ({field}), then retry."
    ),
    # -- learnt from Moneybird (service/moneybird_events.py) -------------------------------------
    "invoice_deleted": (
        "The invoice {invoice} was deleted in Moneybird. ccvbird does not book the order again "
        "by itself; press retry to book it anew."
    ),
    "credited": (
        "The invoice {invoice} was credited in Moneybird{credit_part}; ccvbird leaves the order "
        "as it is."
    ),
    "credited.number": " (credit invoice {credit_invoice})",
    # -- why a connection is paused --------------------------------------------------------------
    "paused_by_hand": "Paused by hand from the dashboard.",
    "setup_not_finished": (
        "Setup is not finished: connect Moneybird, choose the administration and save the profile."
    ),
    "moneybird_disconnected": (
        "Moneybird is disconnected: ccvbird books nothing until Moneybird is connected again."
    ),
    "uninstalled_here": (
        "ccvbird was uninstalled for this shop from its dashboard; it books nothing any more and "
        "has forgotten the shop's API keys and the Moneybird access. The order history is kept."
    ),
    "uninstalled_in_shop": (
        "The app was uninstalled from the shop; ccvbird books nothing for it any more. The "
        "order history is kept."
    ),
    "profile_needs_decision": (
        "The profile needs a decision before orders are booked: {decisions}. Export it with "
        "`ccvbird profile export`, fill it in, and import it again with `ccvbird profile "
        "import`."
    ),
    "credentials_lost": (
        "Moneybird or CCV Shop no longer accepts ccvbird's access ({error}) — reconnect or fix "
        "this in the settings; syncing resumes where it stopped."
    ),
    "plan_limit": (
        "Moneybird refuses more invoices on this administration's plan ({error}) — upgrade the "
        "plan or fix this in the settings; syncing resumes where it stopped."
    ),
    "permission_denied": (
        "ccvbird may not do this in Moneybird or CCV Shop ({error}) — reconnect with the "
        "permissions asked for; syncing resumes where it stopped."
    ),
    "profile_mismatch": (
        "The profile does not match the Moneybird administration: {fields}. Nothing was booked. "
        "Fix the tax rate in Moneybird or the profile (the profile page, or `ccvbird profile "
        "import`); saving a profile that fits resumes syncing."
    ),
    # -- what does not fit in a tax rate the profile maps (domain/profile_check.py) -------------
    "mismatch.rate_missing": (
        "{field}: Moneybird has no tax rate {rate_id} (deleted, or of another administration)."
    ),
    "mismatch.rate_kind": (
        '{field}: Moneybird tax rate {rate_id} "{rate_name}" is a {kind} rate; a sales invoice '
        "needs a sales invoice rate."
    ),
    "mismatch.rate_inactive": (
        '{field}: Moneybird tax rate {rate_id} "{rate_name}" is not active in Moneybird; choose '
        "an active rate."
    ),
    "mismatch.rate_percentage": (
        '{field} is {wanted} VAT, but it is mapped to Moneybird tax rate {rate_id} "{rate_name}" '
        "of {mapped}; map it to a {wanted} rate."
    ),
    "mismatch.rate_country": (
        '{field} is VAT of {country}, but Moneybird tax rate {rate_id} "{rate_name}" is for '
        "{rate_country}; map it to the {wanted} rate of {country}."
    ),
    "mismatch.rate_not_foreign": (
        '{field} is VAT of {country}, but Moneybird tax rate {rate_id} "{rate_name}" is a Dutch '
        "rate (no country); map it to the {wanted} rate of {country}."
    ),
    "mismatch.rate_foreign": (
        '{field}: Moneybird tax rate {rate_id} "{rate_name}" is a rate for {rate_country} (OSS); '
        "map this key to a rate without a foreign country."
    ),
    "prefix_needed": (
        "The profile needs a reference prefix of its own: {conflict_part} Nothing is booked "
        "for this connection until it has one."
    ),
    "prefix.same": (
        "another connection books into this Moneybird administration with the same prefix "
        "({prefix}), so both would make the same invoice references; set {field} to a prefix "
        "of its own (for example {example})."
    ),
    "prefix.alike": (
        "the prefix {prefix} and the prefix {other} of another connection in this Moneybird "
        "administration start alike, so their references could coincide; choose a {field} "
        "that is not the start of the other (for example {example})."
    ),
    # -- the lines of an order's log (events without a reason of the order) ----------------------
    "event.booking.start": "booking order {order}",
    "event.contact.resolved": "contact {contact_id}",
    "event.invoice.create": "creating invoice {reference}",
    "event.invoice.stored": "invoice {invoice_id} ({state_part})",
    # -- a Moneybird invoice's state, in words (its ``state``) ----------------------------------
    "invoice_state.draft": "draft",
    "invoice_state.open": "open",
    "invoice_state.scheduled": "scheduled",
    "invoice_state.pending_payment": "pending payment",
    "invoice_state.late": "late",
    "invoice_state.reminded": "reminded",
    "invoice_state.paid": "paid",
    "invoice_state.uncollectible": "uncollectible",
    "invoice_state.other": "in another state",
    "event.invoice.draft_deleted": "draft {invoice_id} deleted",
    "event.invoice.send": "finalising the invoice (delivery method Manual)",
    "event.invoice.already_final": "invoice {invoice} was already final",
    "event.invoice.sent": "invoice {invoice} finalised; nothing was e-mailed",
    "event.invoice_date.recovered": "booked with invoice date {invoice_date}",
    "event.payment.seen_paid": (
        "CCV Shop says the order is paid; its payment is dated {payment_date}"
    ),
    "event.payment.adopted": "the invoice was already paid in Moneybird",
    "event.payment.create": "registering the payment of {amount}",
    "event.payment.created": "payment {payment_id} registered",
    "event.booked": "invoice {invoice} booked and paid ({total_amount})",
    "event.booked.paid_later": (
        "invoice {invoice} paid in CCV Shop; payment registered, dated {payment_date}"
    ),
    "event.booked.taken_over": (
        "invoice {invoice} was in Moneybird already; taken over as this order's booking"
    ),
    "event.booked.awaiting_payment": "invoice {invoice} booked, not paid ({total_amount})",
    "event.awaiting_payment": "CCV Shop says the order is not paid",
    "event.credited.cancel": "cancelled order credited ({reference})",
    "event.credited.lower": "the order's lower amount is credited in Moneybird",
    "event.retry.requested": "retry requested",
    "event.retry.dashboard": "retry requested from the dashboard",
    "event.retry.command_line": "retry requested from the command line",
    # -- why the profile page cannot preview an order (wiring/shop.py) ---------------------------
    "preview_no_order": "Fill in an order number or a CCV order id.",
    "preview_unknown_number": (
        "ccvbird knows no order number {order} yet; give the CCV order id (the number in the "
        "address of the order in CCV Shop)."
    ),
    "preview_not_in_shop": "CCV Shop has no order {order}.",
    "preview_shop_unreachable": (
        "CCV Shop could not be asked for the order just now ({error}); try again in a moment."
    ),
    # -- the steps of a credit (service/credits.py), on its order's log ---------------------------
    "event.credit.waiting": "credit {reference} waits for the order's invoice",
    "event.credit.create": "creating credit {reference}",
    "event.credit.created": "credit {reference}: credit invoice {invoice_id} (draft)",
    "event.credit.adopted": "credit {reference} found in Moneybird after an interruption",
    "event.credit.edit": "credit {reference}: writing its reference and lines",
    "event.credit.send": "credit {reference}: finalising it (delivery method Manual)",
    "event.credit.settle": "credit {reference}: settling it ({settle_part})",
    "event.credit.settle.refund": "the refund registered as paid back",
    "event.credit.settle.set_off": "set off against the invoice",
    "event.credit.booked": "credit {reference} booked ({total_amount}; {settle_part})",
    "event.credit.retry": "credit {reference}: a temporary problem ({error}); retried later",
    "event.credit.parked": "credit {reference} needs attention",
}

#: Separates the keys of a ``fields`` parameter.
FIELD_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why, as a code of :data:`MESSAGES` and its facts (strings); ``also``: more reasons that
    hold at the same time (an order with two unmapped VAT rates)."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)
    also: tuple[Reason, ...] = ()

    def stored_params(self) -> dict[str, str]:
        """The parameters as stored beside the code (``also`` folded in as JSON)."""
        stored = dict(self.params)
        if self.also:
            stored["also"] = json.dumps(
                [[r.code, r.stored_params()] for r in self.also], sort_keys=True
            )
        return stored

    @property
    def text(self) -> str:
        """In English, for the text column, logs and the API (amounts as "EUR 12.30")."""
        return english(self.code, self.stored_params())


INVOICE_STATES = frozenset(
    {"draft", "open", "scheduled", "pending_payment", "late", "reminded", "paid", "uncollectible"}
)


def invoice_state_part(state: str) -> str:
    """The ``state_part`` naming a Moneybird invoice's ``state`` in the reader's words."""
    return f"invoice_state.{state if state in INVOICE_STATES else 'other'}"


#: The codes whose reason is about the profile: saving a profile that fits resumes them.
PROFILE_PAUSES = frozenset({"prefix_needed", "profile_mismatch", "profile_needs_decision"})
#: The codes of a connection that lost access to Moneybird or CCV: reconnecting resumes them.
ACCESS_PAUSES = frozenset(
    {"credentials_lost", "permission_denied", "plan_limit", "moneybird_disconnected"}
)

#: How pauses about the profile began when they were stored as sentences only.
OLD_PROFILE_PAUSES = ("The profile needs", "The profile does not match")


def known_text(text: str) -> str:
    """The code of a message without parameters whose English is ``text`` ("" when none):
    a pause stored as a sentence only (by an older version) is still understood."""
    return _BY_TEXT.get(text, "")


def joined(reasons: Sequence[Reason]) -> Reason:
    """Several reasons as one: the first decides the code, the rest come along."""
    first, *rest = reasons
    return Reason(first.code, first.params, (*first.also, *rest))


def decode_params(text: str | None) -> dict[str, str] | None:
    """The stored JSON of a reason's parameters (``None``: stored by a version without them)."""
    if text is None or text == "":
        return None
    try:
        loaded = json.loads(text)
    except ValueError:
        return None
    if not isinstance(loaded, dict):
        return None
    return {str(k): str(v) for k, v in loaded.items()}


def placeholders(template: str) -> list[str]:
    return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name]


def is_money(name: str) -> bool:
    return name == "amount" or name.endswith("_amount")


def is_field(name: str) -> bool:
    return name == "field" or name.endswith("_field")


def is_date(name: str) -> bool:
    return name.endswith("_date")


#: (name, raw value, all parameters) → the value as a reader of this language reads it.
Formatter = Callable[[str, str, Mapping[str, str]], str]


def render(
    code: str,
    params: Mapping[str, str],
    *,
    translate: Callable[[str], str],
    value: Formatter,
) -> str:
    """The message of ``code`` in one language: ``translate`` gives the template's words, and
    ``value`` formats each parameter. Parts and ``also`` are rendered the same way. A code this
    version does not know renders as the code itself."""
    template = MESSAGES.get(code)
    if template is None:
        return code
    values: dict[str, str] = {}
    for name in placeholders(template):
        raw = params.get(name, "")
        if name.endswith("_part"):
            values[name] = (
                render(raw, params, translate=translate, value=value) if raw in MESSAGES else ""
            )
        else:
            values[name] = value(name, raw, params)
    text = translate(template).format(**values)
    for more_code, more_params in _also(params):
        text += " " + render(more_code, more_params, translate=translate, value=value)
    return text


def _also(params: Mapping[str, str]) -> list[tuple[str, dict[str, str]]]:
    raw = params.get("also")
    if not raw:
        return []
    try:
        loaded = json.loads(raw)
    except ValueError:
        return []
    return [(str(c), {str(k): str(v) for k, v in p.items()}) for c, p in loaded]


def plain_value(name: str, raw: str, params: Mapping[str, str]) -> str:
    """English, plainly: money as "EUR 12.30", profile keys and dates as they are stored."""
    if is_money(name):
        try:
            amount = f"{Decimal(raw).quantize(Decimal('0.01')):f}"
        except (InvalidOperation, ValueError):
            return raw
        currency = params.get("currency", "")
        return f"{currency} {amount}" if currency else amount
    if name == "fields":
        return ", ".join(raw.split(FIELD_SEPARATOR))
    return raw


def english(code: str, params: Mapping[str, str]) -> str:
    return render(code, params, translate=lambda text: text, value=plain_value)


_BY_TEXT = {english(code, {}): code for code, text in MESSAGES.items() if not placeholders(text)}
