"""The proof of issue 11's credits, from outside: both sandboxes in this process on one fake
wall clock with 10% faults; 300 orders imported and booked, then 60 of them credited in every
way — in full, some rows, only the shipping, cancelled (a person's "credit it", and
``cancellations = "credit"``), twice, and credited before they were ever booked (with both
``credited_before_booking`` choices) — through CCV's webhooks and the cron runs (whose poll
finds the credits whose webhooks were lost); a history import afterwards books nothing more.

Everything is checked on the sandboxes' own records, never on ccvbird's: per CCV credit
invoice exactly one Moneybird credit invoice (``1001-C1``, ``1001-C2`` in CCV's order), linked
to the original, paid; its total is CCV's credit and its VAT per rate is computed here from
CCV's own credit invoice rows (each row at its ``tax``, the credited shipping, costs and
discount share pro rata over the credited goods — over the order's goods for a credit of
shipping alone —, VAT rounded once per rate); originals plus credits net to what the customer
finally paid (the CCV order's total now; nothing for a cancelled order); nothing is booked for
an order nobody credited.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import httpx

from ccvbird.domain.sync import SyncState
from tests.e2e.test_promises import (
    CENT,
    ZERO,
    NewWorld,
    Webhooks,
    ccv_orders,
    ccvbird_import,
    check_promises,
    cron,
    proof_world,
    set_profile,
    spread_costs,
    vat_of,
)
from tests.e2e.world import World

NEITHER = 'credited_before_booking = "neither"'


class CreditWebhooks(Webhooks):
    """CCV's order webhooks and the one its credit invoices fire."""

    EVENTS = (*Webhooks.EVENTS, "invoices.updated.status")


def merchant(world: World, path: str, body: dict[str, Any] | None = None) -> None:
    """A merchant's action through the CCV sandbox's ``/_sandbox`` endpoints."""
    boxes = world.sandboxes
    with httpx.Client(base_url=boxes.ccv_url, transport=boxes.transports[boxes.ccv_url]) as ccv:
        response = ccv.post(f"/_sandbox{path}", json=body or {})
        assert response.status_code in (200, 201), (path, response.text)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def expected_vat(credit: dict[str, Any], rows: list[dict[str, Any]], order: Any) -> tuple[
    dict[Decimal, Decimal], bool
]:  # fmt: skip
    """(VAT per percentage, positive, whether an amount was split over several rates) of a
    CCV credit invoice, from its own rows and amounts (negative on a credit)."""
    incl = bool(order.raw["order_row_taxes_included"])
    charged: dict[Decimal, Decimal] = defaultdict(Decimal)
    goods: dict[Decimal, Decimal] = defaultdict(Decimal)
    for row in rows:
        rate = _money(row["tax"])
        amount = -_money(row.get("total_price_with_attributes", row["total_price"]))
        charged[rate] += amount
        if row.get("product_type", "product") != "deposit":
            goods[rate] += amount
    costs = ("total_shipping", "paymethod_costs", "extra_payment_option_price", "extra_costs")
    off = ("total_discounts", "credit_point_discount")
    level = -sum((_money(credit[k]) for k in costs), ZERO) + sum(
        (_money(credit[k]) for k in off), ZERO
    )
    credited = -_money(credit["total_price"])
    if incl:
        assert sum(charged.values(), ZERO) + level == credited, credit
    if level and not goods:  # shipping alone: at the order's goods mix, as it was booked
        for row in order.rows:
            if row["product_type"] != "deposit":
                goods[_money(row["tax"])] += _money(row["total_price_with_attributes"])
    split = spread_costs(charged, goods, level, _money(order.raw["shipping_tax_percentage"]))
    vat = vat_of(charged, incl=incl)
    if not incl:  # net rows: the credit is their sum plus VAT, to within a rounding cent
        net_and_vat = sum(charged.values(), ZERO) + sum(vat.values(), ZERO)
        assert abs(net_and_vat - credited) <= CENT, (credit, net_and_vat)
    return {r: v for r, v in vat.items() if v}, split


def booked_orders(world: World) -> list[Any]:
    """CCV orders with a paid Moneybird invoice, goods of more than one row first."""
    references = {i.reference for i in world.invoices() if i.state == "paid"}
    found = [o for o in ccv_orders(world.sandboxes.shop) if o.number in references]
    return sorted(found, key=lambda o: -len(o.rows))


