"""CCV's App Store flow (reference §1.4): handshake, install, uninstall, and the wizard's end.

* handshake — CCV pushes the shop's fresh API keys; they are stored as a *pending* connection
  (paused until setup is finished). A shop that had the app before gets its old connection back
  with the new keys, history and profile included.
* install — the merchant's browser arrives; the hash proves which shop, so the link itself
  signs the shop's owner in (an account with the merchant's e-mail from CCV, no password). The
  web app then runs the wizard (Moneybird, profile, finish).
* finish — the wizard's last step: CCV webhooks and the Moneybird webhook registered (again,
  after a reinstall), the app marked installed at CCV (``PATCH /apps/:id``, mandatory), the
  connection resumed.
* uninstall — webhooks removed (best effort), the connection disabled, its history kept. From
  CCV (the merchant removed the app) or from ccvbird itself (:func:`uninstall_here`, which also
  forgets the shop's keys and the Moneybird access).

CCV signs these calls, but puts no timestamp or nonce in them (reference §1.4), so a captured
call stays valid forever. Replays are told apart by the keys: a handshake whose keys were handed
over before — for this installation or any earlier one — is refused, and an uninstall must name
the keys of the current installation.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from ccvbird.adapters.ccvshop.appstore import (
    InvalidAppStoreCall,
    verify_handshake,
    verify_install,
    verify_uninstall,
)
from ccvbird.adapters.ccvshop.signing import SignatureMismatch
from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.domain.errors import CcvbirdError, ConfigError
from ccvbird.domain.reasons import Reason
from ccvbird.wiring import SETUP_REASON, WebBackend
from ccvbird.wiring.moneybird import register_moneybird_webhook, remove_moneybird_webhook
from ccvbird.wiring.shop import ccv_client, register_ccv_webhooks, remove_ccv_webhooks

log = logging.getLogger(__name__)

__all__ = [
    "SETUP_REASON",
    "AppStoreRefused",
    "finish_setup",
    "handshake",
    "install_visit",
    "merchant_email",
    "uninstall",
    "uninstall_here",
]

#: Why a connection uninstalled from ccvbird's own dashboard books nothing.
UNINSTALLED_HERE = Reason("uninstalled_here").text


class AppStoreRefused(CcvbirdError):
    """An App Store call that is not from CCV for this app, or cannot be acted on."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def _app_secret(backend: WebBackend) -> str:
    secret = backend.settings.ccv_app_secret
    if secret is None or not secret.get_secret_value():
        raise AppStoreRefused(
            "the CCV App Store is not configured here (CCVBIRD_CCV_APP_SECRET)", status=404
        )
    return secret.get_secret_value()


def handshake(backend: WebBackend, raw_body: bytes, x_hash: str | None, language: str = "") -> int:
    """Check and store a handshake; returns the connection id."""
    try:
        call = verify_handshake(
            _app_secret(backend), backend.handshake_uri, raw_body, x_hash, language=language
        )
    except SignatureMismatch as exc:
        raise AppStoreRefused(str(exc)) from None
    except InvalidAppStoreCall as exc:
        raise AppStoreRefused(str(exc), status=400) from None
    installs = backend.installs
    # CCV's handshake has no timestamp or nonce, and a captured one stays correctly signed: what
    # tells a replay apart is its keys. Every key set CCV hands over is new, so keys seen before
    # (those of the current installation or of any earlier one) are refused.
    replayed = AppStoreRefused("these API keys were handed over before", status=409)
    if installs.by_ccv_public(call.api_public) is not None or installs.keys_handed_over_before(
        call.api_public
    ):
        raise replayed
    earlier = installs.by_shop_url(call.api_root)
    try:
        if earlier:
            connection_id = earlier[0][0]
            installs.reinstall(
                connection_id,
                ccv_public=call.api_public,
                ccv_secret=call.api_secret,
                return_url=call.return_url,
                paused_reason=SETUP_REASON,
            )
            backend.forget(connection_id)
            return connection_id
        return installs.create_pending(
            name=urlsplit(call.api_root).netloc,
            shop_url=call.api_root,
            ccv_public=call.api_public,
            ccv_secret=call.api_secret,
            source="app_store",
            return_url=call.return_url,
            paused_reason=SETUP_REASON,
        )
    except ConfigError:  # the same handshake twice at once: the second one loses the race
        raise replayed from None


