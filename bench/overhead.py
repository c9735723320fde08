"""ccvbird's own time per order, against sandboxes that answer instantly and never limit.

Imports generated orders end to end (CCV reads, mapping, the state database on SQLite, the
Moneybird client) and subtracts the time spent inside the in-process sandboxes, so what remains
is ccvbird's own overhead per order (per order the import handled; the figure per booked order
is printed above it). Each round builds a fresh world; the best round is reported, as
``timeit`` does: on a shared machine the fastest run is the one least disturbed by other work.
Prints as its last line:

    overhead: <N> ms/order

Run: .venv/bin/python bench/overhead.py [--orders 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import httpx

from _world import connected, describe


class Timed(httpx.BaseTransport):
    """Counts the time a wrapped (sandbox) transport spends answering."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seconds = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            self.seconds += time.perf_counter() - started


def one_round(orders: int) -> float:
    """One import against fresh sandboxes; ccvbird's own milliseconds per order."""
    bench = connected(orders)
    timed = {prefix: Timed(transport) for prefix, transport in bench.app.transports.items()}
    bench.app.transports.update(timed)
    bench.app.forget_clients(bench.connection_id)
    started = time.perf_counter()
    report = bench.import_history()
    total = time.perf_counter() - started
    in_sandboxes = sum(t.seconds for t in timed.values())
    own = total - in_sandboxes
    booked = report.outcomes["booked"]
    print(f"orders: {report.seen} ({describe(report)})")
    print(
        f"  wall time {total:.2f} s, of which in the sandboxes {in_sandboxes:.2f} s, "
        f"ccvbird {own:.2f} s: {own / report.seen * 1000:.2f} ms per order, "
        f"{own / max(booked, 1) * 1000:.2f} ms per booked order"
    )
    return own / report.seen * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    figures = [one_round(args.orders) for _ in range(max(args.rounds, 1))]
    print(f"rounds: {', '.join(f'{f:.2f}' for f in figures)} ms/order; best reported")
    print(f"overhead: {min(figures):.2f} ms/order")


if __name__ == "__main__":
    main()
