"""Webhook endpoints: CCV Shop (token in the address) and Moneybird (token and signature).

Both answer quickly: a CCV delivery is recorded once and its order queued — the workers re-read
the order through the signed API; a Moneybird push only updates the state of one order.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ccvbird.entrypoints.web.routes.common import queue, run_in_threadpool
from ccvbird.entrypoints.web.security import Backend
from ccvbird.service.webhooks import Delivery, receive_ccv_delivery
from ccvbird.wiring.moneybird import WebhookRejected, receive_push
from ccvbird.wiring.shop import InvalidWebhookBody, ccv_trigger, shop_origin

router = APIRouter()


@router.post("/webhooks/ccv/{token}")
@router.post("/webhooks/ccv/{token}/{event}")
async def ccv_webhook(
    request: Request, token: str, backend: Backend, event: str | None = None
) -> Response:
    store = backend.app.store
    connection_id = store.connection_for_webhook_token(token)
    if connection_id is None:
        return JSONResponse({"error": "unknown webhook address"}, status_code=404)
    raw = await request.body()
    try:
        trigger = ccv_trigger(raw, event)
    except InvalidWebhookBody as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    connection = store.connection(connection_id)
    if trigger.shop != shop_origin(connection.shop_url):
        return JSONResponse({"error": "the delivery is about another shop"}, status_code=400)
    if not connection.enabled:
        return JSONResponse({"result": "ignored: the app is uninstalled"}, status_code=200)
    if not backend.installs.setup(connection_id).has_administration:
        # Nothing can be booked before Moneybird is connected; polling catches up afterwards.
        return JSONResponse({"result": "ignored: setup is not finished"}, status_code=200)
    delivery = Delivery(connection_id, trigger.event, trigger.order_id, raw)
    received = await run_in_threadpool(
        receive_ccv_delivery, delivery, store=store, queue=queue(request)
    )
    return JSONResponse({"result": received.value}, status_code=202)


@router.get("/webhooks/moneybird/{token}")
def moneybird_probe(token: str) -> Response:
    """Moneybird checks that the address answers 200 when the webhook is registered."""
    return PlainTextResponse("ok")


@router.post("/webhooks/moneybird/{token}")
async def moneybird_webhook(request: Request, token: str, backend: Backend) -> Response:
    raw = await request.body()
    try:
        applied = await run_in_threadpool(receive_push, backend, token, dict(request.headers), raw)
    except WebhookRejected as exc:
        return JSONResponse({"error": str(exc)}, status_code=401)
    return JSONResponse({"result": applied.value if applied else "duplicate"}, status_code=200)
