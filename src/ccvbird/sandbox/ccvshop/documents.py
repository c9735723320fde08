"""The sandbox shop's resources as CCV serves them: same field names and types as the real ones.

Field lists follow ``../shared/fixtures/ccvshop/field-inventory.json`` (webshop, merchant,
settings, paymethod, invoice, invoice row, webhook) and CCV's SDK for apps; webhook bodies follow
the captured deliveries in the fixtures. Amounts are Decimals (written as exact JSON numbers).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from ccvbird.domain.order import STATUS_NAMES
from ccvbird.sandbox.ccvshop.credits import ROW_TOTALS, ROW_UNIT_MONEY
from ccvbird.sandbox.ccvshop.generator import PAYMETHODS

ZERO = Decimal(0)

#: CCV's documented status meanings (the ``status`` field); ``status_name`` is the shop's label.
STATUS_MEANINGS = {
    1: "New", 2: "In process", 3: "Wait for manufacturer", 4: "Wait for payment", 5: "Sent",
    6: "Delivered", 7: "Completed", 8: "Cancelled", 9: "Wait for supplier",
    10: "Is being packaged", 11: "Ready to be collected", 12: "Is being assembled",
    13: "Backorder", 14: "Reserved",
}  # fmt: skip

#: Invoice status codes (documented as strings) and the words the list filter takes.
INVOICE_STATUS = {"1": "paid", "2": "unpaid", "3": "reimbursed"}
INVOICE_STATUS_NAMES = {"1": "Betaald", "2": "Onbetaald", "3": "Terugbetaald"}

WEBHOOK_EVENTS = frozenset({
    "orders.created", "orders.updated.ispaid", "orders.updated.status",
    "orders.updated.trackandtrace", "orders.deleted", "invoices.updated.status",
    "products.created", "products.updated", "products.deleted", "returns.created",
    "returns.updated", "returns.deleted", "categories.created", "categories.updated",
    "categories.deleted",
})  # fmt: skip


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """CCV's error body: ``status``, ``code``, ``developermessage``."""
    return {"status": status, "code": code, "developermessage": message}


def collection(
    root: str, path: str, items: list[Any], *, start: int, size: int, query: list[tuple[str, str]]
) -> dict[str, Any]:
    """One page of a collection with absolute links that keep the filters, as CCV pages."""

    def link(at: int) -> str:
        return f"{root}/{path}/?" + urlencode([("start", at), ("size", size), *query])

    page = items[start : start + size]
    has_next = start + size < len(items)
    return {
        "href": link(start),
        "start": start,
        "size": size,
        "first": link(0),
        "previous": link(max(start - size, 0)) if start > 0 else None,
        "next": link(start + size) if has_next else None,
        "items": page,
    }


def webshop(root: str, webshop_id: int, name: str, base_url: str) -> dict[str, Any]:
    return {
        "href": f"{root}/webshops/{webshop_id}",
        "id": webshop_id,
        "name": name,
        "is_multishop_system": False,
        "product_limit": 10000,
        "product_limit_left": 9987,
        "api_root": base_url,
        "webshops": {"href": f"{root}/webshops/{webshop_id}/webshops"},
        "parent": None,
    }


def merchant(root: str, webshop_id: int, company: str) -> dict[str, Any]:
    return {
        "href": f"{root}/webshops/{webshop_id}/merchant",
        "gender": None,
        "first_name": "Mira",
        "last_name": "Koster",
        "full_name": "Mira Koster",
        "company": company,
        "email": "winkel@example.nl",
        "address_line": "Oudegracht 120",
        "street": "Oudegracht",
        "housenumber": "120",
        "zipcode": "3511 AX",
        "city": "Utrecht",
        "country": "Nederland",
        "country_code": "NL",
        "telephone": "0301234500",
        "tax_number": "NL001234567B01",
        "coc_number": "12345678",
        "parent": {"href": f"{root}/webshops/{webshop_id}"},
    }


def _statuses(names: dict[int, str], meanings: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": number,
            "status": meanings.get(number, str(number)),
            "status_name": names.get(number, meanings.get(number, str(number))),
            "text_color": "#ffffff",
            "background_color": "#3c8dbc",
        }
        for number in sorted(meanings)
    ]


