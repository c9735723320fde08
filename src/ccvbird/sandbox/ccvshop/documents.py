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
        "return_status": [],
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


_INVOICE_MONEY = ("total_shipping", "total_discounts", "total_price", "total_tax",
                  "paymethod_costs", "credit_point_discount", "extra_costs",
                  "extra_payment_option_price")  # fmt: skip
_ROW_MONEY = ("price", "discount", "user_discount", "original_price", "selling_price",
              "price_without_discount", "price_without_discount_with_attributes", "total_price",
              "total_extra_option_price", "price_with_attributes", "total_price_with_attributes",
              "product_purchase_price")  # fmt: skip


def _sign(value: Any, sign: int) -> Any:
    return -value if sign < 0 and isinstance(value, Decimal | int) and value else value


def invoice(
    root: str, invoice_id: int, number: int, order: dict[str, Any], *, credit: bool,
    status: str, created: str,
) -> dict[str, Any]:  # fmt: skip
    """A CCV invoice for ``order``; a credit invoice carries the amounts negated (our choice:
    CCV's sign convention for credit invoices is not documented)."""
    sign = -1 if credit else 1
    money = {name: _sign(order.get(name) or ZERO, sign) for name in _INVOICE_MONEY}
    total, tax = money["total_price"], money["total_tax"]
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
        "type": "credit" if credit else "debit",
        "payment_link_sent": None,
        "taxes_included": order.get("taxes_included", True),
        "invoice_row_taxes_included": order.get("order_row_taxes_included", True),
        "is_intra_community_order": order.get("is_intra_community_order", False),
        "shipping_taxes_included": order.get("shipping_taxes_included", True),
        "shipping_tax_percentage": order.get("shipping_tax_percentage") or ZERO,
        "total_shipping": money["total_shipping"],
        "total_discounts": money["total_discounts"],
        "total_price_inc_tax": total,
        "total_price_exc_tax": total - tax,
        "total_price": total,
        "total_tax": tax,
        "currency": order.get("currency", "EUR"),
        "extra_payment_option": order.get("extra_payment_option", ""),
        "extra_payment_option_price": money["extra_payment_option_price"],
        "paymethod_costs": money["paymethod_costs"],
        "credit_point_discount": money["credit_point_discount"],
        "extra_costs": money["extra_costs"],
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


def invoice_rows(
    root: str, invoice_id: int, first_row_id: int, rows: list[dict[str, Any]], *, credit: bool
) -> list[dict[str, Any]]:
    sign = -1 if credit else 1
    documents = []
    for offset, row in enumerate(rows):
        row_id = first_row_id + offset
        document: dict[str, Any] = {
            "href": f"{root}/invoicerows/{row_id}",
            "id": row_id,
            "invoice_id": str(invoice_id),
        }
        for name in ("product_type", "product_name", "product_number", "sub_product_number",
                     "sub_sku_number", "sub_ean_number", "product_id", "product_href", "count",
                     "price", "product_purchase_price", "discount", "custom_price", "tax", "unit",
                     "weight", "memo", "package_id", "package_name", "stock_location",
                     "supplier", "user_discount", "original_price", "selling_price",
                     "price_without_discount", "price_without_discount_with_attributes",
                     "total_price", "total_extra_option_price", "price_with_attributes",
                     "total_price_with_attributes"):  # fmt: skip
            value = row.get(name)
            document[name] = _sign(value, sign) if name in _ROW_MONEY else value
        document["attributes"] = [
            {"option_name": a.get("option_name"), "value_name": a.get("value_name"),
             "price": a.get("price")}
            for a in row.get("attributes") or []
        ]  # fmt: skip
        document["orderrow"] = {"href": f"{root}/orderrows/{row.get('id')}"}
        document["parent"] = {"href": f"{root}/invoices/{invoice_id}"}
        documents.append(document)
    return documents
