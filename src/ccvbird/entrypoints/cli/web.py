"""``ccvbird web``: the web app alone (workers run elsewhere: ``ccvbird worker``/``run``)."""

from __future__ import annotations

from functools import partial

from ccvbird import bootstrap
from ccvbird.entrypoints import worker
from ccvbird.entrypoints.cli.common import DataDir, app, console, ensure_port_free, opened
from ccvbird.entrypoints.cli.operate import WebHost, WebPort
from ccvbird.entrypoints.logs import configure_logging
from ccvbird.entrypoints.web.serve import web_server
from ccvbird.wiring.metrics import metrics_endpoint


@app.command()
def web(
    data_dir: DataDir = None,
    host: WebHost = None,
    port: WebPort = None,
) -> None:
    """Serve the web app: App Store install, Moneybird connect, profile, dashboard, webhooks.

    Work it queues (webhooks, retries, "sync now") goes to the task queue; run `ccvbird worker`
    beside it, or use `ccvbird run` for the web app, scheduler and workers in one process.
    """
    with opened(data_dir) as app_:
        settings = app_.settings
        ensure_port_free(host or settings.web_host, port or settings.web_port, option="--port")
        configure_logging(settings.log_format)
        huey = bootstrap.task_queue(settings)
        tasks = worker.register(app_, huey)
        server = web_server(
            app_, tasks.queue(), host=host, port=port,
            queue_answers=partial(bootstrap.queue_answers, huey),
            metrics=metrics_endpoint(app_, huey, multiprocess=True).render,
        )  # fmt: skip
        console.print(
            f"ccvbird web on http://{server.config.host}:{server.config.port} "
            f"(public address {settings.public_url})",
            highlight=False,
        )
        server.run()