def settings(root: str, webshop_id: int, status_names: dict[int, str]) -> dict[str, Any]:
    return {
        "href": f"{root}/webshops/{webshop_id}/settings",
        "webshop_enabled": True,
        "webshop_disabled_title": "",
        "webshop_disabled_text": "",
        "currency": "EUR",
        "default_vat_rat": Decimal(21),
        "prices_include_vat": True,
        "full_ssl_webshop": True,
        "creditpoint_value": Decimal("0.01"),
        "languages": ["nl", "en"],
        "backend_language": "nl",
        "separate_domain_per_language": False,
        "stock": True,
        "ordering_without_stock": "allowed",
        "stock_level_warnings": {"email": "winkel@example.nl", "level": 2},
        "multishop_readonly_properties": [],
        "checkout_type": ["default"],
        "takeoutsettings": None,
        "quotation_status": [],
        "order_status": _statuses({**STATUS_NAMES, **status_names}, STATUS_MEANINGS),
        "invoice_status": [
            {
                "id": int(code),
                "status": word,
                "status_name": INVOICE_STATUS_NAMES[code],
                "text_color": "#ffffff",
                "background_color": "#00a65a",
            }
            for code, word in INVOICE_STATUS.items()
        ],
        "return_status": [
            {
                "id": int(code),
                "status": word,
                "status_name": name,
                "text_color": "#ffffff",
                "background_color": "#f39c12",
            }
            for code, (word, name) in RETURN_STATUS.items()
        ],
        "parent": {"href": f"{root}/webshops/{webshop_id}"},
    }


def paymethods() -> list[dict[str, Any]]:
    documents = []
    for paymethod_id, combined, label, costs in PAYMETHODS:
        psp = "Mollie" if combined.startswith("Mollie") else ""
        documents.append(
            {
                "id": paymethod_id,
                "psp": psp,
                "method": combined.removeprefix("Mollie").lower(),
                "combined_name": combined,
                "label": label,
                "extra_costs": costs != 0,
                "extra_costs_fixed": costs,
                "extra_costs_percentage": ZERO,
                "apppsp": None,
                "apppsppaymethod": None,
            }
        )
    return documents


def app(
    root: str, app_id: int, name: str, *, installed: bool, created: str, installations: int
) -> dict[str, Any]:
    return {
        "id": app_id,
        "href": f"{root}/apps/{app_id}",
        "name": name,
        "eur_prices": {"monthly": ZERO, "once": ZERO},
        "chf_prices": {"monthly": ZERO, "once": ZERO},
        "create_date": created,
        "modified_date": created,
        "description": f"{name} (sandbox app)",
        "cover": "",
        "logo": "",
        "developer": {"name": "ccvbird", "email": "dev@example.org"},
        "number_of_installations": installations,
        "is_installed": installed,
        "available_languages": ["nl", "en"],
        "photos": [],
        "categories": {"href": f"{root}/apps/{app_id}/categories"},
        "code_blocks": {"href": f"{root}/apps/{app_id}/appcodeblocks"},
        "psp": None,
    }


def webhook(
    root: str, webshop_id: int, hook_id: int, *, event: str, address: str, key: str,
    is_active: bool, created: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "href": f"{root}/webhooks/{hook_id}",
        "id": hook_id,
        "createdate": created,
        "event": event,
        "address": address,
        "key": key,
        "is_active": is_active,
        "parent": {"href": f"{root}/webshops/{webshop_id}"},
    }


def webhook_body(
    root: str, order: dict[str, Any], event: str, triggered_at: str, *, previous_status: int | None
) -> dict[str, Any]:
    """The body CCV posts for an order event, in the field order of the captured deliveries."""
    customer = order.get("customer") or {}
    billing = customer.get("billingaddress") or {}
    body: dict[str, Any] = {
        "triggered_at": triggered_at,
        "href": f"{root}/orders/{order['id']}",
        "id": order["id"],
        "order_number": order.get("ordernumber"),
        "ordernumber_prefix": order.get("ordernumber_prefix"),
        "ordernumber_full": order.get("ordernumber_full"),
        "total_price": order.get("total_price"),
    }
    if event == "orders.updated.status":
        body["previous_status"] = previous_status
        body["status"] = order.get("status")
    elif event == "orders.updated.ispaid":
        body["paid"] = bool(order.get("paid"))
    body["customer_email"] = customer.get("email", "")
    body["customer_mobile"] = billing.get("mobile", "")
    return body


