"""The composition root: the only module that picks and wires adapters.

Entrypoints ask bootstrap for what they need and hand it to the services; nothing else imports
an adapter by name, so swapping a real service for the sandbox is a change in one place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.ccvshop.client import CcvCredentials, CcvShopClient
from ccvbird.adapters.ccvshop.preview_file import decode_preview_file
from ccvbird.adapters.ccvshop.shop import CcvShop
from ccvbird.adapters.ccvshop.transport import CcvBudget
from ccvbird.adapters.ccvshop.webhooks import InvalidWebhookBody, parse_webhook
from ccvbird.adapters.ccvshop.wire import decode_order_file
from ccvbird.adapters.db.budget import SharedBudget
from ccvbird.adapters.db.database import Upgrade, open_database, open_engine, upgrade
from ccvbird.adapters.db.lease import LEASE as LEASE
from ccvbird.adapters.db.lease import DbLease
from ccvbird.adapters.db.rekey import Rekeyed, reencrypt_secrets
from ccvbird.adapters.db.store import SqlStore
from ccvbird.adapters.http import DEFAULT_TIMEOUT, RequestBudget, Unlimited, guarded_by
from ccvbird.adapters.moneybird import MoneybirdClient, OAuthApp, OAuthRefresh, TokenEndpoint
from ccvbird.adapters.moneybird import connect as connect_moneybird
from ccvbird.adapters.moneybird.books import MoneybirdBooks, administration_settings
from ccvbird.adapters.moneybird.payload import sales_invoice_payload
from ccvbird.adapters.profile_toml import load_profile, parse_profile
from ccvbird.adapters.queue import FairShares, HueyQueue, PendingMarks, make_huey
from ccvbird.adapters.secrets import (
    SecretBox,
    load_or_create_key,
    new_key,
    split_keys,
    write_key_file,
)
from ccvbird.config import Settings
from ccvbird.domain.administration import AdministrationSettings
from ccvbird.domain.credit_records import CreditRecord, CreditState
from ccvbird.domain.credits import CANCEL_KEY, CcvCredit
from ccvbird.domain.errors import ConfigError, InvalidOrderData, LeaseLost
from ccvbird.domain.invoice import InvoiceDraft
from ccvbird.domain.money import ZERO, format_amount
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.profile_check import describe, profile_mismatches
from ccvbird.domain.reasons import OLD_PROFILE_PAUSES, PROFILE_PAUSES, Reason
from ccvbird.domain.references import conflict, draft_prefix
from ccvbird.domain.sync import OrderRecord, RemoteInvoice, SyncState
from ccvbird.ports import Clock, OAuthToken, Queue, SyncObserver
from ccvbird.service.suggest import Suggestion, suggest_profile
from ccvbird.service.sync import (
    CreditOutcome,
    Lookup,
    SyncEngine,
    SyncResult,
    Trigger,
)
from ccvbird.service.tax_rates import TaxRateCache

if TYPE_CHECKING:
    import uvicorn

    from ccvbird.sandbox.ccvshop.server import SandboxConfig

log = logging.getLogger(__name__)

EXAMPLE_ORDER = "order-mixed-basket.json"
EXAMPLE_PROFILE = "profile.toml"


def _example(name: str) -> bytes:
    return resources.files("ccvbird.examples").joinpath(name).read_bytes()


def read_order(path: Path | None) -> Order:
    """The order in ``path`` (``ccvbird preview`` format), or the bundled example order."""
    data = _example(EXAMPLE_ORDER) if path is None else path.read_bytes()
    return decode_order_file(data)


def read_preview_file(path: Path | None) -> tuple[Order, CcvCredit | None]:
    """The order of a ``ccvbird preview`` file and, when it has ``invoice`` and
    ``invoicerows``, the CCV credit invoice of it; the bundled example order without ``path``."""
    data = _example(EXAMPLE_ORDER) if path is None else path.read_bytes()
    return decode_preview_file(data)


def read_profile(path: Path | None) -> MappingProfile:
    """The profile in ``path``, or the bundled example profile (the sandbox administration)."""
    if path is None:
        return parse_profile(_example(EXAMPLE_PROFILE).decode(), source="example profile")
    return load_profile(path)


def invoice_payload(draft: InvoiceDraft, *, contact_id: str | None = None) -> dict[str, Any]:
    return sales_invoice_payload(draft, contact_id=contact_id)


class SystemClock:
    """The wall clock: ``now`` in UTC, ``today`` in the shop's time zone."""

    def __init__(self, timezone: str = "Europe/Amsterdam") -> None:
        self._zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(self._zone).date()


