"""CCV Shop: the signed REST client, wire models, App Store flow and webhook triggers.

Public surface (everything else is an implementation detail)::

    CcvShopClient(credentials, *, http=None, budget=None, retry=None, sleep, clock, timeout,
                  page_size=100, verify_responses=True)
    CcvCredentials(api_root, public_key, secret)
    OrderFilter(status, is_paid, is_completed, min_create_date, max_create_date, ordernumber,
                paymethod_id, orderby="id")
    InvoiceFilter(ordernumber, invoicenumber, status, min_create_date, max_create_date, orderby)
    CcvBudget(gets=150, writes=100, window=61.0, clock)
    signature(...), sign_request(...), x_date(...)                      (signing)
    verify_handshake(...), verify_install(...), verify_uninstall(...)   (App Store)
    parse_webhook(raw_body, event=None) -> WebhookTrigger               (webhooks)
    parse_order(order_body, rows_body) -> Order                         (wire)
"""

from ccvbird.adapters.ccvshop.appstore import (
    Handshake,
    InstallVisit,
    InvalidAppStoreCall,
    Uninstall,
    app_store_hash,
    verify_handshake,
    verify_install,
    verify_uninstall,
)
from ccvbird.adapters.ccvshop.client import (
    CcvCredentials,
    CcvShopClient,
    InvoiceFilter,
    OrderFilter,
)
from ccvbird.adapters.ccvshop.paging import PagingError
from ccvbird.adapters.ccvshop.resources import (
    App,
    Invoice,
    InvoiceRow,
    Merchant,
    Paymethod,
    Webhook,
    Webshop,
    WebshopSettings,
)
from ccvbird.adapters.ccvshop.signing import (
    SignatureMismatch,
    sign_request,
    signature,
    string_to_sign,
    x_date,
)
from ccvbird.adapters.ccvshop.transport import CcvBudget, CcvTransport
from ccvbird.adapters.ccvshop.webhooks import (
    ORDER_EVENTS,
    InvalidWebhookBody,
    WebhookTrigger,
    parse_webhook,
    webhook_hash,
)
from ccvbird.adapters.ccvshop.wire import decode_order_file, parse_order

__all__ = [
    "ORDER_EVENTS",
    "App",
    "CcvBudget",
    "CcvCredentials",
    "CcvShopClient",
    "CcvTransport",
    "Handshake",
    "InstallVisit",
    "InvalidAppStoreCall",
    "InvalidWebhookBody",
    "Invoice",
    "InvoiceFilter",
    "InvoiceRow",
    "Merchant",
    "OrderFilter",
    "PagingError",
    "Paymethod",
    "SignatureMismatch",
    "Uninstall",
    "Webhook",
    "WebhookTrigger",
    "Webshop",
    "WebshopSettings",
    "app_store_hash",
    "decode_order_file",
    "parse_order",
    "parse_webhook",
    "sign_request",
    "signature",
    "string_to_sign",
    "verify_handshake",
    "verify_install",
    "verify_uninstall",
    "webhook_hash",
    "x_date",
]
