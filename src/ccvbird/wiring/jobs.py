"""Work the web app starts in the background: history import, "sync now", e-mail notices.

The import and "sync now" run the engine in the web process, so they take the connection's
lease order by order — the same lease the workers take — and one worker per connection at a
time still holds across the web app and every worker.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from ccvbird.domain.errors import CcvbirdError
from ccvbird.domain.order import Order
from ccvbird.domain.sync import RemoteInvoice
from ccvbird.ports import Queue
from ccvbird.service.imports import ImportProgress
from ccvbird.service.notify import PAUSED, due_notices, pause_key, send_notices
from ccvbird.service.passes import import_history, plan_import
from ccvbird.service.sync import Lookup, SyncEngine, SyncResult, Trigger
from ccvbird.service.triggers import poll
from ccvbird.wiring import WebBackend

log = logging.getLogger(__name__)

#: How long the web app holds a connection for one order of an import.
LEASE = timedelta(minutes=5)
#: How long to wait before asking again when a worker holds the connection.
BUSY_WAIT_SECONDS = 1.0


class _LeasedEngine(SyncEngine):
    """The engine, taking the connection's lease around every order."""

    backend: WebBackend

    @contextmanager
    def _leased(self, connection_id: int) -> Iterator[None]:
        app = self.backend.app
        owner = f"web:{os.getpid()}:{threading.get_ident()}"
        while not app.store.acquire_lease(connection_id, owner, app.clock.now() + LEASE):
            app.sleep(BUSY_WAIT_SECONDS)
        try:
            yield
        finally:
            app.store.release_lease(connection_id, owner)

    def sync_order(
        self,
        connection_id: int,
        order_id: str,
        *,
        trigger: Trigger = Trigger.POLL,
        order: Order | None = None,
        existing: RemoteInvoice | Lookup | None = Lookup.NOT_DONE,
    ) -> SyncResult:
        with self._leased(connection_id):
            return super().sync_order(
                connection_id, order_id, trigger=trigger, order=order, existing=existing
            )


def _engine(backend: WebBackend, connection_id: int) -> _LeasedEngine:
    plain = backend.app.engine_for(connection_id)
    engine = _LeasedEngine(
        store=plain.store,
        shop=plain.shop,
        books=plain.books,
        clock=plain.clock,
        max_attempts=plain.max_attempts,
        contact_refresh=plain.contact_refresh,
    )
    engine.backend = backend
    return engine


def run_import(backend: WebBackend, progress: ImportProgress) -> None:
    """Book the history since ``progress.since``, reporting into ``progress``. Never raises."""
    app = backend.app
    connection_id = progress.connection_id
    engine = None
    try:
        engine = _engine(backend, connection_id)
        shop = engine.shop
        plan = plan_import(connection_id, since=progress.since, store=app.store, shop=shop)
        report = import_history(
            connection_id,
            since=progress.since,
            engine=engine,
            store=app.store,
            shop=shop,
            progress=progress,
            total=plan.orders - plan.settled,
        )
        progress.finish(app.clock.now(), report.why_not_finished)
    except Exception as exc:
        log.exception("the history import of connection %s failed", connection_id)
        progress.finish(app.clock.now(), f"{type(exc).__name__}: {exc}")


def sync_now(backend: WebBackend, connection_id: int, queue: Queue) -> None:
    """Poll the shop now and queue what is due (the workers book it). Never raises."""
    app = backend.app
    try:
        shop = app.shop_for(connection_id)
        poll(
            connection_id,
            store=app.store,
            shop=shop,
            queue=queue,
            clock=app.clock,
            lookback=timedelta(days=app.settings.lookback_days),
        )
    except CcvbirdError as exc:
        log.warning("polling connection %s failed: %s", connection_id, exc)
    except Exception:
        log.exception("polling connection %s failed", connection_id)


def paused_by_hand(backend: WebBackend, connection_id: int, reason: str) -> None:
    """Pause by a person: recorded as noticed, so no e-mail tells them what they just did."""
    backend.app.store.pause(connection_id, reason)
    backend.notices.first_time(connection_id, PAUSED, pause_key(reason))


def recipients(backend: WebBackend, connection_id: int) -> list[str]:
    operators = [a.strip() for a in backend.settings.notify_to.split(",") if a.strip()]
    owners = [a.email for a in backend.accounts.owners_of(connection_id)]
    return sorted(set(operators + owners))


def send_due_notices(backend: WebBackend) -> int:
    """Mail what is due (paused connections, orders parked too long); how many mails went out."""
    if backend.mailer is None:
        return 0
    app = backend.app
    notices = due_notices(
        app.store.connections(),
        app.store,
        backend.notices,
        now=app.clock.now(),
        parked_after=timedelta(hours=backend.settings.notify_parked_hours),
        dashboard_url=lambda cid: backend.url(f"/connections/{cid}"),
    )
    return send_notices(notices, backend.mailer, lambda cid: recipients(backend, cid))


def budget_use(backend: WebBackend, connection_id: int) -> tuple[int, int, float] | None:
    """(requests used, limit, window seconds) of the connection's Moneybird budget."""
    budget = backend.app.moneybird_budget
    used = getattr(budget, "used", None)
    if used is None or not backend.installs.setup(connection_id).has_moneybird:
        return None
    key = backend.app.moneybird_budget_key(connection_id)
    return int(used(key)), int(getattr(budget, "limit", 0)), float(getattr(budget, "window", 0))


def import_since_default(backend: WebBackend, connection_id: int) -> date:
    start = backend.app.store.connection(connection_id).start_date
    return start or (backend.app.clock.today() - timedelta(days=30))
