"""The proof of issue 10's promises, from outside: both sandboxes in this process, on one fake
wall clock, with faults; a year of orders imported once, then ``ccvbird sync`` as cron runs it
(or ``ccvbird run``'s workers and scheduler) until nothing is due.

Everything is checked on the sandboxes' own state, never on ccvbird's records: per reference at
most one invoice; every bookable order (decided from the CCV order itself: completed, status 7,
paid) has a paid invoice whose total incl. VAT is CCV's total and whose VAT per rate is CCV's;
no draft is left; one contact per e-mail. Of ccvbird's records only this is asked: nothing stays
in ``booking`` and every order that is not booked says why.

CCV gives no VAT per rate (``reference/ccvshop-api.md`` §3.3): it is computed here from CCV's
own fields, independently of ccvbird's mapping — each row at its ``tax`` percentage, the
order-level amounts (shipping, costs, discounts, credit points) split over the goods' rates pro
rata (the Dutch rule, ``reference/market-and-vat.md`` §5), the VAT rounded once per rate as
Moneybird does. Where an order-level amount is split over several rates, each part must be whole
cents, so the VAT of a rate may differ from the exact figure by one cent; everywhere else it
must be equal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from ccvbird import bootstrap
from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints import worker
from ccvbird.sandbox.ccvshop.faults import FaultPlan as CcvFaults
from ccvbird.sandbox.ccvshop.inprocess import InProcessTransport
from ccvbird.sandbox.ccvshop.limits import Limits
from ccvbird.sandbox.ccvshop.outbound import RecordingPoster
from ccvbird.sandbox.ccvshop.shop import SandboxShop
from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.service.passes import PassReport, import_history, sync_pass
from ccvbird.service.sync import Trigger
from ccvbird.service.webhooks import Delivery, Received, receive_ccv_delivery
from tests.e2e.world import World

NewWorld = Callable[..., World]

#: 10% faults on each side: Moneybird's per request kind, CCV's per request.
MONEYBIRD_FAULTS = {
    "lost_response": 0.04,
    "server_error": 0.03,
    "timeout": 0.02,
    "rate_limit": 0.01,
}
CCV_FAULTS = 0.10
#: A year of history up to the fake "now" (2026-11-02), imported from before its first order.
HISTORY_DAYS = 365
SINCE = date(2025, 10, 1)
CRON = timedelta(minutes=5)
#: ``ccvbird sync`` runs every 5 minutes for at most this long (a bound, not a wait).
CRON_HOURS = 12
ZERO = Decimal(0)
CENT = Decimal("0.01")
SECOND_SHOP_URL = "https://tweede-winkel.sandbox.ccvshop.test"
SECOND_PUBLIC, SECOND_SECRET = "second-public", "second-secret"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def proof_world(new_world: NewWorld, *, orders: int, seed: int, **options: Any) -> World:
    return new_world(
        orders=orders,
        seed=seed,
        moneybird_faults=MONEYBIRD_FAULTS,
        ccv_fault_rate=CCV_FAULTS,
        history_days=HISTORY_DAYS,
        fake_time=True,
        **options,
    )


# -- ccvbird as its commands run it -----------------------------------------------------------


def ccvbird_import(world: World, connection_id: int | None = None) -> PassReport:
    """``ccvbird import --since``: one history import under the connection's lease."""
    cid = world.connection_id if connection_id is None else connection_id
    with world.app.leased_engine(cid, "cli") as engine:
        return import_history(
            cid, since=SINCE, engine=engine, store=world.store, shop=world.app.shop_for(cid)
        )


def ccvbird_sync(world: World) -> list[PassReport]:
    """``ccvbird sync``: one pass over every enabled connection, as operate.py runs it."""
    app, reports = world.app, []
    for info in app.store.connections():
        if not info.enabled:
            continue
        with app.leased_engine(info.id, "cli") as engine:
            report = sync_pass(
                info.id, engine=engine, store=app.store, shop=app.shop_for(info.id),
                clock=app.clock, lookback=timedelta(days=app.settings.lookback_days),
            )  # fmt: skip
        reports.append(report)
    return reports


