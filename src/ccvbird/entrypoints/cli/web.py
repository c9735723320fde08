"""``ccvbird web``: the web app alone (workers run elsewhere: ``ccvbird worker``/``run``)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from ccvbird import bootstrap
from ccvbird.entrypoints import worker
from ccvbird.entrypoints.cli.common import DataDir, app, console, opened
from ccvbird.entrypoints.web.serve import web_server


@app.command()
def web(
    data_dir: DataDir = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default CCVBIRD_WEB_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default CCVBIRD_WEB_PORT, 8700).")
    ] = None,
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
        settings = app_.settings
        console.print(
            f"ccvbird web on http://{server.config.host}:{server.config.port} "
            f"(public address {settings.public_url})",
            highlight=False,
        )
        server.run()
