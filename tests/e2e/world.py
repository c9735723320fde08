"""A whole ccvbird against both sandboxes, in this process, on a fake clock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ccvbird import bootstrap
from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.adapters.http import Unlimited
from ccvbird.config import Settings
from ccvbird.domain.sync import SyncState
from ccvbird.service.passes import import_history

#: 2026-11-02 09:00 UTC: the sandboxes and the clients share this fake wall clock.
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()
SINCE = date(2026, 1, 1)


@dataclass
class FakeWallClock:
    now: float = START
    slept: float = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


@dataclass
class FakeTime:
    """The ``Clock`` port on a fake wall clock (``today`` in the shop's time zone), so the
    store, the leases and the engine live on the sandboxes' timeline too."""

    wall: FakeWallClock
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall.now, UTC)

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()


@dataclass
class World:
    sandboxes: bootstrap.Sandboxes
    app: bootstrap.App
    connection_id: int
    clock: FakeWallClock
    outcomes: Counter[str] = field(default_factory=Counter)

    extra_apps: list[bootstrap.App] = field(default_factory=list)

    @property
    def store(self) -> Any:
        return self.app.store

    def another_app(self) -> bootstrap.App:
        """A second ccvbird process on the same database and sandboxes (another worker)."""
        app = bootstrap.build_app(
            self.app.settings,
            transports=self.sandboxes.transports,
            moneybird_budget=self.app.moneybird_budget,
        )
        app.sleep, app.wall_clock, app.ccv_limits = self.clock.sleep, self.clock, (10**9, 10**9)
        self.extra_apps.append(app)
        return app

    def close(self) -> None:
        for app in [self.app, *self.extra_apps]:
            app.close()

    def import_all(self, rounds: int = 1) -> None:
        """Import the history; further rounds pick up what transient faults left behind."""
        for _ in range(rounds):
            report = import_history(
                self.connection_id,
                since=SINCE,
                engine=self.app.engine_for(self.connection_id),
                store=self.store,
                shop=self.app.shop_for(self.connection_id),
            )
            self.outcomes.update(report.outcomes)
            if not self.store.records(self.connection_id, states=[SyncState.BOOKING]):
                return

    def shop_orders(self) -> dict[str, Any]:
        shop = self.sandboxes.shop
        return {
            str(o["id"]): parse_order(o, {"items": shop.order_rows(int(o["id"])) or []})
            for o in shop.orders()
        }

    def invoices(self) -> list[Any]:
        return self.sandboxes.moneybird.invoices()

    def contacts(self) -> list[Any]:
        return list(self.sandboxes.moneybird.books().contacts.values())

    def moneybird_writes(self) -> int:
        return sum(
            1
            for method, _path, _status in self.sandboxes.moneybird.api_requests()
            if method != "GET"
        )

    def check_exactly_once_to_the_cent(self) -> dict[SyncState, int]:
        """Every booked order has one paid invoice equal to what was paid; nothing else exists."""
        records = {r.order_id: r for r in self.store.records(self.connection_id)}
        by_reference: Counter[str] = Counter(i.reference for i in self.invoices())
        duplicates = [ref for ref, n in by_reference.items() if n > 1]
        assert duplicates == [], f"duplicate invoices for {duplicates}"
        orders = self.shop_orders()
        invoices = {i.reference: i for i in self.invoices()}
        booked = [r for r in records.values() if r.state is SyncState.BOOKED]
        assert len(invoices) == len(booked), "an invoice exists for an order that is not booked"
        for record in booked:
            invoice = invoices[record.order_number]
            rendered = self.sandboxes.moneybird.renderer().sales_invoice(invoice)
            assert Decimal(rendered["total_price_incl_tax"]) == orders[record.order_id].total_paid
            assert rendered["state"] == "paid"
            # One payment; an invoice of 0.00 is paid by being sent and needs none.
            assert len(rendered["payments"]) == (
                0 if Decimal(rendered["total_price_incl_tax"]) == 0 else 1
            )
        emails = Counter(
            c.text("send_invoices_to_email").lower()
            for c in self.contacts()
            if c.text("send_invoices_to_email")
        )
        assert [e for e, n in emails.items() if n > 1] == [], "two contacts for one e-mail"
        for record in records.values():
            if record.state is not SyncState.BOOKED:
                assert record.reason, f"order {record.order_id} is {record.state} without a reason"
        return self.store.count_states(self.connection_id)


def make_world(
    tmp_path: Path,
    *,
    orders: int = 60,
    seed: int = 1,
    database_url: str | None = None,
    moneybird_faults: dict[str, float] | None = None,
    ccv_fault_rate: float = 0.0,
    poster: Any = None,
    max_attempts: int = 8,
    same_services_as: World | None = None,
    history_days: int | None = None,
    fake_time: bool = False,
) -> World:
    """A ccvbird with its own state database, on new sandboxes, or on another world's
    (``same_services_as``: the same shop and administration, as after losing the database).

    ``history_days``: the orders are spread over that many days up to the fake now.
    ``fake_time``: the store, the leases and the engine use the fake clock too (else the
    system clock, and only the sandboxes and the HTTP clients run on the fake one)."""
    if same_services_as is not None:
        clock, sandboxes = same_services_as.clock, same_services_as.sandboxes
    else:
        clock = FakeWallClock()
        sandboxes = bootstrap.in_process_sandboxes(
            orders=orders,
            seed=seed,
            clock=clock,
            sleep=clock.sleep,
            moneybird_faults=moneybird_faults,
            ccv_fault_rate=ccv_fault_rate,
            poster=poster,
            history_days=history_days,
        )
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, max_attempts=max_attempts
    )
    app = bootstrap.build_app(
        settings,
        transports=sandboxes.transports,
        moneybird_budget=Unlimited(),
        clock=FakeTime(clock) if fake_time else None,
    )
    app.sleep, app.wall_clock, app.ccv_limits = clock.sleep, clock, (10**9, 10**9)
    connected = connect_sandboxes(app, sandboxes)
    assert connected.paused_reason == ""
    return World(sandboxes, app, connected.connection_id, clock)


def connect_sandboxes(
    app: bootstrap.App, sandboxes: bootstrap.Sandboxes, *, name: str = "sandbox"
) -> bootstrap.Connected:
    """Connect ``app`` to the sandboxes' shop and administration, as ``ccvbird connect`` does."""
    return bootstrap.connect(
        app,
        name=name,
        ccv_url=sandboxes.ccv_url,
        ccv_public=sandboxes.ccv_public,
        ccv_secret=sandboxes.ccv_secret,
        moneybird_url=sandboxes.moneybird_url,
        moneybird_token=sandboxes.moneybird_token,
        administration_id=sandboxes.administration_id,
    )