def nothing_due(world: World) -> bool:
    """No booking and no credit is under way or waiting for its retry."""
    store = world.store
    return all(
        store.retries_waiting(info.id)[0] == 0
        and not store.records(info.id, states=[SyncState.BOOKING])
        and not [c for c in store.credit_records(info.id) if c.state is CreditState.BOOKING]
        for info in store.connections()
    )


def cron(world: World, *, runs: int | None = None) -> int:
    """``ccvbird sync`` every 5 minutes until nothing is due (at most ``CRON_HOURS``), or
    exactly ``runs`` times; returns how many runs it took."""
    for run in range(1, (runs or CRON_HOURS * 60 // 5) + 1):
        world.clock.now += CRON.total_seconds()
        ccvbird_sync(world)
        if runs is None and nothing_due(world):
            return run
    if runs is None:
        raise AssertionError(f"still something due after {CRON_HOURS} hours of cron runs")
    return runs


def ccvbird_run(world: World) -> tuple[int, Counter[str]]:
    """``ccvbird run``'s scheduler and workers, driven tick by tick on the fake clock: every
    minute the periodic ``poll_due`` runs, then the workers take every task on the queue (Huey's
    own storage, as ``ccvbird run`` uses it). Returns the minutes until nothing was due and the
    outcomes of the ``sync_order`` tasks."""
    huey = bootstrap.task_queue(world.app.settings)
    tasks = worker.register(world.app, huey)
    outcomes: Counter[str] = Counter()
    for minute in range(1, CRON_HOURS * 60 + 1):
        world.clock.now += 60
        tasks.poll_due.call_local()
        while (task := huey.dequeue()) is not None:
            outcomes[str(huey.execute(task))] += 1
        if nothing_due(world) and huey.pending_count() == 0:
            return minute, outcomes
    raise AssertionError(f"still something due after {CRON_HOURS} hours of ccvbird run")


class Webhooks:
    """CCV's webhooks to ccvbird: the CCV sandbox posts them (captured here); ``deliver`` hands
    each to ccvbird's webhook intake and books what it queued as a worker's task does."""

    EVENTS = ("orders.created", "orders.updated.ispaid", "orders.updated.status")

    def __init__(self) -> None:
        self.posted: list[tuple[str, bytes]] = []

    def poster(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.posted.append((url, body))
        return 200

    def subscribe(self, world: World) -> None:
        token = world.store.webhook_token(world.connection_id)
        for event in self.EVENTS:
            world.sandboxes.shop.add_webhook(
                event, f"http://ccvbird.test/webhooks/ccv/{token}?event={event}"
            )
        self.posted.clear()

    def deliver(self, world: World, *, lost: frozenset[str] = frozenset()) -> Counter[str]:
        """Deliver what CCV posted (``lost``: the order ids whose webhooks never arrive)."""
        queued: list[str] = []

        class Queue:
            def enqueue_order(
                self, connection_id: int, order_id: str, *, delay_seconds: float = 0
            ) -> None:
                queued.append(order_id)

        received: Counter[str] = Counter()
        for url, body in self.posted:
            event, order_id = bootstrap.parse_ccv_webhook(body, event=url.rsplit("event=", 1)[1])
            if order_id in lost:
                continue
            delivery = Delivery(world.connection_id, event, order_id, body)
            received[receive_ccv_delivery(delivery, store=world.store, queue=Queue()).value] += 1
        self.posted.clear()
        assert received[Received.ENQUEUED.value] == len(queued)
        outcomes: Counter[str] = Counter()
        for order_id in queued:
            outcome, _ = worker.run_sync(world.app, world.connection_id, order_id, Trigger.WEBHOOK)
            outcomes[outcome] += 1
        return outcomes


def merchant(world: World, path: str, body: dict[str, Any]) -> None:
    """A merchant's action through the CCV sandbox's ``/_sandbox`` endpoints."""
    boxes = world.sandboxes
    with httpx.Client(base_url=boxes.ccv_url, transport=boxes.transports[boxes.ccv_url]) as ccv:
        response = ccv.post(f"/_sandbox{path}", json=body)
        assert response.status_code == 200, response.text


def set_profile(world: World, old: str, new: str) -> None:
    text = world.store.profile_toml(world.connection_id)
    assert old in text
    world.store.set_profile(world.connection_id, text.replace(old, new, 1))


# -- what the sandboxes hold ------------------------------------------------------------------


@dataclass
class CcvOrder:
    """A CCV order as the CCV sandbox holds it (its own documents, not ccvbird's reading)."""

    raw: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def order_id(self) -> str:
        return str(self.raw["id"])

    @property
    def number(self) -> str:
        return str(self.raw["ordernumber_full"])

    @property
    def created_at(self) -> datetime:
        return datetime.strptime(self.raw["create_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    @property
    def bookable(self) -> bool:
        """Due for a paid invoice by the profile's defaults: completed, status 7, paid."""
        return bool(self.raw["is_completed"]) and self.raw["status"] == 7 and self.paid

    def refusal(self, profile_toml: str) -> str:
        """The reason code the mapping must refuse this order with, '' when it must book it:
        a total below zero is never invoiced; a platform sale needs a platform tax rate."""
        if self.total < 0:
            return "negative_total"
        if self.raw["is_platform_sale"] and "[tax_rates.platform]" not in profile_toml:
            return "unmapped_vat_rate"
        return ""

    @property
    def paid(self) -> bool:
        return bool(self.raw["paid"])

    @property
    def total(self) -> Decimal:
        return Decimal(str(self.raw["total_price"]))

    def vat_per_rate(self) -> tuple[dict[Decimal, Decimal], bool]:
        """(VAT per percentage, whether an order-level amount is split over several rates)."""
        raw = self.raw
        incl = bool(raw["order_row_taxes_included"])
        charged: dict[Decimal, Decimal] = defaultdict(Decimal)
        goods: dict[Decimal, Decimal] = defaultdict(Decimal)
        for row in self.rows:
            rate = Decimal(str(row["tax"]))
            amount = Decimal(str(row["total_price_with_attributes"]))
            charged[rate] += amount
            if row["product_type"] != "deposit":  # deposits are not goods: no share
                # Pro rata the net goods per rate (for prices incl. VAT that is pro rata the
                # gross goods: the same proportions).
                goods[rate] += amount
        costs = ("total_shipping", "paymethod_costs", "extra_payment_option_price", "extra_costs")
        off = ("total_discounts", "credit_point_discount")
        level = sum((Decimal(str(raw[k])) for k in costs), ZERO) - sum(
            (Decimal(str(raw[k])) for k in off), ZERO
        )
        split = spread_costs(charged, goods, level, Decimal(str(raw["shipping_tax_percentage"])))
        return vat_of(charged, incl=incl), split


def spread_costs(
    charged: dict[Decimal, Decimal],
    goods: dict[Decimal, Decimal],
    level: Decimal,
    shipping_rate: Decimal,
) -> bool:
    """Add the order-level amount (costs less discounts) to ``charged``: pro rata the goods per
    rate, or at the shipping rate when there are no goods. Whether it was split over rates."""
    weight = sum(goods.values(), ZERO)
    with_goods = [r for r, w in goods.items() if w]
    if level and weight:
        for rate in with_goods:
            charged[rate] += level * goods[rate] / weight
    elif level:
        charged[shipping_rate] += level
    return bool(level) and len(with_goods) > 1


def vat_of(charged: dict[Decimal, Decimal], *, incl: bool) -> dict[Decimal, Decimal]:
    """The VAT in each rate's amount (incl. VAT, or net), in cents; rate 0 left out."""
    return {
        rate: cents(amount * rate / (100 + rate) if incl else amount * rate / 100)
        for rate, amount in charged.items()
        if rate
    }


def ccv_orders(shop: Any) -> list[CcvOrder]:
    return [CcvOrder(o, list(shop.order_rows(int(o["id"])) or [])) for o in shop.orders()]


@dataclass
class Checked:
    booked: int = 0
    split_off_by_a_cent: int = 0
    parked: Counter[str] = field(default_factory=Counter)


def check_promises(
    world: World,
    shops: Iterable[tuple[int, Any, str]] | None = None,
    *,
    open_orders: frozenset[str] = frozenset(),
) -> Checked:
    """Check issue 10's promises on the sandboxes' own state. ``shops``: (connection, CCV
    sandbox shop, reference prefix); ``open_orders``: CCV order ids expected booked as open
    invoices (``require_paid = false``, not paid yet)."""
    moneybird = world.sandboxes.moneybird
    books, render = moneybird.books(), moneybird.renderer()
    invoices = moneybird.invoices()
    by_reference = Counter(i.reference for i in invoices)
    assert [r for r, n in by_reference.items() if n > 1] == [], "an order booked twice"
    assert [i.reference for i in invoices if i.state == "draft"] == [], "drafts left"
    invoice_of = {i.reference: i for i in invoices}
    percentage = {r.id: r.percentage for r in books.setup.tax_rates}
    checked = Checked()
    expected_references = set()
    for cid, shop, prefix in shops or [(world.connection_id, world.sandboxes.shop, "")]:
        records = {r.order_id: r for r in world.store.records(cid)}
        profile_toml = world.store.profile_toml(cid)
        for order in ccv_orders(shop):
            due = order.bookable or order.order_id in open_orders
            reference = f"{prefix}{order.number}"
            invoice = invoice_of.get(reference)
            if not due:
                assert invoice is None, f"order {reference} is not due but has an invoice"
                continue
            refused = order.refusal(profile_toml)
            if refused:
                assert invoice is None, f"order {reference} should not be booked ({refused})"
                record = records.get(order.order_id)
                assert record is not None, f"order {reference} unseen by ccvbird"
                assert (record.state, record.reason_code) == (
                    SyncState.NEEDS_ATTENTION,
                    refused,
                ), reference
                assert record.reason, reference
                checked.parked[record.reason_code] += 1
                continue
            assert invoice is not None, f"bookable order {reference} has no invoice"
            expected_references.add(reference)
            rendered = render.sales_invoice(invoice)
            total = Decimal(rendered["total_price_incl_tax"])
            assert total == order.total, (reference, total, order.total)
            payments = rendered["payments"]
            if order.order_id in open_orders:
                assert rendered["state"] == "open", (reference, rendered["state"])
                assert payments == [] and Decimal(rendered["total_unpaid"]) == total
            else:
                assert rendered["state"] == "paid", (reference, rendered["state"])
                assert len(payments) == (1 if total else 0), (reference, payments)
                assert sum((Decimal(p["price"]) for p in payments), ZERO) == total
            mb_vat: dict[Decimal, Decimal] = defaultdict(Decimal)
            for line in rendered["tax_totals"]:
                mb_vat[percentage[line["tax_rate_id"]]] += Decimal(line["tax_amount"])
            ccv_vat, split = order.vat_per_rate()
            ccv_vat = {rate: vat for rate, vat in ccv_vat.items() if vat}
            for rate in set(mb_vat) | set(ccv_vat):
                difference = abs(mb_vat.get(rate, ZERO) - ccv_vat.get(rate, ZERO))
                assert difference <= (CENT if split else ZERO), (reference, rate, mb_vat, ccv_vat)
                if difference:
                    checked.split_off_by_a_cent += 1
            checked.booked += 1
        for record in records.values():
            assert record.state is not SyncState.BOOKING, f"order {record.order_id} half-booked"
            if record.state is not SyncState.BOOKED:
                assert record.reason, f"order {record.order_id} is {record.state} without why"
    assert set(invoice_of) == expected_references, "an invoice for no bookable order"
    emails = Counter(
        c.text("send_invoices_to_email").lower()
        for c in books.contacts.values()
        if c.text("send_invoices_to_email")
    )
    assert [e for e, n in emails.items() if n > 1] == [], "two contacts for one e-mail"
    return checked


def faults_were_injected(world: World, *, moneybird: int, ccv: int) -> None:
    assert len(world.sandboxes.moneybird.faults.history) >= moneybird
    assert sum(world.sandboxes.shop.faults.injected.values()) >= ccv


# -- the proof --------------------------------------------------------------------------------


def test_a_year_of_1000_orders_with_faults_imported_then_synced_by_cron(
    new_world: NewWorld,
) -> None:
    world = proof_world(new_world, orders=1000, seed=10)
    created = sorted(o.raw["create_date"] for o in ccv_orders(world.sandboxes.shop))
    assert created[0] < "2025-11-10" and created[-1] > "2026-10-01"  # a year, up to now

    ccvbird_import(world)
    runs = cron(world)

    checked = check_promises(world)
    assert checked.booked >= 750, checked
    # Only what the mapping must refuse (platform sales without a platform rate in the
    # suggested profile, totals below zero) is parked, each with its reason.
    assert set(checked.parked) <= {"unmapped_vat_rate", "negative_total"}
    assert sum(checked.parked.values()) < 20, checked.parked
    assert runs > 1  # faults left work for the cron runs
    faults_were_injected(world, moneybird=300, ccv=100)
    # An hour more of cron runs writes nothing more to Moneybird.
    writes = world.moneybird_writes()
    cron(world, runs=12)
    assert world.moneybird_writes() == writes


def test_a_year_of_orders_with_faults_imported_then_booked_by_ccvbird_run(
    new_world: NewWorld,
) -> None:
    world = proof_world(new_world, orders=200, seed=11)

    ccvbird_import(world)
    minutes, outcomes = ccvbird_run(world)

    checked = check_promises(world)
    assert checked.booked >= 150, checked
    # Faults left work for the scheduler and the workers, and they finished it.
    assert minutes > 1 and outcomes["booked"] + outcomes["paid"] > 0, outcomes
    faults_were_injected(world, moneybird=50, ccv=20)


# -- the same run with each of … ----------------------------------------------------------------


def test_a_mismatched_rate_is_refused_up_front_and_nothing_is_written(
    new_world: NewWorld,
) -> None:
    world = proof_world(new_world, orders=100, seed=12)
    app, store, cid = world.app, world.store, world.connection_id
    good = store.profile_toml(cid)
    nine = f'"9" = "{mb.TAX_RATE_9}"'
    assert nine in good
    mismatched = good.replace(nine, f'"9" = "{mb.TAX_RATE_21}"', 1)  # 9% booked at 21%
    boxes = world.sandboxes

    # ``ccvbird connect --profile`` (a second connection, so with a prefix of its own): refused
    # before a connection exists.
    second = mismatched.replace("[invoicing]\n", '[invoicing]\nreference_prefix = "B-"\n', 1)
    boxes.shop.add_api_key("second-public", "second-secret")
    with pytest.raises(ConfigError, match=r'tax_rates\.domestic\."9"'):
        bootstrap.connect(
            app, name="verkeerd", ccv_url=boxes.ccv_url, ccv_public="second-public",
            ccv_secret="second-secret", moneybird_url=boxes.moneybird_url,
            moneybird_token=boxes.moneybird_token, administration_id=boxes.administration_id,
            profile_toml=second,
        )  # fmt: skip
    assert [c.id for c in store.connections()] == [cid]
    # ``ccvbird profile import``: refused, the connection keeps its profile.
    with pytest.raises(ConfigError, match=r'tax_rates\.domestic\."9"'):
        bootstrap.check_profile_fits(app, cid, mismatched, source="profile.toml")
    assert store.profile_toml(cid) == good

    # Stored all the same (as an older ccvbird did, unchecked): the import and every cron run
    # stop before anything is written to Moneybird.
    store.set_profile(cid, mismatched)
    report = ccvbird_import(world)
    cron(world, runs=12)

    assert report.paused_reason.startswith(
        "The profile does not match the Moneybird administration:"
    )
    assert 'tax_rates.domestic."9"' in store.connection(cid).paused_reason
    assert world.invoices() == [] and world.contacts() == []
    assert world.moneybird_writes() == 0
    for record in store.records(cid):
        assert record.state is not SyncState.BOOKED and record.reason, record


def test_orders_on_account_stay_open_and_are_paid_once_when_the_shop_says_so(
    new_world: NewWorld,
) -> None:
    hooks = Webhooks()
    world = proof_world(new_world, orders=150, seed=13, poster=hooks.poster)
    set_profile(world, "require_paid = true", "require_paid = false")
    shop = world.sandboxes.shop
    profile = world.store.profile_toml(world.connection_id)
    bookable = [o for o in ccv_orders(shop) if o.bookable and not o.refusal(profile)]
    on_account = [*bookable[:-3:5], *bookable[-3:]]  # over the year, and the latest ones
    for order in on_account:  # sold on account: completed, not paid yet
        shop.set_paid(int(order.order_id), False)
    unpaid = frozenset(o.order_id for o in on_account)
    assert len(unpaid) >= 20
    # The webhooks of the recent ones get lost: polling (its 30-day window) must see them paid.
    window = world.app.clock.now() - timedelta(days=world.app.settings.lookback_days - 1)
    recent = frozenset(o.order_id for o in on_account if o.created_at > window)
    assert 3 <= len(recent) < len(unpaid) // 2
    hooks.subscribe(world)

    ccvbird_import(world)
    cron(world)

    check_promises(world, open_orders=unpaid)

    # The shop marks them paid (its merchant endpoints fire ``orders.updated.ispaid``).
    world.clock.now += 86_400
    paid_on = world.app.clock.today()
    for order_id in sorted(unpaid):
        merchant(world, f"/orders/{order_id}/paid", {"paid": True})
    outcomes = hooks.deliver(world, lost=recent)
    assert set(outcomes) <= {"paid", "retry_later"} and outcomes["paid"] >= len(unpaid) // 3
    cron(world)

    check_promises(world)  # every one of them paid now, with one payment
    render = world.sandboxes.moneybird.renderer()
    by_reference = {i.reference: i for i in world.invoices()}
    numbers = {o.order_id: o.number for o in ccv_orders(shop)}
    for order_id in unpaid:
        (payment,) = render.sales_invoice(by_reference[numbers[order_id]])["payments"]
        assert payment["payment_date"] == paid_on.isoformat()

    # More webhooks (unpaid and paid again), more cron runs: nothing is paid twice.
    writes = world.moneybird_writes()
    for order_id in sorted(unpaid):
        merchant(world, f"/orders/{order_id}/paid", {"paid": False})
        world.clock.now += 60
        merchant(world, f"/orders/{order_id}/paid", {"paid": True})
    outcomes = hooks.deliver(world)
    assert set(outcomes) <= {"already_booked", "retry_later"}, outcomes
    cron(world)
    cron(world, runs=12)
    assert world.moneybird_writes() == writes
    check_promises(world)


def test_invoices_dated_at_booking_are_not_flagged_when_webhooks_reread_them_a_day_later(
    new_world: NewWorld,
) -> None:
    hooks = Webhooks()
    world = proof_world(new_world, orders=150, seed=14, poster=hooks.poster)
    set_profile(world, "[invoicing]\n", '[invoicing]\ninvoice_date = "booking_date"\n')
    first_day = world.app.clock.today()

    ccvbird_import(world)
    cron(world)

    checked = check_promises(world)
    assert checked.booked >= 100
    last_day = world.app.clock.today()
    dates = {i.invoice_date for i in world.invoices()}
    assert dates and all(first_day <= d <= last_day for d in dates), dates

    # The next day in Amsterdam (past midnight), the shop touches every booked order (unpaid,
    # paid again): CCV's webhooks make ccvbird read each one again.
    now = world.app.clock.now()
    world.clock.now += 86_400 + 3_600
    assert world.app.clock.today() > last_day
    hooks.subscribe(world)
    booked = [o for o in ccv_orders(world.sandboxes.shop) if o.number in _references(world)]
    assert len(booked) == checked.booked
    writes = world.moneybird_writes()
    for order in booked:
        merchant(world, f"/orders/{order.order_id}/paid", {"paid": False})
        merchant(world, f"/orders/{order.order_id}/paid", {"paid": True})
    outcomes = hooks.deliver(world)
    assert set(outcomes) <= {"already_booked", "retry_later"}, outcomes
    assert outcomes["already_booked"] >= len(booked) // 2
    cron(world)

    assert world.store.records(world.connection_id, states=[SyncState.CHANGED]) == []
    assert world.moneybird_writes() == writes
    assert {i.invoice_date for i in world.invoices()} == dates
    check_promises(world)
    assert world.app.clock.now() > now


def _references(world: World) -> set[str]:
    return {i.reference for i in world.invoices()}


def test_two_shops_in_one_administration_each_order_booked_once_under_its_own_reference(
    new_world: NewWorld,
) -> None:
    world = proof_world(new_world, orders=150, seed=15)
    second = SandboxShop(
        base_url=SECOND_SHOP_URL, public_key=SECOND_PUBLIC, secret=SECOND_SECRET, seed=16,
        clock=world.clock, sleep=world.clock.sleep,
        limits=Limits(gets=10**9, writes=10**9, total=10**9),
        faults=CcvFaults(rate=CCV_FAULTS, seed=16), poster=RecordingPoster(),
        name="Tweede winkel (sandbox)",
    )  # fmt: skip
    second.generate(150, over=timedelta(days=HISTORY_DAYS))
    world.sandboxes.transports[SECOND_SHOP_URL] = InProcessTransport(second)
    world.app.transports[SECOND_SHOP_URL] = world.sandboxes.transports[SECOND_SHOP_URL]
    boxes = world.sandboxes
    connected = bootstrap.connect(
        world.app, name="tweede winkel", ccv_url=SECOND_SHOP_URL, ccv_public=SECOND_PUBLIC,
        ccv_secret=SECOND_SECRET, moneybird_url=boxes.moneybird_url,
        moneybird_token=boxes.moneybird_token, administration_id=boxes.administration_id,
    )  # fmt: skip
    assert connected.paused_reason == ""
    numbers = [{o.number for o in ccv_orders(shop)} for shop in (boxes.shop, second)]
    assert len(numbers[0] & numbers[1]) >= 100, "the shops should share order numbers"

    ccvbird_import(world, world.connection_id)
    ccvbird_import(world, connected.connection_id)
    cron(world)

    checked = check_promises(
        world, [(world.connection_id, boxes.shop, ""), (connected.connection_id, second, "B-")]
    )
    assert checked.booked >= 220, checked
    references = _references(world)
    assert sum(r.startswith("B-") for r in references) >= 100
    assert sum(not r.startswith("B-") for r in references) >= 100


def test_with_cron_alone_an_old_open_invoice_is_paid_once_the_shop_marks_it_paid(
    new_world: NewWorld,
) -> None:
    world = proof_world(new_world, orders=60, seed=17)
    set_profile(world, "require_paid = true", "require_paid = false")
    shop, profile = world.sandboxes.shop, world.store.profile_toml(world.connection_id)
    old = world.app.clock.now() - timedelta(days=60)
    on_account = [
        o for o in ccv_orders(shop) if o.bookable and not o.refusal(profile) and o.created_at < old
    ][-3:]
    for order in on_account:
        shop.set_paid(int(order.order_id), False)
    ccvbird_import(world)
    cron(world)
    check_promises(world, open_orders=frozenset(o.order_id for o in on_account))

    for order in on_account:  # paid at last, two months after the order (no webhooks)
        merchant(world, f"/orders/{order.order_id}/paid", {"paid": True})
    cron(world, runs=25 * 12)  # a day and an hour of cron runs

    check_promises(world)
