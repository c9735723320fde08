"""A provider's ccvbird: many shops on PostgreSQL + Redis, 1, 2 and 4 worker processes in turn.

Against both sandboxes as real servers in a process of their own (``_sandbox_server.py``: CCV
shops 1..N under /shops/<n>, Moneybird administrations 1..N, each with its own token), with the
state in a PostgreSQL database of the bench's own and the queue on Redis under a key prefix of
its own. Connection n is shop n with administration n; shop 1 is the big shop with a history.

For each worker count, on a fresh database and fresh sandboxes:

1. capacity: a burst of ``--burst`` webhook orders spread over shops 2..N arrives at once (the
   orders are paid in the shop, then their webhooks are received as the web app receives them:
   recorded and queued); the workers book them. Orders booked per second = burst / (first paid
   -> last booked): what this many workers can do.
2. quiet: another burst, its webhooks arriving over ``--burst-seconds`` (a Poisson stream, as a
   promotion's orders come in over a minute or so), booked by the workers: paid -> paid invoice.
3. import: the big shop imports its history (``_import.py``, its own process, under the lease,
   as ``ccvbird import``) and, while it runs, a third burst arrives as in 2, on the same
   schedule (other shops, the same gaps), so "p95 with the import / without" compares the
   import's effect, not two random clumpings. The bench says how far behind its schedule it
   delivered a webhook.

Meanwhile the other shops take a trickle of orders (``--trickle-per-hour`` per shop). Latency
is "paid" (the webhook saying so arrives) to "paid invoice" (the record is booked: the invoice
exists in Moneybird with its payment). CPU seconds are read from /proc for the sandbox processes,
the workers, the importer and the PostgreSQL backends serving the bench's database, so the
output says what the limit was.

The sandboxes run in two processes (CCV, Moneybird) and hold each API answer back by
``--latency-ms`` (default 100: a guess at a real API across the internet; the real ones are out
of reach here), which costs them no CPU. With ``--latency-ms 0`` the answers are instant and the
bench measures CPU instead: on a small machine the sandboxes and the workers then share the
cores, and the limit is whichever saturates first (the output says which).

A quick run:

    .venv/bin/python bench/many_shops.py --connections 100 --burst 200 --import-orders 2000

Needs PostgreSQL (``--pg``, default postgresql+psycopg://postgres@127.0.0.1:5432) and Redis
(``--redis``, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from ccvbird import bootstrap
from ccvbird.config import Settings
from ccvbird.entrypoints import worker
from ccvbird.sandbox.ccvshop.mall import mall_public_key, mall_secret
from ccvbird.sandbox.moneybird.tenants import tenant_administration_id, tenant_token
from ccvbird.service.webhooks import Delivery, receive_ccv_delivery

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CCVBIRD = str(Path(PYTHON).with_name("ccvbird"))
TICKS = os.sysconf("SC_CLK_TCK")
UNLIMITED = 10**9
#: The small shops were connected long ago: their webhook orders are newer than the connection
#: (the sandbox dates orders on its own timeline), so no "already in Moneybird?" lookup is due.
CONNECTED_LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its waited-for children) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICKS


def child_of(pid: int) -> int:
    """The one child of ``pid`` (the worker py-spy started), once it exists."""
    for _ in range(100):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise RuntimeError(f"process {pid} started no child")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load() -> str:
    return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Phase:
    paid: dict[tuple[int, str], float] = field(default_factory=dict)
    booked: dict[tuple[int, str], float] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    #: How late the bench delivered its latest webhook against the burst's schedule (seconds):
    #: a bench that fell behind would clump arrivals the schedule spread out.
    lag: float = 0.0

    def latencies(self) -> list[float]:
        return [self.booked[k] - t for k, t in self.paid.items() if k in self.booked]

    def rate(self) -> float:
        if not self.booked:
            return 0.0
        first = min(self.paid.values())
        last = max(self.booked.values())
        return len(self.booked) / max(last - first, 1e-9)


class Run:
    """One worker count: sandboxes, database, connections, workers."""

    def __init__(self, args: argparse.Namespace, workers: int) -> None:
        self.args = args
        self.workers = workers
        self.tag = f"{os.getpid()}_{workers}_{uuid.uuid4().hex[:6]}"
        self.database = f"bench_many_{self.tag}"
        self.ccv_port, self.mb_port = free_port(), free_port()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.worker_procs: list[subprocess.Popen[bytes]] = []
        #: The worker processes' own pids (under ``--py-spy`` each is py-spy's child).
        self.worker_pids: list[int] = []
        self.importer: subprocess.Popen[bytes] | None = None
        self.data_dir = Path(tempfile.mkdtemp(prefix="ccvbird-many-"))
        self.http = httpx.Client(timeout=30)
        self.rng = random.Random(workers)
        self.lock = threading.Lock()
        self.trickle: dict[tuple[int, str], float] = {}

    # -- set-up ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            CCVBIRD_DATA_DIR=str(self.data_dir),
            CCVBIRD_DATABASE_URL=f"{self.args.pg}/{self.database}",
            CCVBIRD_QUEUE_URL=self.args.redis,
            CCVBIRD_QUEUE_NAME=f"bench-many-{self.tag}",
            CCVBIRD_SECRET_KEY=self.secret_key,
            CCVBIRD_MONEYBIRD_REQUESTS=str(UNLIMITED),
            CCVBIRD_WORKERS=str(self.args.threads),
        )
        return env

    def start(self) -> None:
        self.secret_key = Fernet.generate_key().decode()
        admin = create_engine(f"{self.args.pg}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        n = self.args.connections
        self.sandboxes = []
        for serve in ("ccv", "moneybird"):
            sandbox = subprocess.Popen(
                [PYTHON, str(HERE / "_sandbox_server.py"), "--serve", serve, "--shops", str(n),
                 "--history", str(self.args.import_orders), "--ccv-port", str(self.ccv_port),
                 "--moneybird-port", str(self.mb_port),
                 "--latency-ms", str(self.args.latency_ms)],
                stdout=subprocess.PIPE,
            )  # fmt: skip
            self.procs.append(sandbox)
            self.sandboxes.append(sandbox)
        for sandbox in self.sandboxes:
            assert sandbox.stdout is not None
            sandbox.stdout.readline()
        self.wait_for(f"{self.ccv_url(1)}/_sandbox")
        self.app = bootstrap.build_app(Settings(**self.settings_values()))
        self.app.ccv_limits = (UNLIMITED, UNLIMITED)
        self.huey = bootstrap.task_queue(self.app.settings)
        self.huey.flush()
        self.tasks = worker.register(self.app, self.huey)
        self.queue = self.tasks.queue()
        first = bootstrap.connect(
            self.app, name="shop 1", ccv_url=self.ccv_url(1), ccv_public=mall_public_key(1),
            ccv_secret=mall_secret(1), moneybird_url=self.mb_url, moneybird_token=tenant_token(1),
            administration_id=tenant_administration_id(1),
        )  # fmt: skip
        assert not first.paused_reason, first.paused_reason
        assert first.suggestion is not None
        profile = first.suggestion.toml
        self.connection_ids = {1: first.connection_id}
        # The others as a provider's web app stores them; checking 1,000 times that one
        # profile fits identical administrations would only slow the set-up down.
        for number in range(2, n + 1):
            self.connection_ids[number] = self.app.store.create_connection(
                name=f"shop {number}", shop_url=self.ccv_url(number),
                ccv_public=mall_public_key(number), ccv_secret=mall_secret(number),
                moneybird_url=self.mb_url, administration_id=tenant_administration_id(number),
                moneybird_credentials={"type": "token", "token": tenant_token(number)},
                profile_toml=profile, created_at=CONNECTED_LONG_AGO,
            )  # fmt: skip
        for number in range(self.workers):
            # Each worker logs to a file of its own: a pipe nobody reads fills up (64 KiB) and
            # the worker then blocks on its next log line, mid-booking.
            log = open(self.data_dir / f"worker-{number}.log", "wb")  # noqa: SIM115
            command = [CCVBIRD, "worker", "--workers", str(self.args.threads)]
            if self.args.py_spy:  # sample where the worker holds the GIL: its Python CPU
                out = Path(self.args.py_spy) / f"worker-{self.workers}w-{number}.txt"
                command = [str(Path(PYTHON).with_name("py-spy")), "record", "--gil",
                           "--nonblocking", "-r", "250", "-f", "raw", "-o", str(out), "--",
                           *command]  # fmt: skip
            proc = subprocess.Popen(
                command,
                env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            log.close()  # the child has its own descriptor
            self.worker_procs.append(proc)
            self.worker_pids.append(child_of(proc.pid) if self.args.py_spy else proc.pid)
            self.procs.append(proc)

    def settings_values(self) -> dict[str, Any]:
        env = self.env()
        return {
            "data_dir": env["CCVBIRD_DATA_DIR"],
            "database_url": env["CCVBIRD_DATABASE_URL"],
            "queue_url": env["CCVBIRD_QUEUE_URL"],
            "queue_name": env["CCVBIRD_QUEUE_NAME"],
            "secret_key": env["CCVBIRD_SECRET_KEY"],
            "moneybird_requests": UNLIMITED,
        }

    def wait_idle(self) -> None:
        """Until the worker processes stop using CPU (started, waiting for tasks)."""
        last = -1.0
        for _ in range(120):
            time.sleep(0.5)
            now = sum(cpu_seconds(pid) for pid in self.worker_pids)
            if now - last < 0.05:
                return
            last = now

    def ccv_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.ccv_port}/shops/{number}"

    @property
    def mb_url(self) -> str:
        return f"http://127.0.0.1:{self.mb_port}/api/v2"

    def wait_for(self, url: str) -> None:
        for _ in range(600):
            try:
                self.http.get(url)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{url} does not answer")

    # -- orders ---------------------------------------------------------------------------

    def new_order(self, number: int) -> str:
        """An order in shop ``number``, completed but not paid yet."""
        answer = self.http.post(
            f"{self.ccv_url(number)}/_sandbox/orders",
            json={"status": 7, "paid": False, "scenario": "consumer"},
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    def pay(self, number: int, order_id: str) -> float:
        """Pay the order in the shop, then receive its webhook as the web app does."""
        self.http.post(f"{self.ccv_url(number)}/_sandbox/orders/{order_id}/paid", json={})
        return self.webhook(number, order_id)

    def webhook(self, number: int, order_id: str) -> float:
        """Receive the "paid" webhook of an order as the web app does; when it arrived."""
        paid_at = time.time()
        connection_id = self.connection_ids[number]
        body = json.dumps({"id": int(order_id), "href": f"{self.ccv_url(number)}"}).encode()
        receive_ccv_delivery(
            Delivery(connection_id, "orders.updated.ispaid", order_id, body),
            store=self.app.store,
            queue=self.queue,
        )
        return paid_at

    def burst(self, phase: Phase, over: float = 0.0) -> None:
        """A burst of orders over the small shops, paid in the shop; their webhooks then arrive
        together (``over`` 0) or as a Poisson stream over ``over`` seconds.

        Every stream of a run arrives on the same schedule (its own random source): the quiet
        burst and the one during the import differ in the import, not in how they clump."""
        small = list(range(2, self.args.connections + 1)) or [1]
        chosen = [self.rng.choice(small) for _ in range(self.args.burst)]
        made = [(number, self.new_order(number)) for number in chosen]
        for number, order_id in made:
            self.http.post(f"{self.ccv_url(number)}/_sandbox/orders/{order_id}/paid", json={})
        # "paid" is when each webhook arrives, as CCV sends it when the order is paid. Paying
        # them one by one here would make the bench's own requests the pace of the burst.
        schedule = random.Random(self.workers * 7919)
        gaps = [schedule.expovariate(len(made) / over) if over > 0 else 0.0 for _ in made]
        phase.started = time.time()
        due = phase.started
        for (number, order_id), gap in zip(made, gaps, strict=True):
            due += gap
            time.sleep(max(due - time.time(), 0.0))
            phase.lag = max(phase.lag, time.time() - due)
            phase.paid[(self.connection_ids[number], order_id)] = self.webhook(number, order_id)

    def trickle_forever(self, stop: threading.Event) -> None:
        """Most shops take a few orders an hour: that, over all of them, all along."""
        per_second = (self.args.connections - 1) * self.args.trickle_per_hour / 3600
        if per_second <= 0:
            return
        while not stop.wait(self.rng.expovariate(per_second)):
            number = self.rng.randint(2, max(self.args.connections, 2))
            order_id = self.new_order(number)
            paid_at = self.pay(number, order_id)
            with self.lock:
                self.trickle[(self.connection_ids[number], order_id)] = paid_at

    def booked_now(self) -> dict[tuple[int, str], float]:
        with self.app.sessions() as session:
            rows = session.execute(
                text("SELECT connection_id, order_id, updated_at FROM order_records "
                     "WHERE state = 'booked'")
            ).all()  # fmt: skip
        out = {}
        for cid, oid, at in rows:
            out[(int(cid), str(oid))] = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
        return out

    def wait_booked(self, phase: Phase, timeout: float) -> None:
        """Until every order of the phase is booked, or parked with a reason (which is not
        missing: bad input waits for a person, as it should)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            booked = self.booked_now()
            phase.booked = {k: booked[k] for k in phase.paid if k in booked}
            if len(phase.booked) == len(phase.paid):
                break
            parked = self.parked()
            if all(k in phase.booked or k in parked for k in phase.paid):
                break
            time.sleep(0.2)
        phase.ended = time.time()

    def slowest(self, phase: Phase, count: int) -> list[str]:
        """The phase's ``count`` slowest orders: when paid (seconds into the phase), how long
        until a worker started on it (its first log line) and until booked, and its first
        lines: a queue wait, a retry or a slow booking tell apart."""
        ranked = sorted(
            (k for k in phase.paid if k in phase.booked),
            key=lambda k: phase.booked[k] - phase.paid[k],
            reverse=True,
        )[:count]
        lines = []
        for key in ranked:
            events = self.app.store.events(*key)
            first = events[0].at.timestamp() if events else float("nan")
            paid = phase.paid[key]
            steps = ", ".join(f"{e.event}+{e.at.timestamp() - paid:.2f}" for e in events[:4])
            lines.append(
                f"order {key[1]} of connection {key[0]}: paid at +{paid - phase.started:.1f} s, "
                f"started after {first - paid:.2f} s, booked after {phase.booked[key] - paid:.2f} "
                f"s ({steps})"
            )
        return lines

    def parked(self) -> set[tuple[int, str]]:
        with self.app.sessions() as session:
            rows = session.execute(
                text("SELECT connection_id, order_id FROM order_records "
                     "WHERE state = 'needs_attention'")
            ).all()  # fmt: skip
        return {(int(c), str(o)) for c, o in rows}

    def states(self, keys: list[tuple[int, str]]) -> Counter[str]:
        """The states of the orders that were not booked (for the report)."""
        with self.app.sessions() as session:
            rows = session.execute(
                text("SELECT connection_id, order_id, state, reason_code FROM order_records")
            ).all()
        found = {(int(c), str(o)): f"{s}:{r}" for c, o, s, r in rows}
        return Counter(found.get(k, "no record") for k in keys)

    def imported(self) -> int:
        cid = self.connection_ids[1]
        with self.app.sessions() as session:
            return int(session.execute(
                text("SELECT count(*) FROM order_records WHERE connection_id = :c "
                     "AND state = 'booked'"), {"c": cid}
            ).scalar_one())  # fmt: skip

    def start_import(self) -> None:
        since = (date.today() - timedelta(days=400)).isoformat()
        self.importer = subprocess.Popen(
            [PYTHON, str(HERE / "_import.py"), str(self.connection_ids[1]), since],
            env=self.env(), stdout=subprocess.PIPE,
        )  # fmt: skip
        self.procs.append(self.importer)

    # -- measuring ------------------------------------------------------------------------

    def cpu(self) -> dict[str, float]:
        with self.app.sessions() as session:
            pids = session.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                {"d": self.database},
            ).scalars().all()  # fmt: skip
        return {
            "sandboxes": sum(cpu_seconds(p.pid) for p in self.sandboxes),
            "workers": sum(cpu_seconds(pid) for pid in self.worker_pids),
            "import": cpu_seconds(self.importer.pid) if self.importer else 0.0,
            "postgres": sum(cpu_seconds(int(p)) for p in pids),
            "bench": sum(os.times()[:2]),
        }

    def summary(self) -> dict[str, Any]:
        answer = self.http.get(f"http://127.0.0.1:{self.mb_port}/_bench/summary")
        return dict(answer.json())

    def stop(self) -> None:
        if self.args.py_spy:  # the workers themselves: py-spy writes its file once they end
            for pid in self.worker_pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            for proc in self.worker_procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=60)
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            if hasattr(self, "huey"):
                self.huey.flush()
            if hasattr(self, "app"):
                self.app.close()
        finally:
            admin = create_engine(f"{self.args.pg}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            admin.dispose()


@dataclass
class Result:
    workers: int
    rate: float
    burst_p95: float
    quiet_p50: float
    quiet_p95: float
    import_p50: float
    import_p95: float
    import_rate: float
    refused: int
    refused_most: int
    duplicates: int
    missing: int
    cpu_burst: dict[str, float]
    worker_cpu_per_order: float


def one(args: argparse.Namespace, workers: int) -> Result:
    run = Run(args, workers)
    try:
        run.start()
        run.wait_idle()  # the workers have imported ccvbird and wait on Redis
        stop = threading.Event()
        trickle = threading.Thread(target=run.trickle_forever, args=(stop,), daemon=True)
        trickle.start()
        before = run.cpu()
        capacity = Phase()
        run.burst(capacity)
        run.wait_booked(capacity, args.timeout)
        after = run.cpu()
        cpu_burst = {k: after[k] - before[k] for k in after}
        wall = capacity.ended - capacity.started
        print(
            f"workers {workers}: burst at once {len(capacity.booked)}/{len(capacity.paid)} "
            f"booked in {wall:.1f} s; CPU s: "
            + ", ".join(f"{k} {v:.1f}" for k, v in cpu_burst.items())
            + f" ({load()})",
            flush=True,
        )
        quiet = Phase()
        run.burst(quiet, args.burst_seconds)
        run.wait_booked(quiet, args.timeout)
        run.start_import()
        started = time.time()
        while run.imported() < min(args.import_orders // 10, 20) and time.time() - started < 120:
            time.sleep(0.5)
        imported_before, t_import = run.imported(), time.time()
        busy = Phase()
        run.burst(busy, args.burst_seconds)
        run.wait_booked(busy, args.timeout)
        import_rate = (run.imported() - imported_before) / max(time.time() - t_import, 1e-9)
        print(
            f"workers {workers}: over {args.burst_seconds:.0f} s, "
            f"{len(quiet.booked)}/{len(quiet.paid)} booked quiet, "
            f"{len(busy.booked)}/{len(busy.paid)} during the import; webhooks at most "
            f"{quiet.lag:.2f} s and {busy.lag:.2f} s behind their schedule ({load()})",
            flush=True,
        )
        for line in run.slowest(busy, args.slowest):
            print(f"workers {workers}: slow during the import: {line}", flush=True)
        stop.set()
        trickle.join(timeout=10)
        if run.importer is not None and run.importer.poll() is None:
            run.importer.send_signal(signal.SIGINT)
            run.importer.wait(timeout=60)
        summary = run.summary()
        per_admin = [Counter(a["references"]) for a in summary["administrations"].values()]
        duplicates = sum(c - 1 for counts in per_admin for c in counts.values() if c > 1)
        parked = run.parked()
        lost = [k for p in (capacity, quiet, busy) for k in p.paid if k not in p.booked]
        missing = sum(1 for k in lost if k not in parked)
        if lost:
            print(f"workers {workers}: not booked: {dict(run.states(lost))}", flush=True)
        return Result(
            workers=workers,
            rate=capacity.rate(),
            burst_p95=pct(capacity.latencies(), 0.95),
            quiet_p50=pct(quiet.latencies(), 0.5),
            quiet_p95=pct(quiet.latencies(), 0.95),
            import_p50=pct(busy.latencies(), 0.5),
            import_p95=pct(busy.latencies(), 0.95),
            import_rate=import_rate,
            refused=sum(summary["refused"].values()),
            refused_most=max(summary["refused"].values(), default=0),
            duplicates=duplicates,
            missing=missing,
            cpu_burst=cpu_burst,
            worker_cpu_per_order=cpu_burst["workers"] / max(len(capacity.booked), 1) * 1000,
        )
    finally:
        run.stop()


def profile(args: argparse.Namespace) -> None:
    """Book one burst in this process's main thread under pyinstrument (no worker processes):
    where a worker's time goes, with the sandboxes, PostgreSQL and Redis as in the run."""
    from pyinstrument import Profiler

    run = Run(args, 0)
    try:
        run.start()
        phase = Phase()
        run.burst(phase)
        profiler = Profiler(interval=0.001)
        started, cpu = time.perf_counter(), time.process_time()
        profiler.start()
        done = 0
        while (task := run.huey.dequeue()) is not None:
            run.huey.execute(task)
            done += 1
        profiler.stop()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(profiler.output_text(unicode=False, color=False))
        print(
            f"profile: {done} tasks in {wall:.1f} s, {cpu / max(done, 1) * 1000:.1f} ms CPU per "
            f"task in this process ({load()})"
        )
    finally:
        run.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--import-orders", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, in turn")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process")
    parser.add_argument("--trickle-per-hour", type=float, default=3.0)
    parser.add_argument(
        "--burst-seconds", type=float, default=60.0,
        help="the latency bursts' webhooks arrive over this long (0: at once)",
    )  # fmt: skip
    parser.add_argument(
        "--latency-ms", type=float, default=100.0, help="each sandbox API answer's delay"
    )
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--profile", action="store_true", help="profile one burst booked in this process"
    )
    parser.add_argument(
        "--slowest", type=int, default=0, help="show the N slowest orders booked during the import"
    )
    parser.add_argument(
        "--py-spy", metavar="DIR", help="record each worker with py-spy (collapsed stacks) into DIR"
    )
    args = parser.parse_args()
    if args.profile:
        profile(args)
        return
    print(
        f"{args.connections} connections, bursts of {args.burst} webhook orders, an import of "
        f"{args.import_orders} orders, {args.threads} threads per worker, API answers "
        f"{args.latency_ms:.0f} ms late; {os.cpu_count()} cores ({load()})",
        flush=True,
    )
    results = [one(args, int(w)) for w in args.workers.split(",")]
    for r in results:
        print(
            f"workers {r.workers}: {r.rate:.1f} orders booked/s ({args.burst} at once; "
            f"p95 {r.burst_p95:.2f} s)"
        )
    for r in results:
        print(
            f"workers {r.workers}: paid->paid invoice over {args.burst_seconds:.0f} s p50 "
            f"{r.quiet_p50:.2f} s, p95 {r.quiet_p95:.2f} s quiet; with the import p50 "
            f"{r.import_p50:.2f} s, p95 {r.import_p95:.2f} s (import {r.import_rate:.1f} "
            f"orders/s meanwhile); slowdown p95 {r.import_p95 / r.quiet_p95:.2f}x"
        )
    for r in results:
        print(
            f"workers {r.workers}: worker CPU {r.worker_cpu_per_order:.1f} ms per booked order; "
            "CPU of the burst at once: " + limit(r)
        )
    print(
        f"429 answers: {sum(r.refused for r in results)} in all, at most "
        f"{max(r.refused_most for r in results)} for one token (0 expected)"
    )
    print(f"duplicates {sum(r.duplicates for r in results)}, missing "
          f"{sum(r.missing for r in results)}")  # fmt: skip
    by = {r.workers: r for r in results}
    ratio = by[max(by)].rate / by[min(by)].rate if min(by) != max(by) and by[min(by)].rate else 0
    worst = max(results, key=lambda r: r.import_p95)
    most = by[max(by)]
    print(
        f"summary: {', '.join(f'{r.workers}w {r.rate:.1f}/s' for r in results)}; "
        f"{max(by)}w/{min(by)}w {ratio:.2f}x; p95 with import {most.import_p95:.2f} s at "
        f"{most.workers}w (worst {worst.import_p95:.2f} s, {worst.workers}w); latency "
        f"{args.latency_ms:.0f} ms; 429 {sum(r.refused for r in results)}; duplicates "
        f"{sum(r.duplicates for r in results)}; missing {sum(r.missing for r in results)} "
        f"({load()})"
    )


def limit(r: Result) -> str:
    """What held the burst back: the CPU seconds each part used per wall second, of 2 cores."""
    parts = sorted(r.cpu_burst.items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in parts)
    return ", ".join(f"{k} {v / total:.0%}" for k, v in parts) + f" of {total:.1f} CPU s"


if __name__ == "__main__":
    main()