def invoice(
    root: str, invoice_id: int, number: int, order: dict[str, Any], *,
    amounts: dict[str, Decimal], status: str, created: str,
) -> dict[str, Any]:  # fmt: skip
    """A CCV invoice of ``order`` for ``amounts`` (the difference it invoices, signed).

    The sandbox's wire reading of a credit invoice (CCV documents no sign): ``type`` "credit",
    every amount negative (totals, shipping, costs, and ``total_discounts`` as the discount
    given back), row counts positive. Debit amounts plus credit amounts net to the order."""
    total, tax = amounts["total_price"], amounts["total_tax"]
    customer = order.get("customer") or {}
    user = order.get("user") or {}
    deeplink = f"{root.split('/api/')[0]}/invoice.php?id={invoice_id}"
    return {
        "href": f"{root}/invoices/{invoice_id}",
        "id": invoice_id,
        "invoicenumber_prefix": None,
        "invoicenumber": number,
        "invoicenumber_full": str(number),
        "ordernumber_prefix": order.get("ordernumber_prefix"),
        "ordernumber": order.get("ordernumber"),
        "ordernumber_full": order.get("ordernumber_full"),
        "create_date": created,
        "status": status,
        "status_name": INVOICE_STATUS_NAMES[status],
        "type": "credit" if total < 0 else "debit",
        "payment_link_sent": None,
        "taxes_included": order.get("taxes_included", True),
        "invoice_row_taxes_included": order.get("order_row_taxes_included", True),
        "is_intra_community_order": order.get("is_intra_community_order", False),
        "shipping_taxes_included": order.get("shipping_taxes_included", True),
        "shipping_tax_percentage": order.get("shipping_tax_percentage") or ZERO,
        "total_shipping": amounts["total_shipping"],
        "total_discounts": amounts["total_discounts"],
        "total_price_inc_tax": total,
        "total_price_exc_tax": total - tax,
        "total_price": total,
        "total_tax": tax,
        "currency": order.get("currency", "EUR"),
        "extra_payment_option": order.get("extra_payment_option", ""),
        "extra_payment_option_price": amounts["extra_payment_option_price"],
        "paymethod_costs": amounts["paymethod_costs"],
        "credit_point_discount": amounts["credit_point_discount"],
        "extra_costs": amounts["extra_costs"],
        "extra_costs_description": order.get("extra_costs_description", ""),
        "external_reference": None,
        "deeplink": deeplink,
        "user": {"id": user.get("id"), "href": user.get("href")},
        "customer": customer,
        "discountcoupon": order.get("discountcoupon") or {},
        "order": f"{root}/orders/{order['id']}",
        "invoicerows": {"href": f"{root}/invoices/{invoice_id}/invoicerows"},
        "invoicenotifications": {"href": f"{root}/invoices/{invoice_id}/invoicenotifications"},
        "download_link": deeplink,
    }


_ROW_FIELDS = ("product_type", "product_name", "product_number", "sub_product_number",
               "sub_sku_number", "sub_ean_number", "product_id", "product_href", "count",
               "price", "product_purchase_price", "discount", "custom_price", "tax", "unit",
               "weight", "memo", "package_id", "package_name", "stock_location", "supplier",
               "user_discount", "original_price", "selling_price", "price_without_discount",
               "price_without_discount_with_attributes", "total_price",
               "total_extra_option_price", "price_with_attributes",
               "total_price_with_attributes")  # fmt: skip


def _negated(value: Any) -> Any:
    return -value if isinstance(value, Decimal | int) and not isinstance(value, bool) else value


def invoice_row(
    root: str, invoice_id: int, row_id: int, row: dict[str, Any], change: dict[str, Decimal]
) -> dict[str, Any]:
    """The invoice row for ``change`` of order row ``row``: the count invoiced (positive), the
    row's per-item amounts (negated on a credit) and the invoiced totals (signed)."""
    credit = change["total_price_with_attributes"] < 0 or (
        change["total_price_with_attributes"] == 0 and change["count"] < 0
    )
    document: dict[str, Any] = {
        "href": f"{root}/invoicerows/{row_id}",
        "id": row_id,
        "invoice_id": str(invoice_id),
    }
    for name in _ROW_FIELDS:
        value = row.get(name)
        if name in ROW_UNIT_MONEY and credit:
            value = _negated(value)
        document[name] = value
    document["count"] = abs(change["count"])
    for name in ROW_TOTALS:
        document[name] = change[name]
    document["attributes"] = [
        {"option_name": a.get("option_name"), "value_name": a.get("value_name"),
         "price": _negated(a.get("price")) if credit else a.get("price")}
        for a in row.get("attributes") or []
    ]  # fmt: skip
    document["orderrow"] = {"href": f"{root}/orderrows/{row.get('id')}"}
    document["parent"] = {"href": f"{root}/invoices/{invoice_id}"}
    return document