def moneybird_sandbox_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8702,
    token: str = "sandbox-token",  # noqa: S107 - the documented demo token
    access_token_ttl: int | None = None,
    rate_limit: int = 150,
    rate_window: float = 300.0,
    fault_rates: dict[str, float] | None = None,
    fault_seed: int = 0,
    log_level: str = "info",
) -> Any:
    """The Moneybird sandbox as a uvicorn server, not started yet (for ``ccvbird sandbox``).

    Run it with ``server.run()`` or, beside the CCV sandbox, ``await server.serve()``.
    ``fault_rates`` maps ``rate_limit``, ``server_error``, ``timeout`` and ``lost_response`` to
    probabilities per request, reproducible from ``fault_seed``.
    """
    from ccvbird.sandbox.moneybird import Fault, FaultPlan, SandboxConfig, moneybird_server

    config = SandboxConfig(
        token=token,
        access_token_ttl=access_token_ttl,
        rate_limit=rate_limit,
        rate_window=rate_window,
        seed=fault_seed,
    )
    rates = {Fault(name): rate for name, rate in (fault_rates or {}).items()}
    faults = FaultPlan(seed=fault_seed, rates=rates)
    server, _ = moneybird_server(
        host=host, port=port, config=config, faults=faults, log_level=log_level
    )
    return server


def sandbox_administration_id() -> str:
    """The one administration the Moneybird sandbox serves (its id is fixed)."""
    from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID

    return ADMINISTRATION_ID


def sandbox_oauth_client() -> tuple[str, str]:
    """The Moneybird sandbox's registered OAuth application: (client id, secret), demo values."""
    from ccvbird.sandbox.moneybird.constants import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET

    return OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET


def ccv_shop_client(api_root: str, public_key: str, secret: str) -> CcvShopClient:
    """A CCV Shop client for one shop (signed, paced to CCV's limits, with timeouts)."""
    return CcvShopClient(CcvCredentials(api_root, public_key, secret))


def ccv_sandbox_config(
    *,
    host: str = "127.0.0.1",
    port: int = 8701,
    public_key: str = "sandbox-public",
    secret: str = "sandbox-secret",  # noqa: S107 - the documented demo credential
    orders_dir: Path | None = None,
    generate: int = 25,
    fault_rate: float = 0.0,
    seed: int = 0,
    app_url: str | None = None,
    app_secret: str = "sandbox-app-secret",  # noqa: S107 - the documented demo value
) -> SandboxConfig:
    """Settings of ``ccvbird sandbox`` for the CCV shop (``--ccv-port``, ``--orders``,
    ``--generate``, ``--faults``, ``--seed``, ``--app-url``); ``.describe()`` says how to
    connect."""
    from ccvbird.sandbox.ccvshop.server import SandboxConfig

    return SandboxConfig(
        host=host, port=port, public_key=public_key, secret=secret, orders_dir=orders_dir,
        generate=generate, fault_rate=fault_rate, seed=seed, app_url=app_url,
        app_secret=app_secret,
    )  # fmt: skip


def serve_ccv_sandbox(config: SandboxConfig) -> None:
    """Run the CCV sandbox shop until interrupted (loads/generates its orders first)."""
    from ccvbird.sandbox.ccvshop.server import serve

    serve(config)


def ccv_sandbox_server(config: SandboxConfig) -> uvicorn.Server:
    """The CCV sandbox as an unstarted ``uvicorn.Server``, to run beside the Moneybird sandbox
    (``await server.serve()`` in one event loop, or ``server.run()`` in a thread)."""
    from ccvbird.sandbox.ccvshop.server import make_server

    return make_server(config)


# -- the running application -----------------------------------------------------------------


class DbTokenStore:
    """A connection's OAuth tokens, encrypted in the state database (``TokenStore`` port)."""

    def __init__(self, store: SqlStore, connection_id: int) -> None:
        self._store = store
        self._connection_id = connection_id

    def load(self) -> OAuthToken | None:
        credentials = self._store.secrets(self._connection_id).moneybird
        if credentials.get("type") != "oauth":
            return None
        return OAuthToken(
            access_token=str(credentials["access_token"]),
            refresh_token=credentials.get("refresh_token"),
            expires_at=credentials.get("expires_at"),
            scope=str(credentials.get("scope", "")),
        )

    def save(self, token: OAuthToken) -> None:
        self._store.save_moneybird_credentials(
            self._connection_id,
            {
                "type": "oauth",
                "access_token": token.access_token,
                "refresh_token": token.refresh_token,
                "expires_at": token.expires_at,
                "scope": token.scope,
            },
        )


