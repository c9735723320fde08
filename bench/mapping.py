"""Mapping throughput: generated CCV orders → Moneybird invoice payloads, on one core.

Generates 10,000 varied orders (mixed baskets, coupons, deposits, B2B excl. VAT, reverse charge,
OSS, export …) with the sandbox generator, serialises them to CCV JSON, then times the whole
per-order path the engine runs: decode the JSON (Decimal numbers), validate the wire model,
map to an invoice, and render the Moneybird request body. Prints the figure as its last line:

    mapping: <N> orders/s

Run: .venv/bin/python bench/mapping.py [--orders 10000] [--seed 1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import Counter
from datetime import date

from ccvbird.adapters.ccvshop.wire import dumps, loads, parse_order
from ccvbird.adapters.moneybird.payload import sales_invoice_payload
from ccvbird.bootstrap import read_profile
from ccvbird.domain.mapping import map_order
from ccvbird.sandbox.ccvshop.generator import ShopSettings, generate_orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the best one counts")
    args = parser.parse_args()

    profile = read_profile(None)
    half = args.orders // 2
    documents = generate_orders(half, seed=args.seed) + generate_orders(
        args.orders - half, seed=args.seed + 1, settings=ShopSettings(oss=True)
    )
    raw = [(dumps(d["order"]).encode(), dumps(d["orderrows"]).encode()) for d in documents]
    today = date(2026, 11, 26)

    timings = []
    for _ in range(args.rounds):
        outcomes: Counter[str] = Counter()
        lines = 0
        gc.collect()
        started = time.perf_counter()
        for order_bytes, rows_bytes in raw:
            order = parse_order(loads(order_bytes), loads(rows_bytes))
            result = map_order(order, profile, booking_date=today)
            payload = sales_invoice_payload(result.draft, contact_id="470000000000060001")
            lines += len(payload["sales_invoice"]["details_attributes"])
            outcomes["mapped" if result.ok else result.problems[0].code.value] += 1
        timings.append(time.perf_counter() - started)
    elapsed = min(timings)  # the least disturbed round, as timeit does

    rounds = ", ".join(f"{t:.3f}" for t in timings)
    print(f"orders: {len(raw)}, invoice lines: {lines}, seconds per round: {rounds}")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    print(f"mapping: {len(raw) / elapsed:.0f} orders/s")


if __name__ == "__main__":
    main()
