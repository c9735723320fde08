"""A small JSON API (signed-in, same access rules as the pages): a connection's status and
its orders, for scripts and for pages that refresh parts of themselves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ccvbird.entrypoints.web.routes.dashboard import overview
from ccvbird.entrypoints.web.security import Backend, ConnectionId

router = APIRouter(prefix="/api")


@router.get("/connections/{connection_id}")
def status(connection_id: ConnectionId, backend: Backend) -> dict[str, Any]:
    view = overview(backend, connection_id)
    progress = backend.imports.latest(connection_id)
    return {
        "id": connection_id,
        "name": view.connection.name,
        "paused_reason": view.connection.paused_reason,
        "enabled": view.connection.enabled,
        "orders": view.counts,
        "last_sync_at": view.connection.last_sync_at,
        "last_error": view.connection.last_error,
        "last_error_at": view.connection.last_error_at,
        "next_sync_at": view.next_sync,
        "moneybird_budget": (
            {"used": view.budget[0], "limit": view.budget[1], "window_seconds": view.budget[2]}
            if view.budget
            else None
        ),
        "import": (
            {"running": progress.running, "done": progress.done, "total": progress.total,
             "outcomes": dict(progress.outcomes), "error": progress.error}
            if progress else None
        ),
    }  # fmt: skip


@router.get("/connections/{connection_id}/orders")
def orders(
    connection_id: ConnectionId, backend: Backend, q: str = "", limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    records = backend.app.store.records(
        connection_id, search=q.strip(), limit=min(max(limit, 1), 500), offset=max(offset, 0)
    )
    return [
        {"order_id": r.order_id, "order_number": r.order_number, "state": r.state.value,
         "reason": r.reason, "invoice_number": r.invoice_number,
         "booked_total": str(r.booked_total) if r.booked_total is not None else None}
        for r in records
    ]  # fmt: skip
