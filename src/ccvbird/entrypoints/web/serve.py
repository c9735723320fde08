"""Serving the web app with uvicorn: alone (``ccvbird web``) or beside the workers
(``ccvbird run`` runs :func:`web_server`'s ``serve()`` next to the Huey consumer)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import uvicorn

from ccvbird.bootstrap import App
from ccvbird.entrypoints.health import MetricsRender
from ccvbird.entrypoints.logs import configure_logging, uvicorn_log_config
from ccvbird.entrypoints.web.factory import create_web_app
from ccvbird.ports import Queue


def web_server(
    app: App,
    queue: Queue,
    *,
    host: str | None = None,
    port: int | None = None,
    queue_answers: Callable[[], bool] | None = None,
    metrics: MetricsRender | None = None,
) -> uvicorn.Server:
    """An unstarted uvicorn server for the web app (``.run()``, or ``await .serve()``).

    uvicorn's access log is off: it prints whole URLs, and the webhook addresses and OAuth
    callbacks carry tokens. The app logs every request itself, by route template instead.
    """
    if not logging.getLogger().handlers:
        configure_logging(app.settings.log_format)
    config = uvicorn.Config(
        create_web_app(app, queue, queue_answers=queue_answers, metrics=metrics),
        host=host or app.settings.web_host,
        port=port or app.settings.web_port,
        access_log=False,
        proxy_headers=True,
        log_level="info",
        log_config=uvicorn_log_config(app.settings.log_format),
    )
    return uvicorn.Server(config)
