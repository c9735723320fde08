"""Realistic CCV Shop orders, reproducible from a seed.

The generator produces order documents in the wire format of the real API (the same keys and
types as ``../shared/fixtures/ccvshop/order.json`` and ``orderrow.json``): ``{"order": <GET
/orders/:id body>, "orderrows": <GET /orders/:id/orderrows body>}``, the ``ccvbird preview`` input
format. Amounts are Decimals; :func:`ccvbird.adapters.ccvshop.wire.dumps` writes them as JSON
numbers exactly.

It covers what real shops send: mixed 9%/21% baskets, option surcharges and row discounts,
deposit rows, shipping, payment costs, coupons (fixed and percentage), cart discounts, credit
points, negative extra costs, B2B orders with prices excl. VAT, EU businesses with a VAT number
(reverse charge), consumers abroad (OSS when the shop uses it), export outside the EU, platform
sales, guests without an account, repeat customers, and orders that are unpaid, cancelled or
never completed.

How the totals add up is this sandbox's model of CCV (CCV does not document it, see the
reference §10.7): ``total_price`` = rows + shipping + payment costs + payment option + extra
costs − ``total_discounts`` (coupon included) − credit points, in the order's price mode; with
prices excl. VAT the VAT is rounded per line, as shops do, so the Moneybird total (VAT rounded per
rate) can differ by a cent — which is what the rounding line is for.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

D = Decimal
CENT = D("0.01")
ZERO = D(0)


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Product:
    name: str
    price: Decimal  # gross (incl. 21% or 9% Dutch VAT)
    tax: Decimal
    number: str
    options: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...] = ()
    deposit: Decimal = ZERO  # statiegeld per unit


CATALOG: tuple[Product, ...] = (
    Product("Koffiebonen Espresso 1 kg", D("18.95"), D(9), "KB-ESP-1000"),
    Product("Koffiebonen Lungo 500 g", D("9.49"), D(9), "KB-LUN-500"),
    Product("Thee Earl Grey 100 g", D("4.25"), D(9), "TH-EG-100"),
    Product("Stroopwafels (doos)", D("3.99"), D(9), "SW-DOOS"),
    Product("Kookboek Italiaans", D("24.99"), D(9), "BK-IT"),
    Product("Frisdrank cola 1,5 l", D("2.19"), D(9), "FD-COLA", deposit=D("0.15")),
    Product("Bier Blond (krat 24)", D("19.99"), D(21), "BR-BL-24", deposit=D("3.90")),
    Product(
        "Koffiemolen Classic", D("79.00"), D(21), "KM-CL",
        options=(("Kleur", (("Zwart", D(5)), ("RVS", D(10)), ("Wit", ZERO))),),
    ),
    Product(
        "T-shirt Barista", D("19.95"), D(21), "TS-BAR",
        options=(("Maat", (("S", ZERO), ("M", ZERO), ("L", ZERO), ("XL", D("2.50")))),),
    ),
    Product("Espressokopje", D("9.99"), D(21), "EK-01"),
    Product("Melkopschuimer", D("34.50"), D(21), "MO-01"),
    Product("Cadeaubon-verpakking", D("1.95"), D(21), "CV-01"),
    Product("Ontkalker 500 ml", D("7.49"), D(21), "OK-500"),
)  # fmt: skip

#: OSS rates (standard, reduced) for consumers abroad, when the shop uses OSS.
OSS_RATES = {"BE": (D(21), D(6)), "DE": (D(19), D(7)), "FR": (D(20), D("5.5"))}

FIRST_NAMES = ("Sanne", "Daan", "Emma", "Lucas", "Julia", "Sem", "Lotte", "Finn", "Eva", "Noah",
               "Tess", "Milan", "Anna", "Levi", "Sophie", "Bram", "Fleur", "Jesse")  # fmt: skip
LAST_NAMES = ("de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer",
              "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks")  # fmt: skip
CITIES = {
    "NL": (("Utrecht", "3511 AB"), ("Amsterdam", "1012 AB"), ("Rotterdam", "3011 AA"),
           ("Groningen", "9711 AA"), ("Eindhoven", "5611 AA"), ("Zwolle", "8011 AA")),
    "BE": (("Antwerpen", "2000"), ("Gent", "9000")),
    "DE": (("Köln", "50667"), ("Berlin", "10115")),
    "FR": (("Lille", "59000"), ("Paris", "75001")),
    "US": (("New York", "10001"),),
    "CH": (("Zürich", "8001"),),
    "NO": (("Oslo", "0150"),),
}  # fmt: skip
COUNTRY_NAMES = {"NL": "Nederland", "BE": "België", "DE": "Duitsland", "FR": "Frankrijk",
                 "US": "Verenigde Staten", "CH": "Zwitserland", "NO": "Noorwegen"}  # fmt: skip
PAYMETHODS = (
    (12, "MollieIdeal", "iDEAL", ZERO),
    (3, "BankTransfer", "Vooraf overmaken", ZERO),
    (14, "MollieCreditcard", "Creditcard", D("1.50")),
    (15, "MolliePaypal", "PayPal", D("0.35")),
)


@dataclass(frozen=True)
class Customer:
    email: str
    first_name: str
    last_name: str
    country: str
    city: str
    zipcode: str
    user_id: str | None
    company: str = ""
    vat_number: str = ""
    coc_number: str = ""


@dataclass
class ShopSettings:
    """How the generated shop is set up and what mix of orders it gets."""

    host: str = "https://sandbox.ccvshop.test"
    oss: bool = False
    order_prefix: str = ""
    first_order_number: int = 1001
    first_order_id: int = 500_000_001
    repeat_share: float = 0.3  # share of orders placed by a customer who ordered before
    start: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    minutes_between_orders: int = 47
    #: No order is dated after this moment (a history that ends "now"); ``None``: no end.
    end: datetime | None = None


POOLS = ("intra_community", "export", "abroad", "b2b")


def _pool_of(customer: Customer) -> str:
    if customer.vat_number:
        return "intra_community"
    if customer.country in {"US", "CH", "NO"}:
        return "export"
    if customer.country in OSS_RATES and not customer.company:
        return "abroad"
    if customer.country == "NL" and customer.company:
        return "b2b"
    return "consumer"


class ShopGenerator:
    """Makes one realistic order after another for one shop; same seed, same shop."""

    def __init__(self, seed: int = 0, settings: ShopSettings | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data, not cryptography
        self.settings = settings or ShopSettings()
        self.customers: list[Customer] = []
        #: Customers by the kind of order they place, in creation order (repeat customers are
        #: drawn from here: a list per kind keeps generating linear in the number of orders).
        self._pools: dict[str, list[Customer]] = {}
        self._order_id = self.settings.first_order_id
        self._number = self.settings.first_order_number
        self._row_id = 800_000_001
        self._moment = self.settings.start
        #: How much longer than drawn the gaps between orders are (see :meth:`spread`).
        self._pace = 1.0

    def spread(self, count: int, *, start: datetime, end: datetime) -> None:
        """Date the next ``count`` orders between ``start`` and ``end``, as a shop's history
        of that span: the average gap is 95% of an even share, so the last order falls a
        little before ``end`` and none after it. The random draws stay the same, so a seed
        makes the same orders on another timeline."""
        if count <= 0 or end <= start:
            raise ValueError("spread: needs orders and an end after the start")
        minutes = (end - start).total_seconds() / 60 / count
        self.settings.start, self.settings.end = start, end
        # The gaps are drawn as always and stretched, so the draws stay the same.
        self._pace = minutes * 0.95 / self.settings.minutes_between_orders
        self._moment = start

    @property
    def api_root(self) -> str:
        return f"{self.settings.host}/api/rest/v1"

    # -- customers --------------------------------------------------------------------------------

    def _new_customer(
        self, country: str, *, business: bool = False, guest: bool = False
    ) -> Customer:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, zipcode = rng.choice(CITIES[country])
        index = len(self.customers) + 1
        local = f"{first}.{last}".lower().replace(" ", "")
        company = vat = coc = ""
        if business:
            company = f"{last.split()[-1].title()} {rng.choice(('B.V.', 'GmbH', 'SRL', 'BV'))}"
            if country != "NL":
                vat = f"{country if country != 'GR' else 'EL'}{rng.randrange(10**8, 10**9)}"
            else:
                coc = str(rng.randrange(10**7, 10**8))
        customer = Customer(
            email=f"{local}{index}@example.{country.lower() if country != 'US' else 'com'}",
            first_name=first,
            last_name=last,
            country=country,
            city=city,
            zipcode=zipcode,
            user_id=None if guest else str(24_000_000 + index),
            company=company,
            vat_number=vat,
            coc_number=coc,
        )
        self.customers.append(customer)
        self._pools.setdefault(_pool_of(customer), []).append(customer)
        return customer

    def _customer_for(self, scenario: str) -> Customer:
        rng = self.rng
        known = self._pools.get(scenario if scenario in POOLS else "consumer", [])
        if known and rng.random() < self.settings.repeat_share:
            return rng.choice(known)
        if scenario == "intra_community":
            return self._new_customer(rng.choice(("BE", "DE", "FR")), business=True)
        if scenario == "export":
            return self._new_customer(rng.choice(("US", "CH", "NO")))
        if scenario == "abroad":
            return self._new_customer(rng.choice(tuple(OSS_RATES)))
        if scenario == "b2b":
            return self._new_customer("NL", business=True)
        return self._new_customer("NL", guest=rng.random() < 0.25)

    # -- rows -------------------------------------------------------------------------------------

    def _row(
        self, product: Product, count: Decimal, tax: Decimal, gross: bool, order_id: int
    ) -> dict[str, Any]:
        rng = self.rng
        price = product.price if gross else _q(product.price * 100 / (100 + product.tax))
        attributes = []
        surcharge = ZERO
        for option_name, values in product.options:
            value_name, extra = rng.choice(values)
            extra = extra if gross else _q(extra * 100 / (100 + product.tax))
            surcharge += extra
            attributes.append((option_name, value_name, extra))
        discount = _q(price * D(rng.choice((5, 10, 15))) / 100) if rng.random() < 0.12 else ZERO
        unit = price - discount
        total = _q(count * unit)
        total_with = _q(count * (unit + surcharge))
        if rng.random() < 0.03 and count == 3 and not attributes:
            total = total_with = _q(unit * 3 - D("0.97"))  # "3 voor" bundle: not divisible by 3
        return self._row_document(
            name=product.name, number=product.number, count=count, price=price, discount=discount,
            tax=tax, total=total, total_with=total_with, surcharge=surcharge, attributes=attributes,
            order_id=order_id, product_type="product",
        )  # fmt: skip

    def _deposit_row(self, product: Product, count: Decimal, order_id: int) -> dict[str, Any]:
        total = _q(product.deposit * count)
        return self._row_document(
            name=f"Statiegeld {product.name}", number=f"{product.number}-SG", count=count,
            price=product.deposit, discount=ZERO, tax=ZERO, total=total, total_with=total,
            surcharge=ZERO, attributes=[], order_id=order_id, product_type="deposit",
        )  # fmt: skip

    def _row_document(
        self, *, name: str, number: str, count: Decimal, price: Decimal, discount: Decimal,
        tax: Decimal, total: Decimal, total_with: Decimal, surcharge: Decimal,
        attributes: list[tuple[str, str, Decimal]], order_id: int, product_type: str,
    ) -> dict[str, Any]:  # fmt: skip
        row_id = self._row_id
        self._row_id += 1
        root = self.api_root
        product_id = 845_000_000 + sum(map(ord, number))
        return {
            "href": f"{root}/orderrows/{row_id}/",
            "id": row_id,
            "order_id": order_id,
            "product_type": product_type,
            "product_name": name,
            "product_name_google": name.replace(" ", "-"),
            "product_number": number,
            "sub_product_number": "",
            "sub_sku_number": "",
            "sub_ean_number": "",
            "product_id": product_id,
            "product_href": f"{root}/products/{product_id}",
            "count": count,
            "price": price,
            "product_purchase_price": ZERO,
            "discount": discount,
            "custom_price": False,
            "tax": tax,
            "unit": "stuk",
            "weight": ZERO,
            "memo": "",
            "package_id": 1664901,
            "package_name": "Kartonnen doos",
            "stock_location": "",
            "supplier": "",
            "user_discount": ZERO,
            "original_price": price - discount,
            "selling_price": price - discount,
            "price_without_discount": price,
            "price_without_discount_with_attributes": price + surcharge,
            "total_price": total,
            "total_extra_option_price": _q(count * surcharge),
            "price_with_attributes": price - discount + surcharge,
            "total_price_with_attributes": total_with,
            "attributes": [
                {
                    "href": f"{root}/orderrowattributevalues/{row_id}{i}",
                    "id": int(f"{row_id}{i}"),
                    "option_name": option,
                    "value_name": value,
                    "price": extra,
                    "parent": {"href": f"{root}/orderrows/{row_id}"},
                }
                for i, (option, value, extra) in enumerate(attributes)
            ],
            "uploads": [],
            "parent": {"href": f"{root}/orders/{order_id}"},
        }

    # -- orders -----------------------------------------------------------------------------------

    def _scenario(self) -> str:
        roll = self.rng.random()
        for name, share in (("intra_community", 0.05), ("export", 0.04), ("abroad", 0.08),
                            ("b2b", 0.06), ("platform", 0.01)):  # fmt: skip
            if roll < share:
                return name
            roll -= share
        return "consumer"

    def _lifecycle(self) -> tuple[int | None, bool, bool]:
        """(status, paid, completed): mostly completed and paid, some not (yet)."""
        roll = self.rng.random()
        if roll < 0.80:
            return 7, True, True
        if roll < 0.87:
            return self.rng.choice((5, 6)), True, True
        if roll < 0.92:
            return 4, False, True
        if roll < 0.96:
            return 8, self.rng.random() < 0.3, True
        return None, False, False

    def next_order_number(self) -> int:
        """Claim the next order number (an order gets one when its checkout completes)."""
        number = self._number
        self._number += 1
        return number

    def full_order_number(self, number: int) -> str:
        prefix = self.settings.order_prefix
        return f"{prefix}-{number}" if prefix else str(number)

    def order(
        self,
        scenario: str | None = None,
        *,
        lifecycle: tuple[int | None, bool, bool] | None = None,
    ) -> dict[str, Any]:
        """One order document (``{"order": ..., "orderrows": ...}``).

        ``lifecycle`` = ``(status, paid, completed)`` sets what is otherwise drawn at random
        (the draw still happens, so the rest of the shop stays the same for a seed).
        """
        rng = self.rng
        scenario = scenario or self._scenario()
        customer = self._customer_for(scenario if scenario != "platform" else "consumer")
        order_id = self._order_id
        self._order_id += 1
        self._moment += timedelta(
            minutes=rng.randrange(1, 2 * self.settings.minutes_between_orders) * self._pace
        )
        if self.settings.end is not None:
            self._moment = min(self._moment, self.settings.end)
        status, paid, completed = self._lifecycle()
        if lifecycle is not None:
            status, paid, completed = lifecycle
            if status is None:
                completed = False

        zero_rated = scenario in {"intra_community", "export", "platform"}
        gross = scenario not in {"b2b", "intra_community"}
        oss_rates = (
            OSS_RATES.get(customer.country) if scenario == "abroad" and self.settings.oss else None
        )

        rows: list[dict[str, Any]] = []
        for product in rng.sample(CATALOG, rng.choice((1, 1, 2, 2, 3, 4))):
            count = D(rng.choice((1, 1, 1, 2, 2, 3, 4)))
            if zero_rated:
                tax = ZERO
            elif oss_rates is not None:
                tax = oss_rates[0] if product.tax == 21 else oss_rates[1]
            else:
                tax = product.tax
            rows.append(self._row(product, count, tax, gross, order_id))
            if product.deposit and rng.random() < 0.8:
                rows.append(self._deposit_row(product, count, order_id))

        goods = sum(
            (r["total_price_with_attributes"] for r in rows if r["product_type"] == "product"), ZERO
        )
        shipping = ZERO if goods > 75 else rng.choice((D("4.95"), D("6.95"), D("6.95"), ZERO))
        if not gross:
            shipping = _q(shipping / D("1.21"))
        paymethod_id, paymethod, paymethod_label, paymethod_costs = rng.choice(PAYMETHODS)
        coupon = {"code": "", "discount": ZERO, "type": "", "enddate": None, "onetimeuse": False,
                  "minimumprice": ZERO, "givesfreeshipping": False}  # fmt: skip
        coupon_amount = ZERO
        if rng.random() < 0.15:
            if rng.random() < 0.5:
                pct = D(rng.choice((5, 10, 15)))
                coupon.update(code=f"ZOMER{pct}", discount=pct, type="percentage")
                coupon_amount = _q(goods * pct / 100)
            else:
                value = min(D(rng.choice((5, 10))), goods)
                coupon.update(code=f"WELKOM{value}", discount=value, type="price", onetimeuse=True)
                coupon_amount = value
        cart_discount = _q(goods * D("0.05")) if rng.random() < 0.05 else ZERO
        credit_points = (
            D(rng.choice((1, 2, 5))) if customer.user_id and rng.random() < 0.05 else ZERO
        )
        extra_costs, extra_description = ZERO, ""
        if rng.random() < 0.04:
            extra_costs, extra_description = D("-2.50"), "Afhaalkorting"
        elif rng.random() < 0.03:
            extra_costs, extra_description = D("3.50"), "Cadeauverpakking"

        discounts = coupon_amount + cart_discount
        rows_total = sum((r["total_price_with_attributes"] for r in rows), ZERO)
        order_total = (
            rows_total + shipping + paymethod_costs + extra_costs - discounts - credit_points
        )
        total_tax = self._shop_vat(rows, order_total - rows_total, gross)
        total_price = order_total if gross else order_total + total_tax
        number = self.next_order_number() if completed else None
        document = self._order_document(
            order_id=order_id, number=number, status=status, paid=paid, completed=completed,
            customer=customer, gross=gross, scenario=scenario, rows_total=rows_total,
            shipping=shipping, shipping_tax=ZERO if zero_rated else D(21), discounts=discounts,
            total_price=total_price, total_tax=total_tax, paymethod=(paymethod_id, paymethod,
            paymethod_label, paymethod_costs), coupon=coupon, credit_points=credit_points,
            extra_costs=extra_costs, extra_description=extra_description,
        )  # fmt: skip
        root = self.api_root
        collection = {
            "href": f"{root}/orders/{order_id}/orderrows/",
            "start": 0,
            "size": len(rows),
            "first": f"{root}/orders/{order_id}/orderrows/?start=0&size=25",
            "previous": None,
            "next": None,
            "items": rows,
        }
        return {"order": document, "orderrows": collection}

    @staticmethod
    def _shop_vat(rows: list[dict[str, Any]], order_level: Decimal, gross: bool) -> Decimal:
        """VAT as a shop reports it: rounded per row; order-level amounts at the goods' mix
        (deposits are not goods, so they carry none of the shipping or discounts)."""
        vat = ZERO
        weights: dict[Decimal, Decimal] = {}
        for row in rows:
            total, rate = row["total_price_with_attributes"], row["tax"]
            vat += _q(total * rate / (100 + rate)) if gross else _q(total * rate / 100)
            if row["product_type"] == "product":
                weights[rate] = weights.get(rate, ZERO) + total
        weight_sum = sum(weights.values(), ZERO)
        if weight_sum:
            for rate, weight in weights.items():
                part = order_level * weight / weight_sum
                vat += _q(part * rate / (100 + rate)) if gross else _q(part * rate / 100)
        return vat

    def _order_document(
        self, *, order_id: int, number: int | None, status: int | None, paid: bool,
        completed: bool, customer: Customer, gross: bool, scenario: str, rows_total: Decimal,
        shipping: Decimal, shipping_tax: Decimal, discounts: Decimal, total_price: Decimal,
        total_tax: Decimal, paymethod: tuple[int, str, str, Decimal], coupon: dict[str, Any],
        credit_points: Decimal, extra_costs: Decimal, extra_description: str,
    ) -> dict[str, Any]:  # fmt: skip
        root = self.api_root
        prefix = self.settings.order_prefix
        full = None if number is None else self.full_order_number(number)
        paymethod_id, paymethod_name, paymethod_label, paymethod_costs = paymethod
        links = ("orderrows", "ordernotes", "ordermessages", "ordernotifications",
                 "orderaffiliatenetworks", "orderlabels", "invoices")  # fmt: skip
        document: dict[str, Any] = {
            "href": f"{root}/orders/{order_id}/",
            "id": order_id,
            "ordernumber_prefix": prefix or None,
            "ordernumber": number,
            "ordernumber_full": full,
            "invoicenumber": None,
            "transaction_id": f"tr_{self.rng.getrandbits(40):010x}" if paid else None,
            "create_date": self._moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "deliver_method": "shipping",
            "deliver_date": None,
            "take_out_window": {"start": None, "end": None},
            "is_platform_sale": scenario == "platform",
            "orderedinlng": "nl" if customer.country in {"NL", "BE"} else "en",
            "status": status,
            "is_completed": completed,
            "paid": paid,
            "safety_deposit_returned": False,
            "paymethod_id": paymethod_id,
            "paymethod": paymethod_name,
            "paymethod_label": paymethod_label,
            "taxes_included": True,
            "order_row_taxes_included": gross,
            "shipping_taxes_included": gross,
            "shipping_tax_percentage": shipping_tax,
            "is_intra_community_order": scenario == "intra_community",
            "total_orderrow_price": rows_total,
            "total_shipping": shipping,
            "total_discounts": discounts,
            "total_price": total_price,
            "currency": "EUR",
            "total_tax": total_tax,
            "total_weight": ZERO,
            "extra_payment_option": "",
            "extra_payment_option_price": ZERO,
            "extra_payment_option_no_sentprice": False,
            "extra_payment_option_pay_on_pickup": False,
            "extra_price": paymethod_costs + credit_points,
            "paymethod_costs": paymethod_costs,
            "credit_point_discount": credit_points,
            "extra_costs": extra_costs,
            "extra_costs_description": extra_description,
            "track_and_trace_code": "",
            "track_and_trace_carrier": None,
            "track_and_trace_deeplink": "",
            "reservationnumber": "",
            "delivery_option": None,
            "user": {
                "id": customer.user_id,
                "discount_percentage": ZERO,
                "href": f"{root}/users/{customer.user_id}" if customer.user_id else None,
            },
            "discountcoupon": coupon,
            "customer": _customer_block(customer),
            "pickup_address": None,
            "packing_slip_deeplink": (
                f"{self.settings.host}/onderhoud/PackingSlip.php?OrderId={order_id}"
            ),
        }
        for link in links:
            document[link] = {"href": f"{root}/orders/{order_id}/{link}/"}
        return document

    def orders(self, count: int) -> Iterator[dict[str, Any]]:
        for _ in range(count):
            yield self.order()


def _customer_block(customer: Customer) -> dict[str, Any]:
    street = "Lindenlaan" if customer.country == "NL" else "Hauptstraße"
    empty_delivery = {
        "gender": None, "full_name": "", "initials": "", "company": "", "address_line_1": "",
        "address_line_2": "", "street": "", "housenumber": None, "housenumber_suffix": "",
        "zipcode": "", "city": "", "province": "", "telephone": "", "mobile": "", "comment": "",
        "country": "", "country_code": None,
    }  # fmt: skip
    blank = ("bankaccount", "iban", "bic", "bank", "tenname", "bankname", "reference",
             "reservationnumber", "income", "branche", "branch", "website", "clubcity",
             "clubcomment", "clubname", "beurs", "fair", "stand", "booth", "carbrand", "cartype",
             "carweight", "birthplace", "cardnumber", "findus", "ssnnumber", "zzppass",
             "costcentre")  # fmt: skip
    block: dict[str, Any] = {
        "billingaddress": {
            "gender": None,
            "initials": "",
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "full_name": f"{customer.first_name} {customer.last_name}",
            "company": customer.company,
            "address_line_1": f"{street} 8",
            "address_line_2": "",
            "street": street,
            "housenumber": 8,
            "housenumber_suffix": "",
            "zipcode": customer.zipcode,
            "city": customer.city,
            "province": "",
            "telephone": "0301234567",
            "fax": "",
            "mobile": "",
            "comment": "",
            "country": COUNTRY_NAMES[customer.country],
            "country_code": customer.country,
        },
        "deliveryaddress": empty_delivery,
        "email_invoice": "",
        "email_invoice_company": "",
        "email_invoice_union": "",
        "email": customer.email,
        "customertype": "b2b" if customer.company else "b2c",
    }
    for key in blank:
        block[key] = ""
    block["btw"] = customer.vat_number
    block["kvk"] = customer.coc_number
    block["birthdate"] = None
    block["birthtime"] = None
    return block


def generate_orders(
    count: int, *, seed: int = 0, settings: ShopSettings | None = None
) -> list[dict[str, Any]]:
    """``count`` order documents of one generated shop."""
    return list(ShopGenerator(seed, settings).orders(count))
