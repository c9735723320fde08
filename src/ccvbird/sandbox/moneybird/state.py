"""The whole sandbox: its settings, administrations, tokens, faults, budget and webhook outbox.

One :class:`MoneybirdSandbox` is shared by the HTTP app (:mod:`.app`), the in-process transport
(:mod:`.inprocess`) and the test that wants to look behind the API (``sandbox.books().contacts``,
``sandbox.issue_token(...)``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ccvbird.sandbox.moneybird import constants as c
from ccvbird.sandbox.moneybird.books import Books, IdSource
from ccvbird.sandbox.moneybird.faults import FaultPlan, RateLimiter
from ccvbird.sandbox.moneybird.records import (
    Contact,
    ExternalSalesInvoice,
    SalesInvoice,
    TaxRate,
    Webhook,
)
from ccvbird.sandbox.moneybird.render import Blank, Renderer
from ccvbird.sandbox.moneybird.seed import AdministrationSetup, voorbeeld_bv
from ccvbird.sandbox.moneybird.webhooks import (
    RETRY_DELAYS,
    Deliverer,
    WebhookOutbox,
    http_deliverer,
    matches,
)

Clock = Callable[[], float]


class Unset:
    """ "Not given" for :meth:`MoneybirdSandbox.change_tax_rate` (``None`` is a value there)."""


UNSET = Unset()


@dataclass
class SandboxConfig:
    """Everything about the sandbox a test or ``ccvbird sandbox`` may want to change."""

    token: str = c.DEMO_TOKEN
    token_scopes: tuple[str, ...] = c.ALL_SCOPES
    oauth_client_id: str = c.OAUTH_CLIENT_ID
    oauth_client_secret: str = c.OAUTH_CLIENT_SECRET
    user_email: str = c.USER_EMAIL
    user_password: str = c.USER_PASSWORD
    #: Lifetime of OAuth access tokens in seconds; ``None``: they never expire and the token
    #: response has no ``expires_in`` (as in Moneybird's recorded response).
    access_token_ttl: int | None = None
    rate_limit: int = 150
    rate_window: float = 300.0
    #: Answer 429 with nginx's HTML page instead of ``"Retry later"`` (it happens, picqer #101).
    html_429: bool = False
    #: Sales invoices the plan allows before 402 ``limit_reached``; ``None`` for no limit.
    invoice_limit: int | None = None
    blank: Blank = "null"
    seed: int = 0
    administrations: list[AdministrationSetup] = field(default_factory=lambda: [voorbeeld_bv()])
    #: Deliver due webhook pushes at the end of every API request (else call deliver_webhooks).
    auto_deliver_webhooks: bool = True
    webhook_retry_delays: tuple[float, ...] = RETRY_DELAYS


@dataclass
class Grant:
    """What a bearer token may do."""

    token: str
    scopes: frozenset[str]
    administration_ids: frozenset[str]
    expires_at: float | None = None
    client_id: str | None = None


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    administration_ids: frozenset[str]
    expires_at: float


class MoneybirdSandbox:
    """A fake Moneybird, in memory, with a clock you can hand in."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        clock: Clock = time.time,
        faults: FaultPlan | None = None,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        self.clock = clock
        self.faults = faults or FaultPlan(seed=self.config.seed)
        self.rate_limiter = RateLimiter(self.config.rate_limit, self.config.rate_window, clock)
        self.ids = IdSource()
        self.lock = threading.RLock()
        self.outbox = WebhookOutbox(
            clock,
            deliverer or http_deliverer(),
            key_seed=self.config.seed,
            retry_delays=self.config.webhook_retry_delays,
        )
        self._books: dict[str, Books] = {}
        for setup in self.config.administrations:
            books = Books(
                setup,
                clock=clock,
                ids=self.ids,
                invoice_limit=self.config.invoice_limit,
                user_id=c.USER_ID,
            )
            books.on_event = self._event_sink(books)
            self._books[setup.id] = books
        all_admins = frozenset(self._books)
        self.grants: dict[str, Grant] = {
            self.config.token: Grant(
                self.config.token, frozenset(self.config.token_scopes), all_admins
            )
        }
        self._codes: dict[str, _Code] = {}
        self._refresh_tokens: dict[str, Grant] = {}
        #: 429 answers of the request budget per token (benchmarks check that there are none).
        self.refused: Counter[str] = Counter()
        #: The latest requests answered, as (method, path, status), for call counting.
        self.requests: deque[tuple[str, str, int]] = deque(maxlen=100_000)

    # -- administrations --------------------------------------------------------------------

    @property
    def administration_ids(self) -> list[str]:
        return list(self._books)

    def books(self, administration_id: str = c.ADMINISTRATION_ID) -> Books:
        return self._books[administration_id]

    def has_administration(self, administration_id: str) -> bool:
        return administration_id in self._books

    def renderer(self, administration_id: str = c.ADMINISTRATION_ID) -> Renderer:
        return Renderer(self._books[administration_id], self.config.blank)

    # -- tokens -----------------------------------------------------------------------------

    def grant_for(self, token: str) -> Grant | None:
        grant = self.grants.get(token)
        if grant is None:
            return None
        if grant.expires_at is not None and self.clock() >= grant.expires_at:
            return None
        return grant

    def is_expired(self, token: str) -> bool:
        grant = self.grants.get(token)
        return (
            grant is not None and grant.expires_at is not None and self.clock() >= grant.expires_at
        )

    def issue_token(
        self,
        scopes: tuple[str, ...] | frozenset[str] = c.ALL_SCOPES,
        *,
        ttl: float | None = None,
        administration_ids: frozenset[str] | None = None,
        token: str | None = None,
    ) -> str:
        """A personal API token with ``scopes`` (the test's way to make a narrow token)."""
        value = token or secrets.token_hex(32)
        self.grants[value] = Grant(
            value,
            frozenset(scopes),
            administration_ids or frozenset(self._books),
            None if ttl is None else self.clock() + ttl,
        )
        return value

    def expire_token(self, token: str) -> None:
        """Make ``token`` expire now (as if its lifetime ran out)."""
        self.grants[token].expires_at = self.clock()

    def check_user(self, email: str, password: str) -> bool:
        return secrets.compare_digest(
            email.strip().lower(), self.config.user_email.lower()
        ) and secrets.compare_digest(password, self.config.user_password)

    def check_client(self, client_id: str, client_secret: str) -> bool:
        return secrets.compare_digest(client_id, self.config.oauth_client_id) and (
            secrets.compare_digest(client_secret, self.config.oauth_client_secret)
        )

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        scopes: frozenset[str],
        administration_ids: frozenset[str],
    ) -> str:
        code = secrets.token_hex(16)
        self._codes[code] = _Code(
            client_id, redirect_uri, scopes, administration_ids, self.clock() + 600
        )
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str) -> Grant | None:
        found = self._codes.pop(code, None)
        if found is None or found.client_id != client_id or self.clock() > found.expires_at:
            return None
        if found.redirect_uri != redirect_uri:
            return None
        return self._oauth_grant(client_id, found.scopes, found.administration_ids)

    def refresh(self, refresh_token: str, client_id: str) -> tuple[Grant, str] | None:
        """A new access token and a new (rotated) refresh token; the old pair stops working."""
        old = self._refresh_tokens.pop(refresh_token, None)
        if old is None or old.client_id != client_id:
            return None
        self.grants.pop(old.token, None)
        grant = self._oauth_grant(client_id, old.scopes, old.administration_ids)
        return grant, self.refresh_token_of(grant)

    def _oauth_grant(
        self, client_id: str, scopes: frozenset[str], administration_ids: frozenset[str]
    ) -> Grant:
        ttl = self.config.access_token_ttl
        grant = Grant(
            secrets.token_hex(32),
            scopes,
            administration_ids,
            None if ttl is None else self.clock() + ttl,
            client_id,
        )
        self.grants[grant.token] = grant
        self._refresh_tokens[secrets.token_hex(32)] = grant
        return grant

    def refresh_token_of(self, grant: Grant) -> str:
        return next(rt for rt, g in self._refresh_tokens.items() if g is grant)

    # -- webhooks ---------------------------------------------------------------------------

    def _event_sink(self, books: Books) -> Callable[[str, str, object], None]:
        def sink(action: str, kind: str, record: object) -> None:
            hooks = [
                w
                for w in books.webhooks.values()
                if w.deactivated_at is None and _matches(w, action)
            ]
            if not hooks:
                return
            render = Renderer(books, self.config.blank)
            entity = _render(render, kind, record)
            record_id = str(getattr(record, "id", ""))
            state = getattr(record, "state", None)
            for hook in hooks:
                self.outbox.enqueue(hook, books.setup.id, action, kind, record_id, state, entity)

        return sink

    def deliver_webhooks(self) -> int:
        """Deliver every push that is due now; returns how many were attempted."""
        return self.outbox.deliver_due(self._webhook)

    def _webhook(self, webhook_id: str) -> Webhook | None:
        for books in self._books.values():
            if webhook_id in books.webhooks:
                return books.webhooks[webhook_id]
        return None

    def rotate_webhook_secret(self, webhook_id: str) -> str:
        """Start a secret rotation: sign with a new secret *and* the old one; return the new."""
        webhook = self._webhook(webhook_id)
        if webhook is None:
            raise KeyError(webhook_id)
        new = secrets.token_hex(32)
        webhook.secrets = [new, webhook.secrets[0]]
        return new

    # -- what a person changes in Moneybird's settings ----------------------------------------

    def change_tax_rate(
        self,
        rate_id: str,
        *,
        active: bool | Unset | None = UNSET,
        percentage: Decimal | Unset | None = UNSET,
        administration_id: str = c.ADMINISTRATION_ID,
    ) -> TaxRate:
        """Switch a tax rate off (or on) or change its percentage, as a person can in
        Moneybird's settings (the API cannot). Invoices made afterwards use the new rate."""
        with self.lock:
            rate = self._books[administration_id].setup.tax_rate(rate_id)
            if rate is None:
                raise KeyError(rate_id)
            if not isinstance(active, Unset):
                rate.active = active
            if not isinstance(percentage, Unset):
                rate.percentage = percentage
            return rate

    # -- bookkeeping for tests and benchmarks -----------------------------------------------

    def api_requests(self) -> list[tuple[str, str, int]]:
        """Requests to the REST API (``/api/v2``) only, without OAuth traffic."""
        return [r for r in self.requests if r[1].startswith("/api/v2/")]

    def invoices(self, administration_id: str = c.ADMINISTRATION_ID) -> list[SalesInvoice]:
        return list(self._books[administration_id].sales_invoices.values())


def _matches(webhook: Webhook, action: str) -> bool:
    return matches(webhook.enabled_events, action)


def _render(render: Renderer, kind: str, record: object) -> dict[str, object]:
    if isinstance(record, Contact):
        return render.contact(record)
    if isinstance(record, SalesInvoice):
        return render.sales_invoice(record)
    if isinstance(record, ExternalSalesInvoice):
        return render.external_invoice(record)
    return {}
