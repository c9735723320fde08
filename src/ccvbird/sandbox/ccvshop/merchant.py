"""The sandbox shop's merchant page: what a shop owner does in CCV's backend, as buttons.

``GET /_sandbox/shop`` lists the orders with buttons to create one, mark it paid, complete it,
credit it (all of it, chosen rows, or the shipping) and cancel it, and the App Store's apps
with *Installeren* — so trying ccvbird by hand needs no curl command. Plain HTML forms posting to
``/_sandbox/shop/…``, each answered with a redirect back to the page (with what happened); the
page has its styles inline and loads nothing from elsewhere, so it works offline.

Like every ``/_sandbox`` route it is the sandbox merchant's own backend on localhost: no
sign-in and no CSRF token (a real CCV backend has both).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ccvbird.sandbox.ccvshop.shop import SandboxError, SandboxShop

PAGE = "/_sandbox/shop"
#: The kinds of customer a new order can have (the generator's scenarios).
SCENARIOS = {
    "consumer": "Consument (NL)",
    "b2b": "Bedrijf (NL)",
    "abroad": "Consument in de EU (OSS)",
    "intra_community": "Bedrijf in de EU (btw verlegd)",
    "export": "Buiten de EU (export)",
}
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f4f6f9}
header{background:#00467f;color:#fff;padding:.8rem 1.5rem}header h1{margin:0;font-size:1.2rem}
main{padding:1rem 1.5rem;max-width:72rem}section{background:#fff;border-radius:6px;
padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e7ee;vertical-align:top}
form.inline{display:inline}button{background:#00467f;color:#fff;border:0;border-radius:4px;
padding:.3rem .7rem;cursor:pointer;margin:.1rem}button.quiet{background:#fff;color:#00467f;
border:1px solid #00467f}.done{background:#e6f4ea;border-left:4px solid #1e8e3e;padding:.6rem}
.refused{background:#fdecea;border-left:4px solid #c5221f;padding:.6rem}.paid{color:#1e8e3e}
.unpaid{color:#b06000}details{margin:.2rem 0}input[type=number]{width:4rem}
label{margin-right:.8rem}code{background:#eef1f5;padding:0 .2rem}
"""


def _money(value: Any) -> str:
    try:
        return f"€ {Decimal(str(value)):.2f}".replace(".", ",")
    except (InvalidOperation, ValueError):
        return "—"


