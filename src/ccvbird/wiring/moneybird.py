"""The Moneybird side of connecting: OAuth or a personal token, the administration, webhooks.

OAuth: :func:`start_oauth` gives the address to send the person to and the ``state`` to keep in
their session; :func:`finish_oauth` checks the callback's state, exchanges the code and stores
the tokens encrypted. Access that is lost later (the engine pauses the connection) is restored
the same way: "reconnect" runs the flow again for the same connection.

Moneybird's webhook tells ccvbird when a person deletes or credits a booked invoice; it is
registered once the administration is chosen (best effort: a Moneybird that cannot reach this
ccvbird's public address refuses it, and the dashboard says so). Its address carries the
connection's own Moneybird token, not the CCV webhook token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping

from ccvbird.adapters.moneybird import (
    TokenEndpoint,
    WebhookCredentials,
    WebhookReceiver,
    WebhookRejected,
    authorization_url,
    code_from_callback,
)
from ccvbird.adapters.moneybird import connect as connect_moneybird
from ccvbird.adapters.moneybird.books import administration_settings
from ccvbird.bootstrap import reference_prefix_for
from ccvbird.domain.administration import AdministrationSettings
from ccvbird.domain.errors import CcvbirdError, ConfigError
from ccvbird.domain.reasons import Reason
from ccvbird.service.moneybird_events import EVENTS, Applied, apply_invoice_event
from ccvbird.service.suggest import Suggestion, suggest_profile
from ccvbird.wiring import SETUP_REASON, WebBackend
from ccvbird.wiring.jobs import paused_by_hand

log = logging.getLogger(__name__)

__all__ = [
    "Applied",
    "WebhookRejected",
    "administration_choices",
    "administrations",
    "choose_administration",
    "disconnect_moneybird",
    "finish_oauth",
    "invoice_url",
    "oauth_available",
    "receive_push",
    "start_oauth",
    "use_token",
]

#: ``administrations()`` is not per administration, but the client wants one to build.
ANY_ADMINISTRATION = "0"
#: Why a connection whose Moneybird was disconnected from ccvbird books nothing.
DISCONNECTED = Reason("moneybird_disconnected")
DISCONNECTED_REASON = DISCONNECTED.text


def oauth_available(backend: WebBackend) -> bool:
    return backend.app.moneybird_oauth is not None


def start_oauth(backend: WebBackend) -> tuple[str, str]:
    """(where to send the person, the state to keep in their session)."""
    oauth = backend.app.moneybird_oauth
    if oauth is None:
        raise ConfigError("Moneybird OAuth is not configured here; use a personal API token")
    state = secrets.token_urlsafe(24)
    return authorization_url(oauth, state), state


def finish_oauth(
    backend: WebBackend, connection_id: int, callback_url: str, expected_state: str
) -> None:
    """Check the callback (state, code), exchange the code, store the tokens encrypted."""
    oauth = backend.app.moneybird_oauth
    if oauth is None:
        raise ConfigError("Moneybird OAuth is not configured here")
    code = code_from_callback(callback_url, expected_state)
    endpoint = TokenEndpoint(oauth, transport=backend.app._transport(oauth.oauth_url))
    try:
        token = endpoint.exchange_code(code)
    finally:
        endpoint.close()
    backend.installs.set_moneybird(
        connection_id,
        credentials={
            "type": "oauth",
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "expires_at": token.expires_at,
            "scope": token.scope,
        },
        base_url=backend.settings.moneybird_api_url,
    )
    backend.forget(connection_id)


def use_token(backend: WebBackend, connection_id: int, token: str) -> None:
    """Check a personal API token (it must reach an administration) and store it encrypted."""
    token = token.strip()
    if not token:
        raise ConfigError("API token: paste the token Moneybird showed when you created it")
    app = backend.app
    base_url = backend.settings.moneybird_api_url
    client = connect_moneybird(
        token=token,
        administration_id=ANY_ADMINISTRATION,
        base_url=base_url,
        transport=app._transport(base_url),
        budget=app.moneybird_budget,
        budget_key=f"moneybird:check:{connection_id}",
        sleep=app.sleep,
    )
    with client:
        if not client.administrations():
            raise ConfigError("API token: this token reaches no Moneybird administration")
    backend.installs.set_moneybird(
        connection_id, credentials={"type": "token", "token": token}, base_url=base_url
    )
    backend.forget(connection_id)


def administrations(backend: WebBackend, connection_id: int) -> list[tuple[str, str]]:
    """(id, name) of every administration the stored access reaches."""
    app = backend.app
    with app.moneybird_client(connection_id, administration_id=ANY_ADMINISTRATION) as client:
        return [(a.id, a.name or a.id) for a in client.administrations()]


def administration_name(backend: WebBackend, connection_id: int) -> str:
    """The name of the connection's administration as Moneybird has it (read once per cache
    period); its id when Moneybird cannot say."""
    chosen = backend.app.store.connection(connection_id).administration_id or ""

    def load() -> str:
        try:
            names = dict(administrations(backend, connection_id))
        except CcvbirdError as exc:
            log.warning("could not read the administrations of connection %s: %s",
                        connection_id, exc)  # fmt: skip
            return chosen
        return names.get(chosen, chosen)

    name: str = backend.cached(f"administration_name:{chosen}", connection_id, load)
    return name


def only_administration(backend: WebBackend, connection_id: int) -> str | None:
    """The administration the stored access reaches when it reaches exactly one (as after
    Moneybird's consent screen, where the person picked it); ``None`` otherwise."""
    found = administrations(backend, connection_id)
    return found[0][0] if len(found) == 1 else None


def disconnect_moneybird(backend: WebBackend, connection_id: int) -> None:
    """Stop using Moneybird: its webhook removed (best effort), the access forgotten, the
    connection paused until Moneybird is connected again (profile and history kept)."""
    remove_moneybird_webhook(backend, connection_id)
    backend.installs.forget_moneybird(connection_id)
    backend.forget(connection_id)
    if backend.app.store.connection(connection_id).paused_reason != SETUP_REASON:
        paused_by_hand(backend, connection_id, DISCONNECTED)  # mails nobody


def administration_choices(
    backend: WebBackend, connection_id: int, *, fresh: bool = False
) -> AdministrationSettings:
    """Tax rates, ledger accounts, workflows, styles and accounts (cached for a while;
    ``fresh``: read now, as a profile is checked against them before it is saved)."""

    def load() -> AdministrationSettings:
        client = backend.app.moneybird_client(connection_id)
        client.refresh_settings()  # the client keeps its own copy, without an age
        return administration_settings(client)

    if fresh:
        backend.forget_one("administration", connection_id)
    result: AdministrationSettings = backend.cached("administration", connection_id, load)
    return result


def choose_administration(
    backend: WebBackend, connection_id: int, administration_id: str
) -> Suggestion | None:
    """Use ``administration_id``; draft a profile from it when the connection has none yet.

    Returns the suggestion when one was made (it says what still needs a decision).
    """
    known = dict(administrations(backend, connection_id))
    if administration_id not in known:
        raise ConfigError("administration: choose one of the administrations listed")
    installs = backend.installs
    changed = installs.setup(connection_id).administration_id != administration_id
    installs.set_administration(connection_id, administration_id)
    backend.forget(connection_id)
    suggestion = None
    if changed or not backend.app.store.profile_toml(connection_id).strip():
        name = backend.app.store.connection(connection_id).name
        suggestion = suggest_profile(
            administration_choices(backend, connection_id),
            name=f"{name} ({known[administration_id]})",
            reference_prefix=reference_prefix_for(
                backend.app, administration_id, connection_id=connection_id
            ),
        )
        installs.set_profile_text(connection_id, suggestion.toml)
    register_moneybird_webhook(backend, connection_id)
    return suggestion


def register_moneybird_webhook(backend: WebBackend, connection_id: int) -> bool:
    remove_moneybird_webhook(backend, connection_id)
    token = backend.installs.moneybird_address_token(connection_id)  # never the CCV token
    url = backend.url(f"/webhooks/moneybird/{token}")
    try:
        webhook = backend.app.moneybird_client(connection_id).register_webhook(url, EVENTS)
    except CcvbirdError as exc:
        log.warning("Moneybird refused the webhook of connection %s: %s", connection_id, exc)
        return False
    backend.installs.set_moneybird_webhook(
        connection_id, webhook.id, token=webhook.token, secret=webhook.secret
    )
    return True


def remove_moneybird_webhook(backend: WebBackend, connection_id: int) -> None:
    webhook_id = backend.installs.setup(connection_id).moneybird_webhook_id
    if not webhook_id:
        return
    try:
        backend.app.moneybird_client(connection_id).delete_webhook(webhook_id)
    except CcvbirdError as exc:
        log.info("could not remove the Moneybird webhook of connection %s: %s", connection_id, exc)
    backend.installs.set_moneybird_webhook(connection_id, None)


class _SeenPushes:
    """``SeenKeys`` over the state database's webhook deliveries (one row per push)."""

    def __init__(self, backend: WebBackend, connection_id: int) -> None:
        self._store = backend.app.store
        self._connection_id = connection_id

    def first_time(self, key: str) -> bool:
        return self._store.record_delivery(self._connection_id, "moneybird", key, "push", None)


def receive_push(
    backend: WebBackend, token: str, headers: Mapping[str, str], body: bytes
) -> Applied | None:
    """Verify a Moneybird push (address token, signature, webhook token) and apply it.

    ``None``: a repeat of a push already handled. Raises :class:`WebhookRejected` when forged.
    """
    target = backend.installs.push_target(token)
    if target is None:
        raise WebhookRejected("no Moneybird webhook is registered at this address")
    connection_id = target.connection_id
    receiver = WebhookReceiver(
        WebhookCredentials(target.webhook_token, (target.secret,)),
        _SeenPushes(backend, connection_id),
    )
    event = receiver.accept(headers, body, now=time.time())
    if event is None:
        return None
    return apply_invoice_event(
        backend.app.store,
        connection_id,
        action=event.action,
        entity_id=event.entity_id,
        entity=event.entity,
    )


def invoice_url(backend: WebBackend, connection_id: int, invoice_id: str, external: bool) -> str:
    """The invoice's page in Moneybird (for the sandbox: beside its API)."""
    return invoice_pages(backend, connection_id, external) + invoice_id


def invoice_pages(backend: WebBackend, connection_id: int, external: bool) -> str:
    """Where the connection's invoice pages are in Moneybird: an invoice id completes it (one
    look-up for a whole order list)."""
    base = backend.app.store.moneybird_url(connection_id)
    site = base.removesuffix("/api/v2") if base.endswith("/api/v2") else "https://moneybird.com"
    if site.startswith("https://moneybird.com/api"):
        site = "https://moneybird.com"
    administration = backend.app.store.connection(connection_id).administration_id
    kind = "external_sales_invoices" if external else "sales_invoices"
    return f"{site}/{administration}/{kind}/"
