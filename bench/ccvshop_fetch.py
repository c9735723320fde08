"""Fetch 2,000 orders with their rows from the sandbox shop; report GETs per order.

The shop runs in-process with CCV's per-minute limits switched on; client and shop share a
simulated clock, so the client's pacing (150 GETs a minute per resource) costs no real time but
is reported as the time it would take against a real shop.

    .venv/bin/python bench/ccvshop_fetch.py [--orders 2000] [--page-size 100]

Last line: ``ccv: <N> GETs/order`` (target: at most 1.05).
"""

from __future__ import annotations

import argparse
import time

import httpx

from ccvbird.adapters.ccvshop import CcvCredentials, CcvShopClient
from ccvbird.sandbox.ccvshop import (
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET,
    InProcessTransport,
    RecordingPoster,
    SandboxShop,
)


class SimulatedClock:
    def __init__(self) -> None:
        self.now = time.time()
        self.waited = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
            self.waited += seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    clock = SimulatedClock()
    shop = SandboxShop(
        base_url="https://bench.ccvshop.test",
        clock=clock,
        sleep=clock.sleep,
        poster=RecordingPoster(),
        max_page_size=max(args.page_size, 100),
    )
    # Enough generated orders that ``args.orders`` of them are completed (the rest are baskets).
    while sum(1 for o in shop.orders() if o["is_completed"]) < args.orders:
        shop.generate(100)
    started = time.perf_counter()
    with httpx.Client(transport=InProcessTransport(shop)) as http:
        client = CcvShopClient(
            CcvCredentials(shop.base_url, DEFAULT_PUBLIC_KEY, DEFAULT_SECRET),
            http=http,
            clock=clock,
            sleep=clock.sleep,
            page_size=args.page_size,
        )
        fetched = 0
        rows = 0
        for order in client.orders():
            fetched += 1
            rows += len(order.rows)
            if fetched == args.orders:
                break
        gets = client.gets_sent()
    elapsed = time.perf_counter() - started

    print(f"orders fetched:        {fetched} ({rows} rows)")
    print(f"requests:              {client.requests_sent}")
    print(f"wall time in-process:  {elapsed:.1f} s ({1000 * elapsed / max(gets, 1):.2f} ms/GET)")
    print(f"time at CCV's limits:  {clock.waited / 60:.1f} min of pacing (simulated)")
    print(f"refused by the shop:   {shop.limiter.refused or 'none'}")
    print(f"ccv: {gets / fetched:.3f} GETs/order")


if __name__ == "__main__":
    main()