@dataclass
class App:
    """Everything a command, the web app or a worker needs, wired from the settings."""

    settings: Settings
    store: SqlStore
    sessions: sessionmaker[Session]
    clock: Clock
    moneybird_budget: RequestBudget
    #: In-process services by URL prefix (the sandboxes of ``ccvbird demo`` and the tests).
    transports: dict[str, httpx.BaseTransport] = field(default_factory=dict)
    moneybird_oauth: OAuthApp | None = None
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    #: CCV's per-minute limits (GETs, writes); the in-process demo lifts them.
    ccv_limits: tuple[int, int] = (150, 100)
    #: One client per connection and service, reused by every order (HTTP keep-alive).
    _clients: dict[tuple[str, int], tuple[str, Any]] = field(default_factory=dict, repr=False)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: The administrations' tax rates as last read, shared by every engine of this process.
    tax_rates: TaxRateCache = field(default_factory=TaxRateCache, repr=False)
    #: Told the outcome of every booking run (the metrics of a serving command; see
    #: ``wiring/metrics.py``); ``None``: nobody listens.
    observer: SyncObserver | None = None

    def _cached(
        self,
        kind: str,
        connection_id: int,
        build: Callable[[], Any],
        version: str | None = None,
    ) -> Any:
        """One client per connection and service, made again when the connection's
        credentials or addresses change (in this process or in another one). ``version``:
        the credentials' version when the caller read it already (one read for both clients
        of an engine)."""
        if version is None:
            version = self.store.credentials_version(connection_id)
        with self._clients_lock:
            cached = self._clients.get((kind, connection_id))
            if cached is not None and cached[0] == version:
                return cached[1]
            if cached is not None:
                cached[1].close()
            client = build()
            self._clients[(kind, connection_id)] = (version, client)
            return client

    def forget_clients(self, connection_id: int) -> None:
        """Drop a connection's clients (after its credentials or settings changed)."""
        with self._clients_lock:
            for key in [k for k in self._clients if k[1] == connection_id]:
                self._clients.pop(key)[1].close()

    def _transport(self, url: str) -> httpx.BaseTransport | None:
        for prefix, transport in self.transports.items():
            if url.startswith(prefix):
                return transport
        return None

    def moneybird_client(
        self,
        connection_id: int,
        *,
        administration_id: str | None = None,
        version: str | None = None,
    ) -> MoneybirdClient:
        """The connection's Moneybird client, shared by every use of this connection.

        With ``administration_id`` (the web app lists administrations before one is chosen) a
        new client is made for that administration; the caller closes it.
        """
        if administration_id is not None:
            return self._new_moneybird_client(connection_id, administration_id)
        client: MoneybirdClient = self._cached(
            "moneybird", connection_id, lambda: self._new_moneybird_client(connection_id), version
        )
        return client

    def _new_moneybird_client(
        self, connection_id: int, administration_id: str | None = None
    ) -> MoneybirdClient:
        info = self.store.connection(connection_id)
        credentials = self.store.secrets(connection_id).moneybird
        base_url = self.store.moneybird_url(connection_id)
        transport = self._transport(base_url)
        common: dict[str, Any] = {
            "administration_id": administration_id or info.administration_id,
            "base_url": base_url,
            "transport": transport,
            "budget": self.moneybird_budget,
            "sleep": self.sleep,
            "clock": self.wall_clock,
        }
        if credentials.get("type") == "none":
            raise ConfigError(
                f"connection {connection_id} has no Moneybird access yet; connect Moneybird first"
            )
        key = _budget_key(connection_id, credentials)
        if credentials.get("type") == "oauth":
            if self.moneybird_oauth is None:
                raise ConfigError(
                    "this connection uses OAuth but no Moneybird OAuth app is configured"
                )
            endpoint = TokenEndpoint(
                self.moneybird_oauth, transport=self._transport(self.moneybird_oauth.oauth_url)
            )
            auth = OAuthRefresh(endpoint, DbTokenStore(self.store, connection_id))
            return connect_moneybird(auth=auth, budget_key=key, **common)
        return connect_moneybird(token=str(credentials.get("token", "")), budget_key=key, **common)

    def moneybird_budget_key(self, connection_id: int) -> str:
        """The key of the request budget this connection's Moneybird calls count against
        (per OAuth connection, or per personal token: Moneybird counts per token)."""
        return _budget_key(connection_id, self.store.secrets(connection_id).moneybird)

    def books_for(self, connection_id: int, *, version: str | None = None) -> MoneybirdBooks:
        return MoneybirdBooks(self.moneybird_client(connection_id, version=version))

    def shop_for(self, connection_id: int, *, version: str | None = None) -> CcvShop:
        shop: CcvShop = self._cached(
            "ccv", connection_id, lambda: self._new_shop(connection_id), version
        )
        return shop

    def _new_shop(self, connection_id: int) -> CcvShop:
        info = self.store.connection(connection_id)
        secrets = self.store.secrets(connection_id)
        credentials = CcvCredentials(
            api_root=info.shop_url, public_key=secrets.ccv_public, secret=secrets.ccv_secret
        )
        transport = self._transport(info.shop_url)
        http = (
            httpx.Client(transport=transport, timeout=DEFAULT_TIMEOUT)
            if transport is not None
            else None
        )
        gets, writes = self.ccv_limits
        budget = CcvBudget(gets=gets, writes=writes, clock=self.wall_clock)
        client = CcvShopClient(
            credentials, http=http, budget=budget, sleep=self.sleep, clock=self.wall_clock
        )
        return CcvShop(client)

    def engine_for(self, connection_id: int, *, lease: DbLease | None = None) -> SyncEngine:
        """The connection's engine; with ``lease``, every write it makes is fenced by it."""
        version = self.store.credentials_version(connection_id)  # read once for both clients
        return SyncEngine(
            store=self.store if lease is None else self.store.fenced(lease),
            shop=self.shop_for(connection_id, version=version),
            books=self.books_for(connection_id, version=version),
            clock=self.clock,
            max_attempts=self.settings.max_attempts,
            base_backoff=timedelta(seconds=self.settings.retry_seconds),
            payment_check=timedelta(hours=self.settings.payment_check_hours),
            contact_refresh=timedelta(minutes=self.settings.contact_refresh_minutes),
            tax_rates=self.tax_rates,
            tax_rate_refresh=timedelta(minutes=self.settings.tax_rate_refresh_minutes),
            observer=self.observer,
        )

    def sync_leased(
        self,
        lease: DbLease,
        order_id: str,
        *,
        engine: SyncEngine | None = None,
        **options: Any,
    ) -> SyncResult:
        """Book one order under ``lease`` (taken by the caller): the engine's writes are fenced
        by it and its requests guarded by it. Raises :class:`LeaseLost` when it was lost."""
        plain = engine or self.engine_for(lease.connection_id)
        fenced = SyncEngine(**{**engine_settings(plain), "store": self.store.fenced(lease)})
        with guarded_by(lease):
            return fenced.sync_order(lease.connection_id, order_id, **options)

    def wait_for_lease(self, connection_id: int, owner: str) -> DbLease:
        """The connection's lease, waiting while a worker holds it (passes in this process)."""
        while (lease := self.store.acquire_lease(connection_id, owner, LEASE)) is None:
            self.sleep(BUSY_WAIT_SECONDS)
        return lease

    def lease_within(self, connection_id: int, owner: str, tries: int) -> DbLease | None:
        """The connection's lease, asked for at most ``tries`` times a second apart (a person
        waiting for a page is not kept waiting for a whole import); ``None``: still busy."""
        for attempt in range(tries):
            if attempt:
                self.sleep(BUSY_WAIT_SECONDS)
            lease = self.store.acquire_lease(connection_id, owner, LEASE)
            if lease is not None:
                return lease
        return None

    def leased_engine(self, connection_id: int, kind: str) -> LeasedEngine:
        """The engine for a pass run in this process (``kind``: "cli", "web", …): every order
        is booked under the connection's lease, as the workers book them."""
        plain = self.engine_for(connection_id)
        return LeasedEngine(**engine_settings(plain), app=self, kind=kind)

    def close(self) -> None:
        with self._clients_lock:
            for _version, client in self._clients.values():
                client.close()
            self._clients.clear()
        self.sessions.kw["bind"].dispose()


