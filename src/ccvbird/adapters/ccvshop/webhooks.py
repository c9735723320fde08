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

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ccvbird.adapters.ccvshop.signing import hmac_sha512
from ccvbird.adapters.ccvshop.wire import _datetime, loads
from ccvbird.domain.bounds import is_order_id
from ccvbird.domain.errors import CcvbirdError

ORDER_CREATED = "orders.created"
ORDER_PAID = "orders.updated.ispaid"
ORDER_STATUS = "orders.updated.status"
ORDER_TRACK_AND_TRACE = "orders.updated.trackandtrace"
ORDER_DELETED = "orders.deleted"

#: The order events ccvbird registers for (a status or payment change can make an order bookable).
ORDER_EVENTS = (ORDER_CREATED, ORDER_PAID, ORDER_STATUS)
KNOWN_EVENTS = frozenset({ORDER_CREATED, ORDER_PAID, ORDER_STATUS, ORDER_TRACK_AND_TRACE,
                          ORDER_DELETED, "invoices.updated.status"})  # fmt: skip


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


def _int_or_none(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise InvalidWebhookBody(name, f"{value!r} is not a number")
    return int(str(value).strip())


def parse_webhook(raw_body: bytes | str, *, event: str | None = None) -> WebhookTrigger:
    """The trigger a CCV webhook body stands for.

    ``event`` is what the receiving address was registered for; without it, it is inferred.
    Raises :class:`InvalidWebhookBody` naming the field when the body cannot identify an order.
    """
    try:
        body = loads(raw_body)
    except (json.JSONDecodeError, UnicodeDecodeError):
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
        order_id = int(last)
    if not is_order_id(str(order_id)):
        raise InvalidWebhookBody(
            "id", f"a number of {len(str(order_id))} digits is no CCV order id"
        )

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