def credit_all_ways(world: World, hooks: CreditWebhooks) -> dict[str, list[Any]]:
    """60 credits in every way; returns the orders per way."""
    orders = booked_orders(world)
    with_shipping = [o for o in orders if _money(o.raw["total_shipping"]) > 0]
    multi = [o for o in orders if sum(1 for r in o.rows if _money(r["count"]) >= 1) >= 2]
    taken: set[str] = set()

    def pick(pool: list[Any], n: int) -> list[Any]:
        chosen = [o for o in pool if o.order_id not in taken][:n]
        taken.update(o.order_id for o in chosen)
        assert len(chosen) == n
        return chosen

    ways = {
        "two_credits": pick(multi, 6),
        "partial": pick(multi, 12),
        "shipping": pick(with_shipping, 8),
        "full": pick(orders, 12),
        "ask": pick(orders, 6),
        "cancel_credit": pick(orders, 6),
    }
    for order in ways["full"]:
        merchant(world, f"/orders/{order.order_id}/credit", {"refunded": True})
    for order in ways["partial"]:
        row = next(r for r in order.rows if _money(r["count"]) >= 1)
        merchant(world, f"/orders/{order.order_id}/credit/rows", {"rows": [
            {"id": row["id"], "count": 1}]})  # fmt: skip
    for order in ways["shipping"]:
        merchant(world, f"/orders/{order.order_id}/credit/shipping", {"refunded": True})
    for order in ways["two_credits"]:
        first, second = [r for r in order.rows if _money(r["count"]) >= 1][:2]
        merchant(world, f"/orders/{order.order_id}/credit/rows", {"rows": [
            {"id": first["id"], "count": 1}]})  # fmt: skip
        world.clock.now += 60
        merchant(world, f"/orders/{order.order_id}/credit/rows", {"rows": [
            {"id": second["id"], "count": 1}], "refunded": False})  # fmt: skip
    for order in ways["ask"]:
        merchant(world, f"/orders/{order.order_id}/cancel")
    return ways


def booked_world(new_world: NewWorld, hooks: CreditWebhooks, *, orders: int, seed: int) -> World:
    """The proof's sandboxes with 10% faults, ``[credits]`` at its defaults, the history
    imported and booked by the cron runs."""
    world = proof_world(new_world, orders=orders, seed=seed, poster=hooks.poster)
    cid = world.connection_id
    profile = world.store.profile_toml(cid)
    if "[credits]" not in profile:
        world.store.set_profile(cid, f'{profile}\n[credits]\ncancellations = "ask"\n{NEITHER}\n')
    ccvbird_import(world)
    cron(world)
    return world


def test_300_orders_booked_then_60_credited_in_every_way_each_credit_booked_once(
    new_world: NewWorld,
) -> None:
    hooks = CreditWebhooks()
    world = booked_world(new_world, hooks, orders=380, seed=21)
    shop, cid = world.sandboxes.shop, world.connection_id
    assert check_promises(world).booked >= 300
    hooks.subscribe(world)
    writes = world.moneybird_writes()

    # -- credited after booking: webhooks, some lost (the next poll finds those) ------------
    ways = credit_all_ways(world, hooks)
    lost = frozenset(o.order_id for o in ways["partial"][:4])
    lost_invoices = _credit_invoice_ids(shop, {o.number for o in ways["partial"][:4]})
    hooks.posted = [(u, b) for u, b in hooks.posted if not _names(b, lost, lost_invoices)]
    outcomes = hooks.deliver(world)
    assert outcomes["parked"] >= 6, outcomes  # the cancellations wait for a person
    for order in ways["ask"]:  # a person says "credit it"
        with world.app.leased_engine(cid, "cli") as engine:
            engine.credit_order(cid, order.order_id)
    set_profile(world, 'cancellations = "ask"', 'cancellations = "credit"')
    for order in ways["cancel_credit"]:
        merchant(world, f"/orders/{order.order_id}/cancel")
    hooks.deliver(world)
    cron(world)  # polling finds the credits whose webhooks were lost (no import needed)

    ways["before_neither"], ways["before_both"] = [], []
    assert sum(len(v) for v in ways.values()) == 50
    checked = check_credits(world, ways)
    assert checked["credits"] >= 50 and world.moneybird_writes() > writes
    assert len(world.sandboxes.moneybird.faults.history) >= 100
    assert sum(shop.faults.injected.values()) >= 30
    # An hour more of cron runs and another import write nothing more.
    writes = world.moneybird_writes()
    cron(world, runs=12)
    ccvbird_import(world)
    assert world.moneybird_writes() == writes
    check_credits(world, ways)