def _budget_key(connection_id: int, credentials: dict[str, Any]) -> str:
    """Per OAuth connection, or per personal token (Moneybird counts per token)."""
    if credentials.get("type") == "oauth":
        return f"moneybird:oauth:{connection_id}"
    return token_budget_key(str(credentials.get("token", "")))


def engine_settings(engine: SyncEngine) -> dict[str, Any]:
    """Everything a :class:`SyncEngine` is made with (ports, limits, backoff, caches), so an
    engine made from another one — fenced by a lease, or leased for a pass — books exactly as
    the connection's own engine does."""
    return {f.name: getattr(engine, f.name) for f in fields(SyncEngine) if f.init}


#: How long a pass in this process waits before asking again for a lease a worker holds.
BUSY_WAIT_SECONDS = 1.0
#: How often a pass books one order again after losing the lease in the middle of it.
LEASE_LOST_TRIES = 3


def lease_owner(kind: str) -> str:
    """Who holds a lease, for people reading the database: kind, machine, process, thread."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class LeasedEngine(SyncEngine):
    """The engine for passes run in this process (``ccvbird import``, ``sync`` and ``retry``,
    the web app's import): every order is booked under the connection's lease, exactly as a
    worker books it — so a pass and a worker never book the same order at the same time.

    The lease is taken for the first order and kept for the next ones (each fenced write renews
    it) until :meth:`release` — use the engine as a context manager. Taking it per order would
    cost two more transactions an order and give the workers no real turn in between anyway.
    When the lease is lost (the pass stalled longer than a lease and a worker took over), the
    order is booked again under a new lease, from what is stored.
    """

    app: App | None = None
    kind: str = "pass"
    _lease: DbLease | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> LeasedEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        """Let the workers have the connection again."""
        if self._lease is not None:
            assert self.app is not None
            self.app.store.release_lease(self._lease)
            self._lease = None

    def sync_order(
        self,
        connection_id: int,
        order_id: str,
        *,
        trigger: Trigger = Trigger.POLL,
        order: Order | None = None,
        existing: RemoteInvoice | Lookup | None = Lookup.NOT_DONE,
        credited: bool = False,
    ) -> SyncResult:
        assert self.app is not None
        for attempt in range(1, LEASE_LOST_TRIES + 1):
            if self._lease is None or self._lease.connection_id != connection_id:
                self.release()
                self._lease = self.app.wait_for_lease(connection_id, lease_owner(self.kind))
            try:
                return self.app.sync_leased(
                    self._lease, order_id, engine=self, trigger=trigger, order=order,
                    existing=existing, credited=credited,
                )  # fmt: skip
            except LeaseLost:
                self._lease = None  # another worker holds it now: nothing to release
                if attempt == LEASE_LOST_TRIES:
                    raise
                log.warning(
                    "lost the lease of connection %s while booking order %s; booking it again",
                    connection_id,
                    order_id,
                )
        raise AssertionError("unreachable")  # pragma: no cover


def administration_settings_for(app: App, connection_id: int) -> AdministrationSettings:
    """The connection's Moneybird tax rates, ledger accounts, workflows, styles and accounts."""
    return administration_settings(app.moneybird_client(connection_id))


def reference_prefix_for(
    app: App, administration_id: str, *, connection_id: int | None = None, current: str = ""
) -> str:
    """The reference prefix to draft for a connection booking into ``administration_id``:
    ``current`` when no other connection there conflicts with it (so the first connection
    keeps its bare order numbers), else the first free one (``B-``, ``C-``, …)."""
    others = app.store.reference_prefixes(administration_id, other_than=connection_id)
    return current if conflict(current, others) is None else draft_prefix(others)


def refuse_misfit(profile: MappingProfile, settings: AdministrationSettings, source: str) -> None:
    """Raise ``ConfigError`` listing every key of ``profile`` the administration contradicts
    (a tax rate of another percentage, type or country, an inactive or missing account)."""
    mismatches = profile_mismatches(profile, settings)
    if mismatches:
        raise ConfigError(
            f"{source} does not match the Moneybird administration: {describe(mismatches)}",
            problems=[m.message for m in mismatches],
        )


def check_profile_fits(app: App, connection_id: int, profile_toml: str, *, source: str) -> None:
    """Parse the profile and check it against the connection's administration (read fresh):
    ``ConfigError`` naming every key that is wrong."""
    profile = parse_profile(profile_toml, source=source)
    client = app.moneybird_client(connection_id)
    client.refresh_settings()
    refuse_misfit(profile, administration_settings(client), source)


def resume_after_profile_fix(app: App, connection_id: int) -> bool:
    """Resume a connection that waited for its profile (a draft to finish, or a profile that
    did not fit the administration); True when it was resumed."""
    connection = app.store.connection(connection_id)
    if connection.paused_code in PROFILE_PAUSES or connection.paused_reason.startswith(
        OLD_PROFILE_PAUSES
    ):
        app.store.resume(connection_id)
        return True
    return False


def budget_use(app: App, connection_id: int) -> tuple[int, int]:
    """(requests used in the current window, the limit) of the connection's Moneybird token."""
    used = getattr(app.moneybird_budget, "used", None)
    key = app.moneybird_budget_key(connection_id)
    return (int(used(key)) if used is not None else 0), app.settings.moneybird_requests


def huey_queue(task: Any) -> Queue:
    """The ``Queue`` port over the ``ccvbird.sync_order`` Huey task: an order is queued at most
    once while a copy of it waits (the marks live in the task's Huey storage), and fairly
    between connections (:func:`fair_shares`)."""
    return HueyQueue(task, task.schedule, pending_marks(task.huey), fair_shares(task.huey))


def fair_shares(huey: Any) -> FairShares:
    """The per-connection priorities of ``huey``'s tasks: one connection's backlog never makes
    another connection's orders wait behind all of it."""
    return FairShares(huey)


def pending_marks(huey: Any) -> PendingMarks:
    """The "queued" marks of ``huey``: set when an order is queued, cleared when it is taken."""
    return PendingMarks(huey)


def task_queue(settings: Settings, *, immediate: bool = False) -> Any:
    """The Huey instance for these settings (SQLite in the data directory, or Redis)."""
    return make_huey(
        settings.queue_url, settings.queue_path, immediate=immediate, name=settings.queue_name
    )


def database_answers(app: App) -> bool:
    """Whether the state database answers a ``SELECT 1`` now (``/readyz``)."""
    try:
        with app.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # the message may name hosts and users: the type only
        log.warning("readiness: the state database does not answer (%s)", type(exc).__name__)
        return False
    return True


def queue_answers(huey: Any) -> bool:
    """Whether the task queue's storage answers now (SQLite or Redis; ``/readyz``)."""
    try:
        huey.pending_count()
    except Exception as exc:
        log.warning("readiness: the task queue does not answer (%s)", type(exc).__name__)
        return False
    return True


def unlimited_budget() -> RequestBudget:
    """No request budget (for sandboxes that enforce no limits, as in ``ccvbird demo``)."""
    return Unlimited()


def token_budget_key(token: str) -> str:
    return "moneybird:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line overrides (``None`` means not given)."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def build_app(
    settings: Settings | None = None,
    *,
    transports: dict[str, httpx.BaseTransport] | None = None,
    moneybird_budget: RequestBudget | None = None,
    clock: Clock | None = None,
) -> App:
    """Open the state database (migrating it), the secret key and the shared request budget.

    ``clock``: the time the store, the leases and the engine use (tests inject one)."""
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sessions = open_database(settings.resolved_database_url)
    key = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key is not None
        else load_or_create_key(settings.key_file)
    )
    clock = clock or SystemClock()
    store = SqlStore(sessions, SecretBox(key), clock=clock)
    budget = moneybird_budget or SharedBudget(
        sessions, settings.moneybird_requests, settings.moneybird_window_seconds
    )
    oauth = None
    if settings.moneybird_client_id and settings.moneybird_client_secret:
        oauth = OAuthApp(
            client_id=settings.moneybird_client_id,
            client_secret=settings.moneybird_client_secret.get_secret_value(),
            redirect_uri=f"{settings.public_url.rstrip('/')}/moneybird/callback",
            oauth_url=settings.moneybird_oauth_url,
        )
    return App(
        settings=settings,
        store=store,
        sessions=sessions,
        clock=clock,
        moneybird_budget=budget,
        transports=dict(transports or {}),
        moneybird_oauth=oauth,
    )