def _back(message: str, *, refused: bool = False, order_id: int | None = None) -> Response:
    query = urlencode({"refused" if refused else "done": message})
    anchor = f"#order-{order_id}" if order_id is not None else ""
    return RedirectResponse(f"{PAGE}?{query}{anchor}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    """The form's fields (``application/x-www-form-urlencoded``, what every form here sends)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def _button(action: str, label: str, *, quiet: bool = False) -> str:
    css = ' class="quiet"' if quiet else ""
    return (
        f'<form class="inline" method="post" action="{escape(action)}">'
        f"<button{css}>{escape(label)}</button></form>"
    )


class MerchantPage:
    """Renders the page from the shop's own records."""

    def __init__(self, shop: SandboxShop) -> None:
        self.shop = shop

    def render(self, done: str = "", refused: str = "") -> str:
        notice = ""
        if done:
            notice = f'<p class="done" role="status">{escape(done)}</p>'
        if refused:
            notice = f'<p class="refused" role="alert">{escape(refused)}</p>'
        return (
            '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
            f"<title>{escape(self.shop.name)} — sandbox-winkel</title>"
            f'<meta name="viewport" content="width=device-width"><style>{STYLE}</style></head>'
            f"<body><header><h1>{escape(self.shop.name)} · CCV Shop sandbox (beheer)</h1>"
            "</header><main>"
            f"{notice}{self._apps()}{self._new_order()}{self._orders()}</main></body></html>"
        )

    def _apps(self) -> str:
        apps = self.shop.apps()
        rows = "".join(
            f"<tr><td>{escape(a.name)}</td><td>{escape(a.install_uri)}</td>"
            f"<td>{'geïnstalleerd' if a.installed else 'niet geïnstalleerd'}</td><td>"
            f'<a href="/_sandbox/apps/{a.app_id}/install"><button>Installeren</button></a>'
            + (
                _button(f"{PAGE}/apps/{a.app_id}/uninstall", "Verwijderen", quiet=True)
                if a.api_public
                else ""
            )
            + "</td></tr>"
            for a in apps
        )
        table = (
            "<table><thead><tr><th>App</th><th>Installatie-adres</th><th>Staat</th><th></th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
            if apps
            else "<p>Nog geen apps in de App Store.</p>"
        )
        secret = secrets.token_hex(16)
        register = (
            f"<details{'' if apps else ' open'}><summary>Een app in de App Store zetten"
            f'</summary><form method="post" action="{PAGE}/apps">'
            '<label>Naam <input name="name" value="ccvbird" required></label>'
            '<label>Adres van de app <input name="url" value="http://127.0.0.1:8700" '
            'size="28" required></label>'
            f'<label>App-secret <input name="app_secret" value="{secret}" size="34" '
            "required></label><button>Toevoegen</button>"
            "<p>De app krijgt <code>/ccv/handshake</code>, <code>/ccv/install</code> en "
            "<code>/ccv/uninstall</code> op dat adres; geef ccvbird hetzelfde secret "
            "(<code>CCVBIRD_CCV_APP_SECRET</code>).</p></form></details>"
        )
        return f"<section><h2>App Store</h2>{table}{register}</section>"

    def _new_order(self) -> str:
        options = "".join(
            f'<option value="{key}">{escape(label)}</option>' for key, label in SCENARIOS.items()
        )
        return (
            f'<section><h2>Nieuwe bestelling</h2><form method="post" action="{PAGE}/orders">'
            f'<label>Klant <select name="scenario">{options}</select></label>'
            '<label><input type="checkbox" name="paid" value="1" checked> betaald</label>'
            '<label><input type="checkbox" name="complete" value="1" checked> afgerond '
            "(status 7)</label><button>Bestelling plaatsen</button></form></section>"
        )

    def _orders(self) -> str:
        orders = sorted(self.shop.orders(), key=lambda o: int(o["id"]), reverse=True)
        if not orders:
            return "<section><h2>Bestellingen</h2><p>Nog geen bestellingen.</p></section>"
        body = "".join(self._order(order) for order in orders)
        return (
            "<section><h2>Bestellingen</h2><table><thead><tr><th>Bestelling</th><th>Datum</th>"
            "<th>Status</th><th>Betaald</th><th>Totaal</th><th>Acties</th></tr></thead>"
            f"<tbody>{body}</tbody></table></section>"
        )

    def _order(self, order: dict[str, Any]) -> str:
        order_id = int(order["id"])
        base = f"{PAGE}/orders/{order_id}"
        status = order.get("status")
        name = self.shop.status_names.get(status, "") if isinstance(status, int) else ""
        paid = bool(order.get("paid"))
        actions = []
        if not paid:
            actions.append(_button(f"{base}/paid", "Betaald zetten"))
        if status != 7:
            actions.append(_button(f"{base}/complete", "Afronden (status 7)"))
        if status != 8:
            actions.append(_button(f"{base}/credit", "Crediteren", quiet=True))
            actions.append(
                _button(f"{base}/credit/shipping", "Verzendkosten crediteren", quiet=True)
            )
            actions.append(_button(f"{base}/cancel", "Annuleren", quiet=True))
        return (
            f'<tr id="order-{order_id}"><td>{escape(str(order.get("ordernumber_full") or ""))}'
            f"<br><small>id {order_id}</small></td>"
            f"<td>{escape(str(order.get('create_date') or '')[:16].replace('T', ' '))}</td>"
            f"<td>{escape(str(status))} {escape(name)}</td>"
            f'<td class="{"paid" if paid else "unpaid"}">{"ja" if paid else "nee"}</td>'
            f"<td>{_money(order.get('total_price'))}</td>"
            f"<td>{''.join(actions)}{self._partial(order_id, base)}</td></tr>"
        )

    def _partial(self, order_id: int, base: str) -> str:
        rows = [r for r in self.shop.order_rows(order_id) or [] if Decimal(str(r["count"])) > 0]
        if not rows:
            return ""
        fields = "".join(
            f"<label>{escape(str(r.get('product_name') or r['id']))} "
            f'<input type="number" name="row_{int(r["id"])}" min="0" '
            f'max="{escape(str(r["count"]))}" step="1" value="0"> '
            f"van {escape(str(r['count']))}</label><br>"
            for r in rows
        )
        return (
            "<details><summary>Deels crediteren (retour)</summary>"
            f'<form method="post" action="{base}/credit/rows">{fields}'
            '<label><input type="checkbox" name="shipping" value="1"> met verzendkosten</label>'
            "<button>Crediteren</button></form></details>"
        )


def add_merchant_page(app: FastAPI, shop: SandboxShop) -> None:
    """Mount the merchant page and its forms on the sandbox's app."""
    page = MerchantPage(shop)

    async def act(
        work: Callable[[], object], done: str, *, order_id: int | None = None
    ) -> Response:
        try:
            await run_in_threadpool(work)
        except (SandboxError, ValueError) as exc:
            return _back(str(exc), refused=True, order_id=order_id)
        return _back(done, order_id=order_id)

    @app.get(PAGE, response_class=HTMLResponse)
    def merchant_page(done: str = "", refused: str = "") -> HTMLResponse:
        return HTMLResponse(page.render(done, refused))

    @app.post(f"{PAGE}/orders")
    async def new_order(request: Request) -> Response:
        form = await _form(request)
        scenario = form.get("scenario") if form.get("scenario") in SCENARIOS else "consumer"
        status = 7 if form.get("complete") else 4
        made: list[int] = []

        def create() -> None:
            made.append(shop.create_order(scenario=scenario, status=status, paid=False))
            if form.get("paid"):
                shop.set_paid(made[0])  # paid after placing, as a payment provider reports it

        response = await act(create, "Bestelling geplaatst.")
        if made:
            order = shop.order(made[0]) or {}
            number = order.get("ordernumber_full") or made[0]
            return _back(f"Bestelling {number} geplaatst.", order_id=made[0])
        return response

    @app.post(f"{PAGE}/orders/{{order_id}}/paid")
    async def paid(order_id: int) -> Response:
        return await act(lambda: shop.set_paid(order_id), "Betaald gezet.", order_id=order_id)

    @app.post(f"{PAGE}/orders/{{order_id}}/complete")
    async def complete(order_id: int) -> Response:
        return await act(
            lambda: shop.set_status(order_id, 7), "Afgerond (status 7).", order_id=order_id
        )

    @app.post(f"{PAGE}/orders/{{order_id}}/credit")
    async def credit(order_id: int) -> Response:
        return await act(
            lambda: shop.credit_order(order_id), "Helemaal gecrediteerd.", order_id=order_id
        )

    @app.post(f"{PAGE}/orders/{{order_id}}/credit/shipping")
    async def credit_shipping(order_id: int) -> Response:
        return await act(
            lambda: shop.credit_shipping(order_id),
            "Verzendkosten gecrediteerd.",
            order_id=order_id,
        )

    @app.post(f"{PAGE}/orders/{{order_id}}/credit/rows")
    async def credit_rows(order_id: int, request: Request) -> Response:
        form = await _form(request)
        counts: dict[int, Decimal] = {}
        for key, value in form.items():
            if key.startswith("row_") and key[4:].isdigit():
                try:
                    count = Decimal(value or "0")
                except InvalidOperation:
                    return _back(f"{value!r} is geen aantal.", refused=True, order_id=order_id)
                if count > 0:
                    counts[int(key[4:])] = count
        shipping = bool(form.get("shipping"))
        if not counts and not shipping:
            return _back("Kies wat er gecrediteerd wordt.", refused=True, order_id=order_id)
        if not counts:
            return await act(
                lambda: shop.credit_shipping(order_id),
                "Verzendkosten gecrediteerd.",
                order_id=order_id,
            )
        return await act(
            lambda: shop.credit_rows(order_id, counts, shipping=shipping),
            "Deels gecrediteerd.",
            order_id=order_id,
        )

    @app.post(f"{PAGE}/orders/{{order_id}}/cancel")
    async def cancel(order_id: int) -> Response:
        return await act(lambda: shop.cancel_order(order_id), "Geannuleerd.", order_id=order_id)

    @app.post(f"{PAGE}/apps")
    async def register(request: Request) -> Response:
        form = await _form(request)
        url = form.get("url", "").rstrip("/")

        def add() -> None:
            shop.register_app(
                form.get("name") or "ccvbird",
                app_secret=form.get("app_secret", ""),
                handshake_uri=f"{url}/ccv/handshake",
                install_uri=f"{url}/ccv/install",
                uninstall_uri=f"{url}/ccv/uninstall",
            )

        secret = quote(form.get("app_secret", ""))
        return await act(
            add,
            f"App toegevoegd. Start ccvbird met CCVBIRD_CCV_APP_SECRET={secret} en "
            f"CCVBIRD_PUBLIC_URL={url}, en klik dan op Installeren.",
        )

    @app.post(f"{PAGE}/apps/{{app_id}}/uninstall")
    async def uninstall(app_id: int) -> Response:
        return await act(lambda: shop.uninstall_app(app_id), "App verwijderd.")
