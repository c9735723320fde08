"""bench/many_shops.py runs, with very small numbers: sandboxes, PostgreSQL, Redis, a worker.

Not a measurement (the figures are whatever this machine gives); it checks that the bench still
works end to end and that it finds nothing booked twice or missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import _PG_PROBLEM, POSTGRES_URL
from tests.integration.test_queue import REDIS_URL, redis_problem

BENCH = Path(__file__).resolve().parents[2] / "bench" / "many_shops.py"

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _needs(problem: str | None, what: str) -> None:
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} must run in CI: {problem}")
    pytest.skip(f"{what} is not running ({problem})")


def test_the_many_shops_bench_books_every_webhook_order_once() -> None:
    _needs(_PG_PROBLEM, "PostgreSQL")
    _needs(redis_problem(), "Redis")
    url = make_url(POSTGRES_URL)
    server = url.render_as_string(hide_password=False).removesuffix(f"/{url.database}")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--connections", "3", "--burst", "4", "--import-orders",
         "20", "--workers", "1", "--threads", "1", "--trickle-per-hour", "0", "--timeout", "60",
         "--burst-seconds", "1", "--latency-ms", "5",
         "--pg", server.rstrip("/"), "--redis", REDIS_URL],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("summary:")
    assert "429 0; duplicates 0; missing 0" in last