def invoice_webhook_body(
    root: str, invoice: dict[str, Any], order_id: int, triggered_at: str, *,
    previous_status: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The sandbox's body for ``invoices.updated.status`` (CCV's is not captured anywhere).

    It names the invoice (``href``, ``id``) and, so that a listener needs no extra call, the
    order it belongs to (``order_id``, ``order_href``, ``order_number``)."""
    return {
        "triggered_at": triggered_at,
        "href": invoice["href"],
        "id": invoice["id"],
        "invoicenumber": invoice["invoicenumber"],
        "invoicenumber_full": invoice["invoicenumber_full"],
        "type": invoice["type"],
        "previous_status": previous_status,
        "status": invoice["status"],
        "total_price": invoice["total_price"],
        "order_id": order_id,
        "order_href": f"{root}/orders/{order_id}",
        "order_number": invoice.get("ordernumber"),
        "ordernumber_full": invoice.get("ordernumber_full"),
    }


#: Return statuses (reference §5: 1 New … 6 Canceled, 7 Completed, 8 Credited); the names of
#: 2-5 are the sandbox's guess — CCV's list was not retrieved.
RETURN_STATUS = {
    "1": ("New", "Nieuw"), "2": ("In process", "In behandeling"),
    "3": ("Waiting for goods", "Wacht op retourzending"), "4": ("Received", "Ontvangen"),
    "5": ("Rejected", "Afgewezen"), "6": ("Canceled", "Geannuleerd"),
    "7": ("Completed", "Afgerond"), "8": ("Credited", "Gecrediteerd"),
}  # fmt: skip


def return_document(
    root: str, return_id: int, number: int, order: dict[str, Any], *, status: str,
    created: str, reason: str, totals: tuple[Decimal, Decimal],
) -> dict[str, Any]:  # fmt: skip
    """A CCV return (RMA), fields as the 2022 model lists them; ``totals`` = (price, VAT) of
    its rows in the order's price mode."""
    price, tax = totals
    gross = order.get("order_row_taxes_included", True)
    inc = price if gross else price + tax
    user = order.get("user") or {}
    return {
        "href": f"{root}/returns/{return_id}",
        "id": return_id,
        "returnnumber_prefix": None,
        "returnnumber": number,
        "returnnumber_full": str(number),
        "ordernumber_prefix": order.get("ordernumber_prefix"),
        "ordernumber": order.get("ordernumber"),
        "ordernumber_full": order.get("ordernumber_full"),
        "create_date": created,
        "status": status,
        "status_name": RETURN_STATUS[status][1],
        "action_name": "Geld terug",
        "reason_name": reason,
        "total_price_inc_tax": inc,
        "total_price_exc_tax": inc - tax,
        "total_price": inc,
        "total_tax": tax,
        "currency": order.get("currency", "EUR"),
        "user": {"id": user.get("id"), "href": user.get("href")},
        "customer": order.get("customer") or {},
        "order": f"{root}/orders/{order['id']}",
        "returnrows": {"href": f"{root}/returns/{return_id}/returnrows"},
    }


def return_row(
    root: str, return_id: int, row_id: int, row: dict[str, Any], count: Decimal,
    total: Decimal,
) -> dict[str, Any]:  # fmt: skip
    """One returned order row (no captured model: the order row's product fields, the count
    returned and its value)."""
    return {
        "href": f"{root}/returnrows/{row_id}",
        "id": row_id,
        "return_id": str(return_id),
        "product_name": row.get("product_name"),
        "product_number": row.get("product_number"),
        "product_type": row.get("product_type"),
        "count": count,
        "price": row.get("price"),
        "tax": row.get("tax"),
        "total_price": total,
        "orderrow": {"href": f"{root}/orderrows/{row.get('id')}"},
        "parent": {"href": f"{root}/returns/{return_id}"},
    }


def return_webhook_body(
    root: str, document: dict[str, Any], order_id: int, triggered_at: str
) -> dict[str, Any]:
    """The sandbox's body for ``returns.created|updated|deleted`` (CCV's is not captured)."""
    return {
        "triggered_at": triggered_at,
        "href": document["href"],
        "id": document["id"],
        "returnnumber": document["returnnumber"],
        "returnnumber_full": document["returnnumber_full"],
        "status": document["status"],
        "order_id": order_id,
        "order_href": f"{root}/orders/{order_id}",
        "order_number": document.get("ordernumber"),
        "ordernumber_full": document.get("ordernumber_full"),
    }
