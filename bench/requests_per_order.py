"""Moneybird requests per booked order, for a history import of 1,000 orders.

The generated shop has 30% repeat customers (30% of orders come from a customer who ordered
before). Counts every request the import sends to the Moneybird sandbox, divided by the orders it
booked. Prints as its last line:

    moneybird: <N> requests/order

Run: .venv/bin/python bench/requests_per_order.py [--orders 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
from collections import Counter

from _world import connected, describe


def _shape(path: str) -> str:
    """``/api/v2/470…/sales_invoices/470…/payments.json`` → ``sales_invoices/:id/payments``."""
    parts = path.split("?")[0].removesuffix(".json").split("/")[4:]
    return "/".join(":id" if part.isdigit() else part for part in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bench = connected(args.orders, seed=args.seed)
    before = len(bench.moneybird_requests())
    report = bench.import_history()
    requests = bench.moneybird_requests()[before:]
    booked = report.outcomes["booked"]
    kinds = Counter(f"{method} {_shape(path)}" for method, path, _ in requests)
    records = bench.app.store.records(bench.connection_id)
    customers = len({r.contact_id for r in records if r.contact_id})
    print(f"orders imported: {report.seen} ({describe(report)})")
    print(f"distinct customers among booked orders: {customers}")
    for kind, count in kinds.most_common():
        print(f"  {count:6d}  {kind}")
    floor = 3 + customers / booked
    print(f"floor for this mix (create, send, pay + one create per new customer): {floor:.2f}")
    print(f"moneybird: {len(requests) / booked:.2f} requests/order")


if __name__ == "__main__":
    main()
