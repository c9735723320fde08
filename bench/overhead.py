"""ccvbird's own time per order, against sandboxes that answer instantly and never limit.

Imports generated orders end to end (CCV reads, mapping, the state database on SQLite, the
Moneybird client) and subtracts the time spent inside the in-process sandboxes, so what remains
is ccvbird's own overhead per order (per order the import handled; the figure per booked order
is printed above it). Each round builds a fresh world; the best round is reported, as
``timeit`` does: on a shared machine the fastest run is the one least disturbed by other work.
Prints as its last two lines:

    cpu: <N> ms/order (this process, less the sandboxes)
    overhead: <N> ms/order

With ``--postgres`` the state lives in a fresh PostgreSQL database per round (made and dropped
on the server ``--pg`` names), as a provider runs ccvbird; the default is SQLite. ``--both``
alternates SQLite and PostgreSQL rounds, so both figures come from the same minutes of a shared
machine (whose speed drifts by a quarter from one minute to the next here), and prints
``sqlite cpu:`` and ``postgres cpu:`` above the last two lines (which are PostgreSQL's).
``--profile`` writes a pyinstrument profile of the last round (needs the ``bench`` extra).

Run: .venv/bin/python bench/overhead.py [--orders 500] [--rounds 3] [--postgres | --both]
     [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from collections.abc import Iterator

import httpx
from sqlalchemy import create_engine, text

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


@contextlib.contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A fresh PostgreSQL database on ``server`` for one round, dropped afterwards."""
    name = f"bench_overhead_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def one_round(
    orders: int, database_url: str | None = None, profile: bool = False
) -> tuple[float, float]:
    """One import against fresh sandboxes; ccvbird's own milliseconds per order: wall time and
    CPU time, each less the time spent in the sandboxes."""
    bench = connected(orders, database_url=database_url)
    timed = {prefix: Timed(transport) for prefix, transport in bench.app.transports.items()}
    bench.app.transports.update(timed)
    bench.app.forget_clients(bench.connection_id)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    report = bench.import_history()
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    bench.app.close()
    in_sandboxes = sum(t.seconds for t in timed.values())
    own = total - in_sandboxes
    booked = report.outcomes["booked"]
    print(f"orders: {report.seen} ({describe(report)})")
    print(
        f"  wall time {total:.2f} s, of which in the sandboxes {in_sandboxes:.2f} s, "
        f"ccvbird {own:.2f} s: {own / report.seen * 1000:.2f} ms per order, "
        f"{own / max(booked, 1) * 1000:.2f} ms per booked order"
    )
    # The sandboxes answer in this process, so their time is CPU time of it as well.
    print(
        f"  CPU of this process {cpu:.2f} s, less the sandboxes: "
        f"{(cpu - in_sandboxes) / report.seen * 1000:.2f} ms per order"
    )
    return own / report.seen * 1000, (cpu - in_sandboxes) / report.seen * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="state on PostgreSQL")
    parser.add_argument(
        "--both", action="store_true", help="alternate SQLite and PostgreSQL rounds"
    )
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--profile", action="store_true", help="profile the last round")
    args = parser.parse_args()

    rounds = max(args.rounds, 1)
    figures: list[tuple[float, float]] = []
    sqlite: list[tuple[float, float]] = []
    for number in range(rounds):
        profile = args.profile and number == rounds - 1
        if args.both:
            sqlite.append(one_round(args.orders, None))
        if args.postgres or args.both:
            with postgres_database(args.pg) as url:
                figures.append(one_round(args.orders, url, profile))
        else:
            figures.append(one_round(args.orders, None, profile))
    if args.both:
        print(f"sqlite cpu: {min(c for _, c in sqlite):.2f} ms/order")
        print(f"postgres cpu: {min(c for _, c in figures):.2f} ms/order")
    print(f"state: {'PostgreSQL' if args.postgres or args.both else 'SQLite'}")
    print(f"rounds: {', '.join(f'{w:.2f}' for w, _ in figures)} ms/order; best reported")
    # On PostgreSQL the wall time also holds the server's work and the round trips; the CPU
    # figure is this process's own (as on SQLite, where the two are about the same).
    print(f"cpu: {min(c for _, c in figures):.2f} ms/order (this process, less the sandboxes)")
    print(f"overhead: {min(w for w, _ in figures):.2f} ms/order")


if __name__ == "__main__":
    main()
