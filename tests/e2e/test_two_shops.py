"""Two CCV shops, one Moneybird administration: each shop's orders booked once, under its own
references, checked through the Moneybird sandbox's own API.

Both shops number their orders from 1001. With bare order numbers as references the second
shop's import "found" the first shop's invoices and took them over as its own bookings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from ccvbird import bootstrap
from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.adapters.db.tables import ConnectionRow, ProfileRow
from ccvbird.adapters.http import Unlimited
from ccvbird.config import Settings
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.sync import SyncState
from ccvbird.sandbox.ccvshop.faults import FaultPlan
from ccvbird.sandbox.ccvshop.inprocess import InProcessTransport
from ccvbird.sandbox.ccvshop.limits import Limits
from ccvbird.sandbox.ccvshop.outbound import RecordingPoster
from ccvbird.sandbox.ccvshop.shop import SandboxShop
from ccvbird.service.moneybird_events import Applied, apply_invoice_event
from ccvbird.service.passes import import_history
from tests.e2e.world import SINCE, FakeWallClock, connect_sandboxes

SECOND_SHOP_URL = "https://tweede-winkel.sandbox.ccvshop.test"
SECOND_PUBLIC, SECOND_SECRET = "second-public", "second-secret"


class FixedClock:
    """The engine's clock, held still (the contact directory's age is measured with it)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


@dataclass
class TwoShops:
    sandboxes: bootstrap.Sandboxes
    second: SandboxShop
    app: bootstrap.App
    first_id: int
    second_id: int

    def connect_second(self, **options: Any) -> bootstrap.Connected:
        sandboxes = self.sandboxes
        return bootstrap.connect(
            self.app,
            name="tweede winkel",
            ccv_url=SECOND_SHOP_URL,
            ccv_public=SECOND_PUBLIC,
            ccv_secret=SECOND_SECRET,
            moneybird_url=sandboxes.moneybird_url,
            moneybird_token=sandboxes.moneybird_token,
            administration_id=sandboxes.administration_id,
            **options,
        )

    def import_history(self, connection_id: int) -> Counter[str]:
        report = import_history(
            connection_id,
            since=SINCE,
            engine=self.app.engine_for(connection_id),
            store=self.app.store,
            shop=self.app.shop_for(connection_id),
        )
        return report.outcomes

    def use_kind(self, kind: str) -> None:
        store = self.app.store
        for cid in (self.first_id, self.second_id):
            text = store.profile_toml(cid)
            store.set_profile(cid, text.replace('kind = "sales_invoice"', f'kind = "{kind}"', 1))

    def moneybird_invoices(self, *, external: bool) -> list[Any]:
        """Every invoice of the administration, read through the sandbox's HTTP API."""
        client = self.app.books_for(self.first_id).client
        if external:
            return list(client.external_sales_invoices(period="20250101..20271231"))
        return list(client.sales_invoices_by_ids(client.sales_invoice_versions()))

    def moneybird_contacts(self) -> list[Any]:
        client = self.app.books_for(self.first_id).client
        return list(client.contacts_by_ids(client.contact_versions()))


def ccv_orders(shop: SandboxShop) -> dict[str, Any]:
    return {
        str(o["id"]): parse_order(o, {"items": shop.order_rows(int(o["id"])) or []})
        for o in shop.orders()
    }


def make_two_shops(
    tmp_path: Path, *, seeds: tuple[int, int], orders: int, first_prefix: str = ""
) -> TwoShops:
    """Shop A (connected first) and shop B, both numbering from 1001, in one administration."""
    wall = FakeWallClock()
    sandboxes = bootstrap.in_process_sandboxes(seed=seeds[0], clock=wall, sleep=wall.sleep)
    sandboxes.shop.generator.settings.order_prefix = first_prefix
    sandboxes.shop.generate(orders)
    unlimited = 10**9
    second = SandboxShop(
        base_url=SECOND_SHOP_URL,
        public_key=SECOND_PUBLIC,
        secret=SECOND_SECRET,
        seed=seeds[1],
        clock=wall,
        sleep=wall.sleep,
        limits=Limits(gets=unlimited, writes=unlimited, total=unlimited),
        faults=FaultPlan(rate=0.0, seed=seeds[1]),
        poster=RecordingPoster(),
        name="Tweede winkel (sandbox)",
    )
    second.generate(orders)
    sandboxes.transports[SECOND_SHOP_URL] = InProcessTransport(second)
    app = bootstrap.build_app(
        Settings(data_dir=tmp_path / "data"),
        transports=sandboxes.transports,
        moneybird_budget=Unlimited(),
    )
    app.sleep, app.wall_clock, app.ccv_limits = wall.sleep, wall, (unlimited, unlimited)
    app.clock = FixedClock()
    first = connect_sandboxes(app, sandboxes, name="eerste winkel")
    world = TwoShops(sandboxes, second, app, first.connection_id, 0)
    world.second_id = world.connect_second().connection_id
    return world


