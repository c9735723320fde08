"""Moneybird: the REST API v2 client, OAuth, wire models, webhook checks, request bodies.

Build a client with :func:`connect`; everything it raises is in ``ccvbird.domain.errors``.
"""

from ccvbird.adapters.moneybird.auth import (
    SCOPES,
    BearerToken,
    MemoryTokenStore,
    OAuthApp,
    OAuthRefresh,
    TokenEndpoint,
    authorization_url,
    code_from_callback,
)
from ccvbird.adapters.moneybird.client import (
    DEFAULT_BASE_URL,
    MoneybirdApi,
    MoneybirdClient,
    connect,
    external_invoice_payload,
    payment_payload,
)
from ccvbird.adapters.moneybird.contacts import ContactIndex
from ccvbird.adapters.moneybird.transport import (
    MoneybirdRefusal,
    MoneybirdTransport,
    moneybird_budget,
)
from ccvbird.adapters.moneybird.webhooks import (
    MemorySeenKeys,
    WebhookCredentials,
    WebhookReceiver,
    WebhookRejected,
    verify_signature,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "SCOPES",
    "BearerToken",
    "ContactIndex",
    "MemorySeenKeys",
    "MemoryTokenStore",
    "MoneybirdApi",
    "MoneybirdClient",
    "MoneybirdRefusal",
    "MoneybirdTransport",
    "OAuthApp",
    "OAuthRefresh",
    "TokenEndpoint",
    "WebhookCredentials",
    "WebhookReceiver",
    "WebhookRejected",
    "authorization_url",
    "code_from_callback",
    "connect",
    "external_invoice_payload",
    "moneybird_budget",
    "payment_payload",
    "verify_signature",
]
