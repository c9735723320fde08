"""Contract: every call of the CCV client against the sandbox shop."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ccvbird.adapters.ccvshop import InvoiceFilter, OrderFilter, parse_order
from ccvbird.adapters.ccvshop.client import CcvShopClient
from ccvbird.domain.errors import (
    ApiError,
    AuthenticationFailed,
    InvalidOrderData,
    NotFound,
    PermissionDenied,
)
from ccvbird.sandbox.ccvshop import SandboxShop

from .conftest import ClientFactory, ShopFactory


def test_orders_come_with_their_rows_and_match_the_shop(
    shop: SandboxShop, client: CcvShopClient
) -> None:
    shop.generate(40)
    orders = list(client.orders())
    expected = [o for o in shop.orders() if o["is_completed"]]
    assert [o.order_id for o in orders] == [str(o["id"]) for o in expected]
    for order, document in zip(orders, expected, strict=True):
        rows = shop.order_rows(document["id"])
        assert rows is not None
        assert order == parse_order(document, {"items": rows})
        assert len(order.rows) == len(rows) > 0


def test_a_full_fetch_costs_one_rows_call_per_order_plus_the_listing(
    shop: SandboxShop, connect: ClientFactory
) -> None:
    shop.generate(120)
    client = connect(shop, page_size=50)
    fetched = list(client.orders(OrderFilter(is_completed=True)))
    listing_pages = -(-len(fetched) // 50)
    assert client.requests_sent == {"GET orders": listing_pages, "GET orderrows": len(fetched)}


def test_order_filters(shop: SandboxShop, client: CcvShopClient) -> None:
    shop.generate(80)
    everything = shop.orders()

    def ids(filters: OrderFilter) -> list[str]:
        return [body["id"] for body in client.order_bodies(filters)]

    paid_done = ids(OrderFilter(status=7, is_paid=True))
    assert paid_done == [o["id"] for o in everything if o["status"] == 7 and o["paid"]]
    unpaid = ids(OrderFilter(is_paid=False))
    assert unpaid == [o["id"] for o in everything if o["is_completed"] and not o["paid"]]
    open_baskets = ids(OrderFilter(is_completed=False))
    assert open_baskets == [o["id"] for o in everything if not o["is_completed"]]
    assert open_baskets  # the generator makes some unfinished checkouts

    newest_first = ids(OrderFilter(orderby="create_date_desc"))
    created = [next(o["create_date"] for o in everything if o["id"] == i) for i in newest_first]
    assert created == sorted(created, reverse=True)

    middle = sorted(o["create_date"] for o in everything if o["is_completed"])[20:40]
    window = ids(
        OrderFilter(
            min_create_date=datetime.fromisoformat(middle[0]),
            max_create_date=datetime.fromisoformat(middle[-1]),
        )
    )
    assert len(window) == 20
    day = datetime.fromisoformat(middle[0]).date()
    whole_day = ids(OrderFilter(min_create_date=day, max_create_date=day))
    assert whole_day == [
        o["id"] for o in everything if o["is_completed"] and o["create_date"][:10] == str(day)
    ]

    number = next(o for o in everything if o["is_completed"])["ordernumber"]
    assert len(ids(OrderFilter(ordernumber=number))) == 1


def test_filters_refuse_what_ccv_does_not_document() -> None:
    with pytest.raises(ValueError, match="orderby"):
        OrderFilter(orderby="total_price").query()
    with pytest.raises(ValueError, match="aware"):
        OrderFilter(min_create_date=datetime(2026, 1, 1)).query()  # noqa: DTZ001
    assert ("min_create_date", "2026-01-01") in OrderFilter(
        min_create_date=date(2026, 1, 1)
    ).query()
    assert ("max_create_date", "2026-01-01T12:00:00Z") in OrderFilter(
        max_create_date=datetime(2026, 1, 1, 12, tzinfo=UTC)
    ).query()


def test_one_order_and_all_pages_of_its_rows(
    make_shop: ShopFactory, connect: ClientFactory
) -> None:
    shop = make_shop(max_page_size=2)
    shop.generate(30)
    many = max(shop.orders(), key=lambda o: len(shop.order_rows(o["id"]) or []))
    rows = shop.order_rows(many["id"]) or []
    assert len(rows) > 2  # several pages of rows
    client = connect(shop)
    order = client.order(many["id"])
    assert [r.row_id for r in order.rows] == [str(r["id"]) for r in rows]
    assert client.order_body(many["id"]) == many
    document = client.order_document(many["id"])
    assert document["orderrows"]["items"] == rows


def test_an_unknown_order_is_not_found(client: CcvShopClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.order(123)
    assert caught.value.status == 404
    assert "123" in str(caught.value)


def test_a_malformed_order_is_named_or_handed_to_the_caller(
    shop: SandboxShop, client: CcvShopClient
) -> None:
    shop.generate(3)
    broken = shop.orders()[1]
    broken["total_price"] = "lots"
    with pytest.raises(InvalidOrderData) as caught:
        list(client.orders(OrderFilter(is_completed=None)))
    assert caught.value.field == "order.total_price"
    assert str(broken["id"]) in "".join(caught.value.__notes__)

    problems: list[tuple[str, str]] = []
    good = list(client.orders(on_invalid=lambda oid, error: problems.append((oid, error.field))))
    assert problems == [(str(broken["id"]), "order.total_price")]
    assert str(broken["id"]) not in [o.order_id for o in good]


def test_invoices_and_their_rows(shop: SandboxShop, client: CcvShopClient) -> None:
    order_id = shop.create_order(status=7, paid=True)
    order = shop.order(order_id)
    assert order is not None
    total = order["total_price"]
    credit_id = shop.credit_order(order_id)

    invoices = list(client.invoices(InvoiceFilter(ordernumber=order["ordernumber"])))
    assert [i.type for i in invoices] == ["debit", "credit"]
    debit, credit = invoices
    assert debit.total_price == total
    assert credit.is_credit
    assert credit.total_price == -total
    assert order["total_price"] == 0  # the order was edited down; the credit is the difference
    assert client.invoice(credit_id) == credit
    rows = client.invoice_rows(debit.id)
    assert len(rows) == len(shop.order_rows(order_id) or [])
    assert all(isinstance(row.total_price, Decimal) for row in rows)

    client.set_invoice_external_reference(debit.id, "MB-2026-0001")
    assert client.invoice(debit.id).external_reference == "MB-2026-0001"
    assert [i.id for i in client.invoices(InvoiceFilter(status="paid"))] == [debit.id]
    assert [i.id for i in client.invoices(InvoiceFilter(status="reimbursed"))] == [credit.id]
    with pytest.raises(ValueError, match="status"):
        InvoiceFilter(status="betaald").query()


def test_paymethods_webshop_merchant_and_the_shops_own_status_names(
    make_shop: ShopFactory, connect: ClientFactory
) -> None:
    shop = make_shop(status_names={7: "Klaar en betaald"})
    client = connect(shop)
    methods = client.paymethods()
    assert {m.combined_name for m in methods} >= {"MollieIdeal", "BankTransfer"}
    shops = client.webshops()
    assert [s.id for s in shops] == [str(shop.webshop_id)]
    assert client.merchant().tax_number == "NL001234567B01"
    names = client.order_status_names()
    assert names[7] == "Klaar en betaald"
    assert names[8] == "Geannuleerd"
    assert client.settings(shops[0].id).currency == "EUR"


def test_webhooks_list_create_update_delete(shop: SandboxShop, client: CcvShopClient) -> None:
    created = client.create_webhook("orders.updated.ispaid", "https://app.test/hooks/paid/abc")
    assert created.key
    assert created.is_active
    assert client.webhooks() == [created]
    client.update_webhook(created.id, is_active=False, address="https://app.test/hooks/paid/xyz")
    (changed,) = client.webhooks()
    assert (changed.is_active, changed.address) == (False, "https://app.test/hooks/paid/xyz")
    client.delete_webhook(created.id)
    client.delete_webhook(created.id)  # gone already: still fine
    assert client.webhooks() == []
    with pytest.raises(ApiError) as caught:
        client.create_webhook("orders.updated.nonsense", "https://app.test/x")
    assert caught.value.status == 400


def test_apps_with_a_manual_key_list_none(client: CcvShopClient) -> None:
    assert client.apps() == []
    with pytest.raises(ApiError, match="App Store"):
        client.our_app()


def test_another_apps_record_is_forbidden(shop: SandboxShop, client: CcvShopClient) -> None:
    app_id = shop.register_app(
        "other", app_secret="s", handshake_uri="https://o.test/h", install_uri="https://o.test/i"
    )
    with pytest.raises(PermissionDenied, match="permission"):
        client.set_app_installed(app_id)


def test_a_wrong_secret_says_so_in_words(shop: SandboxShop, connect: ClientFactory) -> None:
    client = connect(shop, secret="not-the-secret")
    with pytest.raises(AuthenticationFailed, match="public key or the secret is wrong"):
        client.webshops()
    stranger = connect(shop, public="who-is-this")
    with pytest.raises(AuthenticationFailed, match=r"Unknown or revoked"):
        stranger.paymethods()


def test_the_api_root_may_be_given_with_the_api_path(
    shop: SandboxShop, connect: ClientFactory
) -> None:
    client = connect(shop, api_root=f"{shop.base_url}/api/rest/v1/")
    assert client.webshops()[0].api_root == shop.base_url