@pytest.fixture
def two_shops(tmp_path: Path) -> Iterator[Any]:
    made: list[TwoShops] = []

    def make(**options: Any) -> TwoShops:
        world = make_two_shops(tmp_path / f"world{len(made)}", **options)
        made.append(world)
        return world

    yield make
    for world in made:
        world.app.close()


@pytest.mark.parametrize("kind", ["sales_invoice", "external_sales_invoice"])
def test_both_shops_are_booked_once_each_under_its_own_references(
    two_shops: Any, kind: str
) -> None:
    world: TwoShops = two_shops(seeds=(41, 42), orders=40)
    store = world.app.store
    world.use_kind(kind)
    shops = {world.first_id: world.sandboxes.shop, world.second_id: world.second}
    orders = {cid: ccv_orders(shop) for cid, shop in shops.items()}
    numbers = [{o.number for o in found.values() if o.number} for found in orders.values()]
    assert numbers[0] & numbers[1], "the two shops should share order numbers"

    first_outcomes = world.import_history(world.first_id)
    second_outcomes = world.import_history(world.second_id)

    assert first_outcomes["taken_over"] == 0
    assert second_outcomes["taken_over"] == 0, "shop B took shop A's invoices for its own"
    invoices = world.moneybird_invoices(external=kind == "external_sales_invoice")
    by_reference = Counter(i.reference for i in invoices)
    assert [r for r, n in by_reference.items() if n > 1] == []
    expected: dict[str, Decimal] = {}
    for cid, prefix in ((world.first_id, ""), (world.second_id, "B-")):
        booked = store.records(cid, states=[SyncState.BOOKED])
        assert len(booked) >= 25
        for record in booked:
            order = orders[cid][record.order_id]
            expected[f"{prefix}{order.number}"] = order.total_paid
    totals = {i.reference: i.total_price_incl_tax for i in invoices}
    assert totals == expected  # every booked order once, under its shop's reference, to the cent
    for cid, prefix in ((world.first_id, ""), (world.second_id, "B-")):
        ours = [r for r in totals if r.startswith("B-") == bool(prefix)]
        assert sum((totals[r] for r in ours), Decimal(0)) == sum(
            (o.total_paid for o in orders[cid].values() if o.order_id in _booked(store, cid)),
            Decimal(0),
        )
        # Each order's record holds the invoice with its own reference.
        by_id = {i.id: i.reference for i in invoices}
        for record in store.records(cid, states=[SyncState.BOOKED]):
            assert by_id[record.invoice_id] == f"{prefix}{record.order_number}"
    # The first connection's references are the bare order numbers, as before.
    assert "B-" not in store.profile_toml(world.first_id)
    # A Moneybird push about one shop's invoice (both connections' webhooks hear it) changes
    # only that shop's order.
    action = (
        "external_sales_invoice_destroyed" if kind != "sales_invoice" else "sales_invoice_destroyed"
    )
    for invoice in invoices:
        theirs = world.first_id if invoice.reference.startswith("B-") else world.second_id
        applied = apply_invoice_event(store, theirs, action=action, entity_id=invoice.id, entity={})
        assert applied is Applied.IGNORED, invoice.reference


def _booked(store: Any, connection_id: int) -> set[str]:
    return {r.order_id for r in store.records(connection_id, states=[SyncState.BOOKED])}


