"""Webhook endpoints: CCV Shop (token in the address) and Moneybird (its own token and a
signature).

Both answer quickly: a CCV delivery is recorded once and its order queued — the workers re-read
the order through the signed API; a Moneybird push only updates the state of one order.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ccvbird.entrypoints.web.routes.common import queue, run_in_threadpool
from ccvbird.entrypoints.web.security import Backend
from ccvbird.service.webhooks import Delivery, receive_ccv_delivery
from ccvbird.wiring.moneybird import WebhookRejected, receive_push
from ccvbird.wiring.shop import InvalidWebhookBody, ccv_trigger, shop_origin

log = logging.getLogger(__name__)

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
    try:
        received = await run_in_threadpool(
            receive_ccv_delivery, delivery, store=store, queue=queue(request)
        )
    except Exception:
        # Not queued, so not handled: CCV's retry of this delivery is queued, not a duplicate.
        log.exception("could not queue order %s of connection %s", trigger.order_id, connection_id)
        return JSONResponse(
            {"error": "the order could not be queued; send the delivery again"}, status_code=500
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
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return JSONResponse({"result": applied.value if applied else "duplicate"}, status_code=200)
