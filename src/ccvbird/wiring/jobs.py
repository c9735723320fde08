"""Work the web app starts in the background: history import, "sync now", e-mail notices.

The import runs the engine in the web process, so it takes the connection's lease order by
order — the same lease the workers take, with the same fenced writes — and one worker per
connection at a time still holds across the web app and every worker.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from ccvbird.domain.errors import CcvbirdError
from ccvbird.domain.reasons import Reason
from ccvbird.ports import Queue
from ccvbird.service.imports import ImportProgress
from ccvbird.service.notify import PAUSED, due_notices, pause_key, send_notices
from ccvbird.service.passes import import_history, plan_import
from ccvbird.service.triggers import poll
from ccvbird.wiring import WebBackend
from ccvbird.wiring.shop import first_order_date

log = logging.getLogger(__name__)


def run_import(backend: WebBackend, progress: ImportProgress) -> None:
    """Book the history since ``progress.since``, reporting into ``progress``. Never raises."""
    app = backend.app
    connection_id = progress.connection_id
    try:
        with app.leased_engine(connection_id, "web") as engine:
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
        app.tax_rates.invalidate(connection_id)  # the next booking reads the rates again
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


def paused_by_hand(backend: WebBackend, connection_id: int, reason: Reason) -> None:
    """Pause by a person: recorded as noticed, so no e-mail tells them what they just did."""
    backend.app.store.pause(connection_id, reason)
    backend.notices.first_time(connection_id, PAUSED, pause_key(reason.text))


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
    """Where the history import starts unless the person says otherwise: the shop's first
    order (so the import finds every order), else the profile's history start date, else 30
    days ago."""
    start = backend.app.store.connection(connection_id).start_date
    return (
        first_order_date(backend, connection_id)
        or start
        or (backend.app.clock.today() - timedelta(days=30))
    )
