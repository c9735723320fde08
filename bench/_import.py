"""The big shop's history import for bench/many_shops.py, in a process of its own.

What ``ccvbird import`` does (under the connection's lease, orders streamed in), with the
settings from the environment; CCV's per-minute pacing is lifted as the sandbox lifts its
limits, so the import runs as fast as the machine lets it (the worst case for the others).

Run: CCVBIRD_...=... .venv/bin/python bench/_import.py <connection id> <since YYYY-MM-DD>
"""

from __future__ import annotations

import sys
from datetime import date

from ccvbird import bootstrap
from ccvbird.service.passes import import_history


def main() -> None:
    connection_id, since = int(sys.argv[1]), date.fromisoformat(sys.argv[2])
    app = bootstrap.build_app(bootstrap.load_settings())
    app.ccv_limits = (10**9, 10**9)
    try:
        with app.leased_engine(connection_id, "bench-import") as engine:
            report = import_history(
                connection_id,
                since=since,
                engine=engine,
                store=app.store,
                shop=app.shop_for(connection_id),
            )
        print(f"import: {report.seen} orders, {dict(report.outcomes)}", flush=True)
    except KeyboardInterrupt:
        print("import: stopped", flush=True)
    finally:
        app.close()


if __name__ == "__main__":
    main()
