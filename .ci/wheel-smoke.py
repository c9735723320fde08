"""Run by .ci/wheel-check with the wheel's Python: ccvbird is the installed one, and its web
app finds its templates, static files and Dutch catalog."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx

import ccvbird
from ccvbird import bootstrap
from ccvbird.entrypoints import worker
from ccvbird.entrypoints.web import create_web_app

venv = Path(sys.argv[1]).resolve()
where = Path(ccvbird.__file__).resolve()
assert venv in where.parents, f"ccvbird was imported from {where}, not from the wheel in {venv}"


async def pages(app: bootstrap.App) -> None:
    tasks = worker.register(app, bootstrap.task_queue(app.settings))
    web = create_web_app(app, tasks.queue())
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://ccvbird.test") as client:
        page = await client.get("/first-start")
        assert page.status_code == 200, page.status_code
        # The Dutch of "Welcome to ccvbird": the catalog (messages.po) was found.
        assert "Welkom bij ccvbird" in page.text, page.text[:500]
        style = await client.get("/static/style.css")
        assert style.status_code == 200, style.status_code
        assert (await client.get("/healthz")).json() == {"status": "ok"}


with tempfile.TemporaryDirectory() as data_dir:
    app = bootstrap.build_app(bootstrap.load_settings(data_dir=Path(data_dir)))
    try:
        asyncio.run(pages(app))
    finally:
        app.close()
print("ccvbird: web app from the wheel: templates, catalog and static files found")