def test_orders_credited_before_booking_with_faults_are_booked_neither_or_both(
    new_world: NewWorld,
) -> None:
    hooks = CreditWebhooks()
    world = booked_world(new_world, hooks, orders=60, seed=22)
    shop = world.sandboxes.shop
    hooks.subscribe(world)
    ways: dict[str, list[Any]] = {k: [] for k in WAYS}
    # -- credited before booking: new orders, credited in full before ccvbird saw them -------
    before: dict[str, list[str]] = {}
    for choice in ("neither", "both"):
        if choice == "both":
            set_profile(world, NEITHER, 'credited_before_booking = "both"')
        made = [str(shop.create_order(status=7, paid=True)) for _ in range(5)]
        hooks.posted.clear()  # their order webhooks come with the credit's (below)
        for order_id in made:
            merchant(world, f"/orders/{order_id}/credit", {"refunded": True})
        hooks.deliver(world)
        cron(world)
        before[choice] = made
    ways["before_neither"] = [o for o in ccv_orders(shop) if o.order_id in before["neither"]]
    ways["before_both"] = [o for o in ccv_orders(shop) if o.order_id in before["both"]]
    assert sum(len(v) for v in ways.values()) == 10

    check_credits(world, ways)


WAYS = ("two_credits", "partial", "shipping", "full", "ask", "cancel_credit")


def _credit_invoice_ids(shop: Any, numbers: set[str]) -> set[int]:
    return {
        int(i["id"])
        for i in shop.invoices()
        if i["type"] == "credit" and i["ordernumber_full"] in numbers
    }


def _names(body: bytes, orders: frozenset[str], invoices: set[int]) -> bool:
    import json

    data = json.loads(body)
    return str(data.get("id")) in orders or (
        int(data.get("id", 0)) in invoices and "invoicenumber" in data
    )


def check_credits(world: World, ways: dict[str, list[Any]]) -> Counter[str]:
    """Issue 11's promises on the sandboxes' own records (see the module docstring)."""
    shop, moneybird = world.sandboxes.shop, world.sandboxes.moneybird
    render, books = moneybird.renderer(), moneybird.books()
    percentage = {r.id: r.percentage for r in books.setup.tax_rates}
    invoices = moneybird.invoices()
    by_reference = Counter(i.reference for i in invoices)
    assert [r for r, n in by_reference.items() if n > 1] == [], "booked twice"
    assert [i.reference for i in invoices if i.state == "draft"] == [], "drafts left"
    invoice_of = {i.reference: i for i in invoices}
    ccv_credits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for document in sorted(shop.invoices(), key=lambda i: int(i["id"])):
        if document["type"] == "credit":
            ccv_credits[document["ordernumber_full"]].append(document)
    cancelled = {o.number for o in [*ways["ask"], *ways["cancel_credit"]]}
    neither = {o.number for o in ways["before_neither"]}
    checked: Counter[str] = Counter()
    orders = {o.number: o for o in ccv_orders(shop)}
    credited_numbers = {o.number for way in ways.values() for o in way}
    for number, order in orders.items():
        mine = sorted(
            (i for r, i in invoice_of.items() if r.startswith(f"{number}-C")),
            key=lambda i: i.reference,
        )
        if number not in credited_numbers or number in neither:
            assert mine == [], f"order {number}: credited, but nobody credited it"
            if number in neither:
                assert number not in invoice_of, f"order {number} credited before booking"
            continue
        original = render.sales_invoice(invoice_of[number])
        expected = ccv_credits[number]
        if number in cancelled:
            assert expected == [] and len(mine) == 1, (number, mine)
        else:
            assert len(mine) == len(expected), (number, [i.reference for i in mine], expected)
        net = Decimal(original["total_price_incl_tax"])
        for seq, credit in enumerate(mine, 1):
            rendered = render.sales_invoice(credit)
            assert credit.reference == f"{number}-C{seq}"
            assert rendered["original_sales_invoice_id"] == original["id"]
            assert rendered["state"] == "paid", (credit.reference, rendered["state"])
            total = Decimal(rendered["total_price_incl_tax"])
            net += total
            mb_vat: dict[Decimal, Decimal] = defaultdict(Decimal)
            for line in rendered["tax_totals"]:
                mb_vat[percentage[line["tax_rate_id"]]] -= Decimal(line["tax_amount"])
            mb_vat = {r: v for r, v in mb_vat.items() if v}
            if number in cancelled:
                assert total == -Decimal(original["total_price_incl_tax"])
                checked["credits"] += 1
                continue
            ccv = expected[seq - 1]
            assert total == _money(ccv["total_price"]), (credit.reference, total, ccv)
            want, split = expected_vat(ccv, list(shop.invoice_rows(int(ccv["id"]))), order)
            for rate in set(mb_vat) | set(want):
                off = abs(mb_vat.get(rate, ZERO) - want.get(rate, ZERO))
                assert off <= (CENT if split else ZERO), (credit.reference, rate, mb_vat, want)
            checked["credits"] += 1
        finally_paid = ZERO if number in cancelled else order.total
        assert net == finally_paid, (number, net, finally_paid)
    for record in world.store.records(world.connection_id):
        assert record.state is not SyncState.BOOKING, record.order_id
        if record.state is not SyncState.BOOKED:
            assert record.reason, record.order_id
    return checked
