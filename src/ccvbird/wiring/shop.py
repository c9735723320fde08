"""The CCV side of connecting: test credentials, status names, webhooks, orders to preview."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

import httpx

from ccvbird.adapters.ccvshop.client import CcvCredentials, CcvShopClient, OrderFilter
from ccvbird.adapters.ccvshop.webhooks import (
    ORDER_EVENTS,
    REGISTERED_EVENTS,
    InvalidWebhookBody,
    parse_webhook,
)
from ccvbird.adapters.http import DEFAULT_TIMEOUT
from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.bootstrap import App
from ccvbird.domain.errors import CcvbirdError, ConfigError, NotFound
from ccvbird.domain.order import STATUS_NAMES
from ccvbird.domain.reasons import Reason
from ccvbird.service.preview import Preview, preview_order
from ccvbird.wiring import WebBackend

log = logging.getLogger(__name__)

__all__ = [
    "ORDER_EVENTS",
    "InvalidWebhookBody",
    "ccv_client",
    "ccv_trigger",
    "first_order_date",
    "preview",
    "register_ccv_webhooks",
    "remove_ccv_webhooks",
    "status_names",
    "test_shop",
]


def _client(app: App, api_root: str, public: str, secret: str) -> CcvShopClient:
    transport = app._transport(api_root)
    http = httpx.Client(transport=transport, timeout=DEFAULT_TIMEOUT) if transport else None
    return CcvShopClient(CcvCredentials(api_root, public, secret), http=http, sleep=app.sleep)


def ccv_client(app: App, connection_id: int) -> CcvShopClient:
    info = app.store.connection(connection_id)
    secrets = app.store.secrets(connection_id)
    return _client(app, info.shop_url, secrets.ccv_public, secrets.ccv_secret)


def normalise_shop_url(url: str) -> str:
    """``https://shop.example`` from what a person typed (scheme added, API path dropped)."""
    text = url.strip()
    if not text:
        raise ConfigError(
            "shop address: fill in the address of the shop, e.g. https://myshop.ccvshop.nl"
        )
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"shop address: {url!r} is not a web address")
    return f"{parts.scheme}://{parts.netloc}"


def test_shop(app: App, api_root: str, public: str, secret: str) -> str:
    """The shop's name when the keys work; else :class:`CcvbirdError` saying what is wrong."""
    if not public.strip() or not secret.strip():
        raise ConfigError("API keys: fill in both the public key and the secret")
    with _client(app, api_root, public.strip(), secret.strip()) as client:
        shops = client.webshops()
    return shops[0].name if shops and shops[0].name else urlsplit(api_root).netloc


def status_names(backend: WebBackend, connection_id: int) -> dict[int, str]:
    """The shop's own names of its order statuses (CCV's defaults when the shop cannot say)."""

    def load() -> dict[int, str]:
        try:
            with ccv_client(backend.app, connection_id) as client:
                names = client.order_status_names()
        except CcvbirdError as exc:
            log.warning("could not read the order status names of connection %s: %s",
                        connection_id, exc)  # fmt: skip
            names = {}
        return {**STATUS_NAMES, **{k: v for k, v in names.items() if v}}

    result: dict[int, str] = backend.cached("status_names", connection_id, load)
    return result


def first_order_date(backend: WebBackend, connection_id: int) -> date | None:
    """The day the shop's first order was placed, in the shop's own time (read once per cache
    period: one page of ``GET /orders`` by id); ``None`` when the shop has none or cannot say."""

    def load() -> date | None:
        try:
            with ccv_client(backend.app, connection_id) as client:
                for body in client.order_bodies(OrderFilter(orderby="id")):
                    return datetime.fromisoformat(str(body.get("create_date", ""))).date()
        except (CcvbirdError, ValueError) as exc:
            log.info("could not read the first order of connection %s: %s", connection_id, exc)
        return None

    result: date | None = backend.cached("first_order", connection_id, load)
    return result


def webhook_address(backend: WebBackend, connection_id: int, event: str) -> str:
    token = backend.app.store.webhook_token(connection_id)
    return backend.url(f"/webhooks/ccv/{token}/{event}")


def register_ccv_webhooks(backend: WebBackend, connection_id: int) -> list[str]:
    """One webhook per event (orders, invoices, returns) at an address with the connection's
    unguessable token.

    Lists first and reuses what is there, so finishing the wizard twice registers nothing twice.
    """
    with ccv_client(backend.app, connection_id) as client:
        existing = {(h.event, h.address): h.id for h in client.webhooks()}
        ids = []
        for event in REGISTERED_EVENTS:
            address = webhook_address(backend, connection_id, event)
            found = existing.get((event, address))
            ids.append(str(found) if found else str(client.create_webhook(event, address).id))
    backend.installs.set_ccv_webhooks(connection_id, ids)
    return ids


def remove_ccv_webhooks(backend: WebBackend, connection_id: int) -> None:
    """Best effort: the keys may already be revoked when the shop uninstalls the app."""
    setup = backend.installs.setup(connection_id)
    try:
        with ccv_client(backend.app, connection_id) as client:
            for webhook_id in setup.ccv_webhook_ids:
                client.delete_webhook(webhook_id)
    except CcvbirdError as exc:
        log.info("could not remove the CCV webhooks of connection %s: %s", connection_id, exc)
    backend.installs.set_ccv_webhooks(connection_id, [])


@dataclass(frozen=True, slots=True)
class CcvTrigger:
    order_id: str
    event: str
    shop: str


def ccv_trigger(raw_body: bytes, event: str | None) -> CcvTrigger:
    """What a CCV delivery says; :class:`InvalidWebhookBody` names what is wrong."""
    trigger = parse_webhook(raw_body, event=event)
    return CcvTrigger(trigger.order_id, trigger.event, trigger.shop)


def shop_origin(shop_url: str) -> str:
    parts = urlsplit(shop_url)
    return f"{parts.scheme}://{parts.netloc}"


class PreviewRefused(ConfigError):
    """Why an order cannot be previewed, as a code of domain/reasons.py and its facts (the page
    words it in the reader's language)."""

    def __init__(self, code: str, params: dict[str, str]) -> None:
        self.reason = Reason(code, params)
        super().__init__(self.reason.text)


def preview(backend: WebBackend, connection_id: int, profile_text: str, order: str) -> Preview:
    """The invoice ``order`` (an order number or CCV order id) would become with this profile."""
    profile = parse_profile(profile_text, source="profile")
    wanted = order.strip()
    if not wanted:
        raise PreviewRefused("preview_no_order", {})
    store = backend.app.store
    matches = [r for r in store.records(connection_id, search=wanted) if r.order_number == wanted]
    order_id = matches[0].order_id if matches else wanted
    if not order_id.isdigit():
        raise PreviewRefused("preview_unknown_number", {"order": wanted})
    try:
        found = backend.app.shop_for(connection_id).get_order(order_id)
    except NotFound:
        raise PreviewRefused("preview_not_in_shop", {"order": wanted}) from None
    except CcvbirdError as exc:
        raise PreviewRefused("preview_shop_unreachable", {"error": str(exc)}) from exc
    return preview_order(found, profile, today=backend.app.clock.today())
