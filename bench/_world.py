"""Shared set-up of the engine benchmarks: ccvbird connected to both sandboxes in this process."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ccvbird import bootstrap
from ccvbird.adapters.http import RequestBudget, Unlimited
from ccvbird.config import Settings
from ccvbird.service.passes import PassReport, import_history

SINCE = date(2026, 1, 1)


@dataclass
class FakeWallClock:
    """Time that moves only when someone waits: benchmarks of pacing run in seconds."""

    now: float = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


@dataclass
class Bench:
    sandboxes: bootstrap.Sandboxes
    app: bootstrap.App
    connection_id: int
    clock: FakeWallClock

    def import_history(self) -> PassReport:
        """As ``ccvbird import`` runs it: under the connection's lease."""
        with self.app.leased_engine(self.connection_id, "bench") as engine:
            return import_history(
                self.connection_id,
                since=SINCE,
                engine=engine,
                store=self.app.store,
                shop=self.app.shop_for(self.connection_id),
            )

    def moneybird_requests(self) -> list[tuple[str, str, int]]:
        return list(self.sandboxes.moneybird.api_requests())


def connected(
    orders: int,
    *,
    seed: int = 1,
    limited: bool = False,
    moneybird_rate: tuple[int, float] = (150, 300.0),
    budget: Callable[[FakeWallClock, Any], RequestBudget] | None = None,
    data_dir: Path | None = None,
    database_url: str | None = None,
) -> Bench:
    clock = FakeWallClock()
    sandboxes = bootstrap.in_process_sandboxes(
        orders=orders,
        seed=seed,
        clock=clock,
        sleep=clock.sleep,
        limited=limited,
        ccv_limited=False,
        moneybird_rate=moneybird_rate,
    )
    settings = Settings(
        data_dir=data_dir or Path(tempfile.mkdtemp(prefix="ccvbird-bench-")),
        database_url=database_url,
    )
    app = bootstrap.build_app(
        settings, transports=sandboxes.transports, moneybird_budget=Unlimited()
    )
    if budget is not None:
        app.moneybird_budget = budget(clock, app.sessions)
    app.sleep, app.wall_clock, app.ccv_limits = clock.sleep, clock, (10**9, 10**9)
    result = bootstrap.connect(
        app,
        name="bench",
        ccv_url=sandboxes.ccv_url,
        ccv_public=sandboxes.ccv_public,
        ccv_secret=sandboxes.ccv_secret,
        moneybird_url=sandboxes.moneybird_url,
        moneybird_token=sandboxes.moneybird_token,
        administration_id=sandboxes.administration_id,
    )
    return Bench(sandboxes, app, result.connection_id, clock)


def describe(report: PassReport) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
