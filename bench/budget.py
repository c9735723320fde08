"""How much of Moneybird's request budget a history import uses, and how many 429s it gets.

The Moneybird sandbox enforces a scaled-down window (150 requests per 3 s instead of per 300 s,
on a simulated clock) and ccvbird paces itself with the same shared, database-backed budget it
uses in production. Used = requests sent / (150 × the windows the import spanned). Prints:

    budget: <P>% used, <K> 429s

Run: .venv/bin/python bench/budget.py [--orders 600] [--window 3]
"""

from __future__ import annotations

import argparse
import math

from _world import connected, describe
from ccvbird.adapters.db.budget import SharedBudget

LIMIT = 150


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--window", type=float, default=3.0)
    args = parser.parse_args()

    bench = connected(
        args.orders,
        limited=True,
        moneybird_rate=(LIMIT, args.window),
        budget=lambda clock, sessions: SharedBudget(sessions, LIMIT, args.window, clock=clock),
    )
    # Start the import in a fresh window, as a real import would after connecting.
    bench.clock.sleep(args.window)
    started = bench.clock.now
    before = len(bench.moneybird_requests())
    report = bench.import_history()
    requests = bench.moneybird_requests()[before:]
    elapsed = bench.clock.now - started
    # Requests go out at the start of each window they use: t = 0, 3, 6 … elapsed.
    windows = math.floor(elapsed / args.window + 1e-9) + 1
    refused = sum(1 for _method, _path, status in requests if status == 429)
    used = len(requests) / (LIMIT * windows)
    print(f"orders: {report.seen} ({describe(report)})")
    print(
        f"requests: {len(requests)} in {elapsed:.1f} simulated s "
        f"= {windows} windows of {args.window:g} s"
    )
    print(f"budget: {used:.0%} used, {refused} 429s")


if __name__ == "__main__":
    main()
