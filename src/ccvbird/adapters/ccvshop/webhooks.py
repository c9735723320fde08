"""CCV webhook bodies, read as triggers (reference §5.2).

A delivery is a POST with a small JSON summary of the order — ``id``, ``href``, ``order_number``
(with an underscore, unlike the order's ``ordernumber``), totals, and per event ``paid`` or
``status``/``previous_status``. It is never the truth about the order: the engine re-reads the
order through the signed API. So parsing only extracts what to enqueue — which shop, which
order, which event — and is strict about exactly that.

The body does not name its event; the address it was posted to does (we register one address
per event). When the caller does not know, the event is inferred from the fields present.

How CCV signs deliveries is not documented (reference §10.2). :func:`webhook_hash` is the likely
scheme, ``HMAC-SHA512(key, "<address>|<raw body>")`` — the one every other CCV→app call uses;
the sandbox signs that way, and a receiver may check it, but must not refuse a delivery on it
until it has been seen on a real delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ccvbird.adapters.ccvshop.signing import hmac_sha512
from ccvbird.adapters.ccvshop.wire import _datetime, loads
from ccvbird.domain.errors import CcvbirdError

ORDER_CREATED = "orders.created"
ORDER_PAID = "orders.updated.ispaid"
ORDER_STATUS = "orders.updated.status"
ORDER_TRACK_AND_TRACE = "orders.updated.trackandtrace"
ORDER_DELETED = "orders.deleted"

INVOICE_STATUS = "invoices.updated.status"
RETURN_CREATED = "returns.created"
RETURN_UPDATED = "returns.updated"

#: The order events ccvbird registers for (a status or payment change can make an order bookable).
ORDER_EVENTS = (ORDER_CREATED, ORDER_PAID, ORDER_STATUS)
#: Events about an order's credits: their body names the invoice or the return, not the order
#: (``id`` is the invoice's or the return's), so the order is found by reading it.
INVOICE_EVENTS = (INVOICE_STATUS,)
RETURN_EVENTS = (RETURN_CREATED, RETURN_UPDATED)
#: Every event ccvbird registers at install.
REGISTERED_EVENTS = (*ORDER_EVENTS, *INVOICE_EVENTS, *RETURN_EVENTS)
KNOWN_EVENTS = frozenset({*REGISTERED_EVENTS, ORDER_TRACK_AND_TRACE, ORDER_DELETED,
                          "returns.deleted"})  # fmt: skip


class InvalidWebhookBody(CcvbirdError):
    """A webhook body ccvbird cannot act on; ``field`` names what is missing or wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"webhook {field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class WebhookTrigger:
    """ "Order ``order_id`` of the shop at ``shop`` may need work because of ``event``"."""

    shop: str  # origin of the shop's API, e.g. https://demoshop.ccvshop.nl
    order_id: str
    event: str
    order_number: str = ""
    triggered_at: datetime | None = None
    paid: bool | None = None
    status: int | None = None
    previous_status: int | None = None
    total_price: Decimal | None = None


def webhook_hash(key: str, address: str, raw_body: bytes) -> str:
    """The probable delivery signature (unverified against CCV, see the module docstring)."""
    return hmac_sha512(key, address.encode() + b"|" + raw_body)


def infer_event(body: dict[str, Any]) -> str:
    """The event a body stands for, from the fields that only that event sends."""
    if "paid" in body:
        return ORDER_PAID
    if "status" in body and "previous_status" in body:
        return ORDER_STATUS
    if "track_and_trace_code" in body:
        return ORDER_TRACK_AND_TRACE
    return ORDER_CREATED


#: CCV ids are database integers; anything longer is not an id (and would not fit the columns).
MAX_ID_DIGITS = 18


def _int_or_none(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    return _small_int(value, name)


def _small_int(value: object, name: str) -> int:
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not text.isdigit() or not text.isascii():
        raise InvalidWebhookBody(name, f"{str(value)[:40]!r} is not a number")
    if len(text) > MAX_ID_DIGITS:
        raise InvalidWebhookBody(name, f"a number of {len(text)} digits is not a CCV id")
    return int(text)


def parse_webhook(raw_body: bytes | str, *, event: str | None = None) -> WebhookTrigger:
    """The trigger a CCV webhook body stands for.

    ``event`` is what the receiving address was registered for; without it, it is inferred.
    Raises :class:`InvalidWebhookBody` naming the field when the body cannot identify an order.
    """
    try:
        body = loads(raw_body)
    except RecursionError:
        raise InvalidWebhookBody("body", "nested too deeply") from None
    except ValueError:  # not JSON, not UTF-8, or an integer too long to read
        raise InvalidWebhookBody("body", "not JSON") from None
    if not isinstance(body, dict):
        raise InvalidWebhookBody("body", "expected a JSON object")
    if event is not None and event not in KNOWN_EVENTS:
        raise InvalidWebhookBody("event", f"{event!r} is not a CCV event ccvbird knows")

    href = body.get("href")
    if not isinstance(href, str) or not href.strip():
        raise InvalidWebhookBody("href", "missing (it says which shop sent the webhook)")
    parts = urlsplit(href.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidWebhookBody("href", f"{href!r} is not an absolute URL")

    order_id = _int_or_none(body, "id")
    if order_id is None:  # fall back on the id at the end of the href
        last = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if not last.isdigit():
            raise InvalidWebhookBody("id", "missing")
        order_id = _small_int(last, "id")

    triggered_at = None
    if body.get("triggered_at"):
        try:
            triggered_at = _datetime(body["triggered_at"])
        except ValueError as exc:
            raise InvalidWebhookBody("triggered_at", str(exc)) from None

    paid = body.get("paid")
    total = body.get("total_price")
    number = body.get("ordernumber_full") or body.get("order_number") or ""
    return WebhookTrigger(
        shop=f"{parts.scheme}://{parts.netloc}",
        order_id=str(order_id),
        event=event or infer_event(body),
        order_number=str(number),
        triggered_at=triggered_at,
        paid=paid if isinstance(paid, bool) else None,
        status=_int_or_none(body, "status"),
        previous_status=_int_or_none(body, "previous_status"),
        total_price=(
            Decimal(total)
            if isinstance(total, int | Decimal) and not isinstance(total, bool)
            else None
        ),
    )