def install_visit(backend: WebBackend, query: dict[str, str]) -> tuple[int, str]:
    """Check the install page's query; returns (connection id, language)."""
    try:
        visit = verify_install(_app_secret(backend), backend.install_uri, query)
    except SignatureMismatch as exc:
        raise AppStoreRefused(str(exc)) from None
    except InvalidAppStoreCall as exc:
        raise AppStoreRefused(str(exc), status=400) from None
    connection_id = backend.installs.by_ccv_public(visit.api_public)
    if connection_id is None:
        raise AppStoreRefused(
            "CCV did not hand over this shop's keys (the handshake is missing); install again",
            status=409,
        )
    if not backend.installs.setup(connection_id).enabled:
        # The link of an installation that was removed: its keys are revoked (or forgotten), so
        # it signs nobody in. A new installation brings new keys, and so a new link.
        raise AppStoreRefused("this installation was removed; install the app again", status=409)
    _name_after_the_shop(backend, connection_id)
    return connection_id, visit.language


def merchant_email(backend: WebBackend, connection_id: int) -> str:
    """The e-mail address CCV has for the shop's merchant (``GET /webshops/:id/merchant``);
    ``""`` when CCV gives none or cannot be asked."""
    try:
        with ccv_client(backend.app, connection_id) as client:
            return client.merchant().email.strip()
    except CcvbirdError as exc:
        log.info("could not read the merchant of connection %s: %s", connection_id, exc)
        return ""


def _name_after_the_shop(backend: WebBackend, connection_id: int) -> None:
    """A connection made by the handshake is named after its host; use the shop's own name."""
    connection = backend.app.store.connection(connection_id)
    if connection.name != urlsplit(connection.shop_url).netloc:
        return
    try:
        with ccv_client(backend.app, connection_id) as client:
            shops = client.webshops()
    except CcvbirdError as exc:
        log.info("could not read the name of the shop of connection %s: %s", connection_id, exc)
        return
    if shops and shops[0].name:
        backend.installs.rename(connection_id, shops[0].name)


def uninstall(backend: WebBackend, raw_body: bytes, x_hash: str | None) -> int | None:
    """Check an uninstall call; disable the connection (history kept). ``None``: unknown shop."""
    try:
        call = verify_uninstall(_app_secret(backend), backend.uninstall_uri, raw_body, x_hash)
    except SignatureMismatch as exc:
        raise AppStoreRefused(str(exc)) from None
    except InvalidAppStoreCall as exc:
        raise AppStoreRefused(str(exc), status=400) from None
    connection_id = backend.installs.by_ccv_public(call.api_public)
    if connection_id is None:
        if backend.installs.keys_handed_over_before(call.api_public):
            # The keys of an earlier installation: a replay (or a very late call) about keys
            # that are revoked already must not disable the installation that is live now.
            raise AppStoreRefused(
                "these API keys are not the shop's current installation", status=409
            )
        return None
    if not backend.installs.setup(connection_id).enabled:
        return connection_id  # uninstalled already: a repeat changes nothing
    remove_ccv_webhooks(backend, connection_id)
    remove_moneybird_webhook(backend, connection_id)
    backend.installs.uninstalled(
        connection_id,
        Reason("uninstalled_in_shop").text,
    )
    return connection_id


def finish_setup(backend: WebBackend, connection_id: int) -> None:
    """The wizard's last step: webhooks on both sides, marked installed at CCV, resumed.

    The Moneybird webhook is registered here too when the connection has none — after a
    reinstall it was removed with the uninstall, and without it a credit or a deleted invoice
    in Moneybird would go unnoticed.
    """
    setup = backend.installs.setup(connection_id)
    if not setup.has_moneybird or not setup.has_administration:
        raise ConfigError("Moneybird: connect Moneybird and choose the administration first")
    parse_profile(backend.app.store.profile_toml(connection_id), source="profile")
    register_ccv_webhooks(backend, connection_id)
    if not setup.moneybird_webhook_id:
        register_moneybird_webhook(backend, connection_id)
    if setup.from_app_store:
        with ccv_client(backend.app, connection_id) as client:
            client.set_app_installed(client.our_app().id)
        backend.installs.mark_installed(connection_id)
    if backend.app.store.connection(connection_id).paused_reason == SETUP_REASON:
        backend.app.store.resume(connection_id)


def uninstall_here(backend: WebBackend, connection_id: int) -> None:
    """Uninstall from ccvbird's dashboard: the webhooks on both sides removed (best effort),
    the connection disabled, the shop's API keys and the Moneybird access forgotten; the
    history kept. The app stays listed in the shop's App Store until the merchant removes it
    there; its uninstall call then changes nothing more."""
    if not backend.installs.setup(connection_id).enabled:
        return
    remove_ccv_webhooks(backend, connection_id)
    remove_moneybird_webhook(backend, connection_id)
    backend.installs.uninstalled(connection_id, UNINSTALLED_HERE, forget_access=True)
    backend.forget(connection_id)
