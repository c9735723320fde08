"""``ccvbird web``: the web app alone (workers run elsewhere: ``ccvbird worker``/``run``)."""

from __future__ import annotations

from functools import partial

from ccvbird import bootstrap
from ccvbird.entrypoints import worker
from ccvbird.entrypoints.cli.common import DataDir, app, console, ensure_port_free, opened
from ccvbird.entrypoints.cli.operate import WebHost, WebPort
from ccvbird.entrypoints.web.serve import web_server


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
        huey = bootstrap.task_queue(app_.settings)
        tasks = worker.register(app_, huey)
        server = web_server(
            app_, tasks.queue(), host=host, port=port,
            queue_answers=partial(bootstrap.queue_answers, huey),
        )  # fmt: skip
        ensure_port_free(server.config.host, server.config.port, option="--port")
        settings = app_.settings
        console.print(
            f"ccvbird web on http://{server.config.host}:{server.config.port} "
            f"(public address {settings.public_url})",
            highlight=False,
        )
        server.run()