def test_the_second_connection_is_drafted_a_prefix_and_refused_without_one(
    two_shops: Any,
) -> None:
    world: TwoShops = two_shops(seeds=(43, 44), orders=0)
    store = world.app.store
    first, second = store.connection(world.first_id), store.connection(world.second_id)
    assert first.profile.reference_prefix == ""
    assert second.profile.reference_prefix == "B-"
    assert 'reference_prefix = "B-"' in store.profile_toml(world.second_id)

    bare = store.profile_toml(world.second_id).replace('reference_prefix = "B-"\n', "")
    with pytest.raises(ConfigError, match="reference_prefix") as refused:
        store.set_profile(world.second_id, bare)
    assert "another connection books into this Moneybird administration" in str(refused.value)
    assert 'for example "B-"' in str(refused.value)  # a free prefix is named
    # The first connection cannot take the second's prefix either, nor one that starts alike.
    for taken in ('"B-"', '"B-x"', '"B"'):
        text = store.profile_toml(world.first_id).replace(
            "[invoicing]", f"[invoicing]\nreference_prefix = {taken}", 1
        )
        with pytest.raises(ConfigError, match="reference_prefix"):
            store.set_profile(world.first_id, text)
    # A third connection given a profile without a prefix is refused outright.
    world.second.add_api_key("third-public", SECOND_SECRET)
    with pytest.raises(ConfigError, match="reference_prefix"):
        bootstrap.connect(
            world.app,
            name="derde",
            ccv_url=SECOND_SHOP_URL,
            ccv_public="third-public",
            ccv_secret=SECOND_SECRET,
            moneybird_url=world.sandboxes.moneybird_url,
            moneybird_token=world.sandboxes.moneybird_token,
            administration_id=world.sandboxes.administration_id,
            profile_toml=bare,
        )


def test_an_unprefixed_shop_whose_numbers_look_like_the_others_references_books_none_of_them(
    two_shops: Any,
) -> None:
    # Shop A numbers its orders B-1001, B-1002, … itself; shop B's 1001 becomes B-1001 too.
    world: TwoShops = two_shops(seeds=(45, 46), orders=20, first_prefix="B")
    store = world.app.store

    world.import_history(world.second_id)
    first = world.import_history(world.first_id)

    assert first["booked"] == 0 and first["taken_over"] == 0
    parked = store.records(world.first_id, states=[SyncState.NEEDS_ATTENTION])
    assert parked and {r.reason_code for r in parked} == {"reference_taken"}
    assert "reference prefix of its own" in parked[0].reason
    invoices = world.moneybird_invoices(external=False)
    by_id = {i.id: i.reference for i in invoices}
    second_booked = store.records(world.second_id, states=[SyncState.BOOKED])
    assert len(invoices) == len(second_booked) > 0
    for record in second_booked:
        assert by_id[record.invoice_id] == f"B-{record.order_number}"


def test_two_older_connections_without_prefixes_pause_the_later_one(two_shops: Any) -> None:
    world: TwoShops = two_shops(seeds=(47, 48), orders=10)
    store = world.app.store
    # As a connection made before prefixes existed: the profile text is stored unchecked.
    bare = store.profile_toml(world.second_id).replace('reference_prefix = "B-"\n', "")
    with world.app.sessions() as session, session.begin():
        profile_id = session.get(ConnectionRow, world.second_id).profile_id
        session.execute(update(ProfileRow).where(ProfileRow.id == profile_id).values(toml=bare))

    world.import_history(world.first_id)
    second = world.import_history(world.second_id)

    assert second["taken_over"] == 0 and second["booked"] == 0
    assert store.connection(world.second_id).paused_reason.startswith(
        "The profile needs a reference prefix of its own"
    )
    assert store.records(world.first_id, states=[SyncState.BOOKED])


def test_both_shops_share_one_contact_per_e_mail(two_shops: Any) -> None:
    # The same seed: the same customers in both shops.
    world: TwoShops = two_shops(seeds=(49, 49), orders=30)
    # Shop B reads the (still empty) administration's contacts first …
    engine = world.app.engine_for(world.second_id)
    first_order = min(ccv_orders(world.second).values(), key=lambda o: o.created_at)
    engine.sync_order(world.second_id, first_order.order_id)
    # … then shop A books its customers, then shop B books the same customers again within
    # the directory's refresh interval.
    world.import_history(world.first_id)
    world.app.clock.at += timedelta(minutes=1)
    second = world.import_history(world.second_id)

    assert second["taken_over"] == 0 and second["booked"] >= 20
    emails = Counter(c.email.lower() for c in world.moneybird_contacts() if c.email)
    assert [e for e, n in emails.items() if n > 1] == [], "two contacts for one e-mail"