def upgrade_schema(settings: Settings) -> Upgrade:
    """Run the migrations the state database lacks (``ccvbird init --upgrade``)."""
    engine = open_engine(settings.resolved_database_url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def generate_secret_key() -> str:
    """A new Fernet key (for ``CCVBIRD_SECRET_KEY``)."""
    return new_key().decode()


@dataclass(frozen=True)
class Rotation:
    rekeyed: Rekeyed
    #: Where the new key is: the key file's path, or ``None`` for ``CCVBIRD_SECRET_KEY``.
    key_file: Path | None


def rotate_secret_key(settings: Settings) -> Rotation:
    """Encrypt every secret at rest again with a new key; afterwards the old key reads none.

    With a key file: a new key is generated and written in front of the old one (both
    decrypt), every secret is re-encrypted, then the file keeps the new key alone — an
    interruption at any point leaves a key file that reads every secret. With
    ``CCVBIRD_SECRET_KEY``: it must hold the new key first and the old one after it
    (``NEW,OLD``); afterwards it is to hold the new key alone.
    Every other ccvbird process must be stopped: it would go on with the old key.
    """
    key_file = None if settings.secret_key is not None else settings.key_file
    sessions = open_database(settings.resolved_database_url)  # the schema check comes first
    try:
        if settings.secret_key is not None:
            keys = split_keys(settings.secret_key.get_secret_value().encode())
            if len(keys) < 2:
                raise ConfigError(
                    "CCVBIRD_SECRET_KEY holds one key: put a new key in front of it "
                    "(CCVBIRD_SECRET_KEY=NEW,OLD; `ccvbird rotate-key --generate` makes one), "
                    "then run rotate-key again"
                )
        else:
            assert key_file is not None
            keys = [new_key(), *split_keys(key_file.read_bytes())]
            SecretBox(keys)  # every key in the file is a valid one before anything changes
            write_key_file(key_file, keys)
        try:
            rekeyed = reencrypt_secrets(sessions, SecretBox(keys), SecretBox(keys[:1]))
        except Exception:
            if key_file is not None:  # nothing was re-encrypted: the old keys alone again
                write_key_file(key_file, keys[1:])
            raise
    finally:
        sessions.kw["bind"].dispose()
    if key_file is not None:
        write_key_file(key_file, keys[:1])
    return Rotation(rekeyed=rekeyed, key_file=key_file)


@dataclass(frozen=True)
class Connected:
    connection_id: int
    shop_name: str
    administration_name: str
    suggestion: Suggestion | None
    paused_reason: str


def connect(
    app: App,
    *,
    name: str,
    ccv_url: str,
    ccv_public: str,
    ccv_secret: str,
    moneybird_url: str,
    moneybird_token: str,
    administration_id: str,
    start_date: date | None = None,
    profile_toml: str | None = None,
) -> Connected:
    """Check both sets of credentials, draft or take the profile, and store the connection."""
    credentials = CcvCredentials(api_root=ccv_url, public_key=ccv_public, secret=ccv_secret)
    transport = app._transport(ccv_url)
    http = (
        httpx.Client(transport=transport, timeout=DEFAULT_TIMEOUT)
        if transport is not None
        else None
    )
    with CcvShopClient(credentials, http=http, sleep=app.sleep, clock=app.wall_clock) as shop:
        webshops = shop.webshops()
    shop_name = webshops[0].name if webshops else ccv_url
    with connect_moneybird(
        token=moneybird_token,
        administration_id=administration_id,
        base_url=moneybird_url,
        transport=app._transport(moneybird_url),
        budget=app.moneybird_budget,
        budget_key=token_budget_key(moneybird_token),
        sleep=app.sleep,
        clock=app.wall_clock,
    ) as client:
        administrations = {a.id: a.name for a in client.administrations()}
        if administration_id not in administrations:
            known = (
                ", ".join(f"{aid} ({label})" for aid, label in administrations.items()) or "none"
            )
            raise ConfigError(
                f"this Moneybird token has no administration {administration_id}; "
                f"it can reach: {known}"
            )
        suggestion = None
        pause: Reason | None = None
        if profile_toml is not None:
            # A profile given is used only when it fits this administration.
            refuse_misfit(
                parse_profile(profile_toml, source="--profile"),
                administration_settings(client),
                "--profile",
            )
        else:
            suggestion = suggest_profile(
                administration_settings(client),
                name=f"{name or shop_name} (suggested)",
                reference_prefix=reference_prefix_for(app, administration_id),
            )
            profile_toml = suggestion.toml
            if not suggestion.unambiguous:
                pause = Reason(
                    "profile_needs_decision",
                    {"decisions": "; ".join(suggestion.missing + suggestion.ambiguous)},
                )
    connection_id = app.store.create_connection(
        name=name or shop_name,
        shop_url=ccv_url,
        ccv_public=ccv_public,
        ccv_secret=ccv_secret,
        moneybird_url=moneybird_url,
        administration_id=administration_id,
        moneybird_credentials={"type": "token", "token": moneybird_token},
        profile_toml=profile_toml,
        start_date=start_date,
    )
    if pause is not None:
        app.store.pause(connection_id, pause)
    return Connected(
        connection_id,
        shop_name,
        administrations[administration_id],
        suggestion,
        pause.text if pause is not None else "",
    )


# -- sandboxes in this process (ccvbird demo, end-to-end tests, benchmarks) ------------------

SANDBOX_SHOP_URL = "https://koffie-en-co.sandbox.ccvshop.test"


@dataclass
class Sandboxes:
    """A CCV sandbox shop and a Moneybird sandbox administration, served in this process."""

    shop: Any  # ccvbird.sandbox.ccvshop.SandboxShop
    moneybird: Any  # ccvbird.sandbox.moneybird.MoneybirdSandbox
    ccv_url: str
    moneybird_url: str
    ccv_public: str
    ccv_secret: str
    moneybird_token: str
    administration_id: str
    transports: dict[str, httpx.BaseTransport]


def in_process_sandboxes(
    *,
    orders: int = 0,
    seed: int = 1,
    limited: bool = False,
    moneybird_rate: tuple[int, float] = (150, 300.0),
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poster: Callable[..., int] | None = None,
    moneybird_faults: dict[str, float] | None = None,
    ccv_fault_rate: float = 0.0,
    ccv_limited: bool | None = None,
    history_days: int | None = None,
) -> Sandboxes:
    """Both sandboxes with ``orders`` generated orders. ``limited``: enforce the real services'
    request limits (CCV per minute, unless ``ccv_limited`` says otherwise; Moneybird
    ``moneybird_rate``), else none. ``history_days``: the orders are spread over that many days
    up to ``clock``'s now (a shop's history), else they follow the generator's timeline."""
    from ccvbird.sandbox.ccvshop.faults import FaultPlan as CcvFaults
    from ccvbird.sandbox.ccvshop.inprocess import InProcessTransport
    from ccvbird.sandbox.ccvshop.limits import Limits
    from ccvbird.sandbox.ccvshop.outbound import RecordingPoster
    from ccvbird.sandbox.ccvshop.shop import SandboxShop
    from ccvbird.sandbox.moneybird import (
        IN_PROCESS_BASE_URL,
        Fault,
        FaultPlan,
        MoneybirdSandbox,
        SandboxConfig,
        SandboxTransport,
    )
    from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID, DEMO_TOKEN

    unlimited = 10**9
    shop = SandboxShop(
        base_url=SANDBOX_SHOP_URL,
        seed=seed,
        clock=clock,
        sleep=sleep,
        limits=(
            Limits()
            if (limited if ccv_limited is None else ccv_limited)
            else Limits(gets=unlimited, writes=unlimited, total=unlimited)
        ),
        faults=CcvFaults(rate=ccv_fault_rate, seed=seed),
        poster=poster or RecordingPoster(),
    )
    if orders:
        shop.generate(
            orders, over=timedelta(days=history_days) if history_days is not None else None
        )
    rate, window = moneybird_rate if limited else (unlimited, 300.0)
    moneybird = MoneybirdSandbox(
        SandboxConfig(rate_limit=rate, rate_window=window, seed=seed),
        clock=clock,
        faults=FaultPlan(
            seed=seed, rates={Fault(k): v for k, v in (moneybird_faults or {}).items()}
        ),
    )
    return Sandboxes(
        shop=shop,
        moneybird=moneybird,
        ccv_url=SANDBOX_SHOP_URL,
        moneybird_url=IN_PROCESS_BASE_URL,
        ccv_public="sandbox-public",
        ccv_secret="sandbox-secret",  # noqa: S106 - the documented sandbox credential
        moneybird_token=DEMO_TOKEN,
        administration_id=ADMINISTRATION_ID,
        transports={
            SANDBOX_SHOP_URL: InProcessTransport(shop),
            IN_PROCESS_BASE_URL.rsplit("/api", 1)[0]: SandboxTransport(moneybird),
        },
    )


def parse_ccv_webhook(raw_body: bytes, *, event: str | None = None) -> tuple[str, str]:
    """(event, order id) of a CCV webhook body; raises ``InvalidOrderData`` naming the field."""
    try:
        trigger = parse_webhook(raw_body, event=event)
    except InvalidWebhookBody as exc:
        raise InvalidOrderData(exc.field, str(exc)) from None
    return trigger.event, str(trigger.order_id)


# -- "credit it": a person asks for the full credit of a cancelled booked order -----------------


@dataclass(frozen=True, slots=True)
class CreditAnswer:
    """What asking to credit an order did: ``outcome`` is ``booked``, ``retry_later``,
    ``parked`` (the credit has a reason), ``refused`` (nothing was done; ``code`` says why) or
    ``busy`` (the connection's lease stayed taken; nothing was done)."""

    outcome: str
    code: str = ""
    message: str = ""
    credits: tuple[CreditRecord, ...] = ()


def credit_order(
    app: App, connection_id: int, order_id: str, *, kind: str = "cli", tries: int | None = None
) -> CreditAnswer:
    """Credit the cancelled booked order ``order_id`` in full, now (``ccvbird credit``, the web
    app's *Credit it*).

    :meth:`SyncEngine.credit_order` does it, under the connection's lease as a worker would, so
    it never meets a worker booking the same order. Refused before it: an order credited in full
    already (also by CCV credit invoices) or in part (a full credit would credit too much).
    ``tries``: ask for the lease that many times (a second apart) and answer ``busy`` (code
    ``connection_busy``) when it stays taken; ``None``: wait for it as long as it takes."""
    owner = lease_owner(kind)
    if tries is None:
        lease = app.wait_for_lease(connection_id, owner)
    else:
        found = app.lease_within(connection_id, owner, tries)
        if found is None:
            return CreditAnswer(
                "busy", "connection_busy",
                "ccvbird is busy with this shop (an import or a sync); nothing was done",
            )  # fmt: skip
        lease = found
    try:
        store = app.store.fenced(lease)
        with guarded_by(lease):
            record = store.record(connection_id, order_id)
            number = record.order_number or order_id
            refused = _not_creditable(store, record, number)
            if refused is not None:
                return refused
            before = {c.credit_key for c in store.credit_records(connection_id, order_id)}
            engine = SyncEngine(
                **{**engine_settings(app.engine_for(connection_id)), "store": store}
            )
            result = engine.credit_order(connection_id, order_id)
    finally:
        app.store.release_lease(lease)
    message = result.message.rstrip(".")
    message = message[:1].lower() + message[1:] if message.startswith("Order ") else message
    if result.outcome is CreditOutcome.CREDITED:
        fresh = [c for c in result.credits if c.credit_key not in before] or list(result.credits)
        return CreditAnswer("booked", result.reason_code, message, tuple(fresh))
    if result.outcome is CreditOutcome.PARKED:
        return CreditAnswer("parked", result.reason_code, message, result.credits)
    if result.outcome is CreditOutcome.RETRY_LATER:
        return CreditAnswer("retry_later", result.reason_code, message, result.credits)
    return CreditAnswer("refused", result.reason_code, message, result.credits)


def _not_creditable(store: SqlStore, record: OrderRecord, number: str) -> CreditAnswer | None:
    if record.state is SyncState.CREDITED:
        return CreditAnswer(
            "refused", "already_credited",
            f"order {number} was credited in Moneybird already (not by ccvbird); ccvbird leaves "
            "it as it is",
        )  # fmt: skip
    if record.invoice_id is None:
        return CreditAnswer(
            "refused", "not_booked",
            f"order {number} is not booked (it is {record.state.value.replace('_', ' ')}), so "
            "there is no invoice to credit",
        )  # fmt: skip
    booked = [
        c
        for c in store.credit_records(record.connection_id, record.order_id)
        if c.state is CreditState.BOOKED
    ]
    if not booked:
        return None
    credited = sum((c.total or ZERO for c in booked), ZERO)
    which = ", ".join(f"{c.reference} ({format_amount(c.total or ZERO)})" for c in booked)
    if any(c.credit_key == CANCEL_KEY for c in booked) or (
        record.booked_total is not None and credited >= record.booked_total
    ):
        return CreditAnswer(
            "refused", "already_credited",
            f"order {number} is credited already: {which}",
        )  # fmt: skip
    return CreditAnswer(
        "refused", "partly_credited",
        f"order {number} is partly credited already ({which}); a full credit would credit "
        "more than remains — make a credit invoice for the rest in CCV Shop, or credit it in "
        "Moneybird",
    )  # fmt: skip
