"""A ccvbird process that is killed (os._exit, no cleanup) at its k-th Moneybird request.

Run by tests/e2e/test_killed_process.py:
    python crash_child.py DATA_DIR SINCE KILL_AT MODE
MODE ``before``: killed just before request KILL_AT leaves; ``after``: killed after its answer
arrived, before ccvbird could record it. KILL_AT 0 means: not killed (the recovery run).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import httpx

from ccvbird import bootstrap
from ccvbird.service.passes import import_history


class KillingTransport(httpx.HTTPTransport):
    def __init__(self, kill_at: int, mode: str) -> None:
        super().__init__()
        self.kill_at, self.mode, self.sent = kill_at, mode, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.sent == self.kill_at and self.mode == "before":
            os._exit(137)
        response = super().handle_request(request)
        if self.sent == self.kill_at and self.mode == "after":
            response.read()
            os._exit(137)
        return response


def main() -> None:
    data_dir, since, kill_at, mode = (
        Path(sys.argv[1]),
        date.fromisoformat(sys.argv[2]),
        int(sys.argv[3]),
        sys.argv[4],
    )
    settings = bootstrap.load_settings(data_dir=data_dir)
    app = bootstrap.build_app(settings, moneybird_budget=bootstrap.unlimited_budget())
    connection = app.store.connections()[0]
    moneybird_url = app.store.moneybird_url(connection.id)
    app.transports[moneybird_url.rsplit("/api", 1)[0]] = KillingTransport(kill_at, mode)
    report = import_history(
        connection.id, since=since, engine=app.engine_for(connection.id), store=app.store,
        shop=app.shop_for(connection.id),
    )  # fmt: skip
    print(dict(report.outcomes))
    app.close()


if __name__ == "__main__":
    main()
