"""``/healthz`` and ``/readyz`` of the web app: no sign-in, JSON, and 503 naming the part that
does not answer — a state database that cannot be opened, a task queue nobody listens on."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from ccvbird import bootstrap
from ccvbird.entrypoints.web import create_web_app
from tests.cli.conftest import free_port
from tests.web.conftest import PUBLIC_URL, RecordingQueue, settings_for


@pytest.fixture
def app(tmp_path: Path) -> Iterator[bootstrap.App]:
    built = bootstrap.build_app(settings_for(tmp_path))
    yield built
    built.close()


def client_for(
    app: bootstrap.App,
    *,
    queue_answers: Callable[[], bool],
    database_answers: Callable[[], bool] | None = None,
) -> TestClient:
    web = create_web_app(
        app, RecordingQueue(), queue_answers=queue_answers, database_answers=database_answers
    )
    return TestClient(web, base_url=PUBLIC_URL)


def sqlite_queue(app: bootstrap.App) -> Callable[[], bool]:
    return partial(bootstrap.queue_answers, bootstrap.task_queue(app.settings))


def unreachable_redis_queue(tmp_path: Path) -> Callable[[], bool]:
    settings = settings_for(tmp_path, queue_url=f"redis://127.0.0.1:{free_port()}/0")
    return partial(bootstrap.queue_answers, bootstrap.task_queue(settings))


def test_healthz_says_ok_without_signing_in(app: bootstrap.App) -> None:
    with client_for(app, queue_answers=sqlite_queue(app)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_queue_answer(app: bootstrap.App) -> None:
    with client_for(app, queue_answers=sqlite_queue(app)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_readyz_is_503_naming_the_database_when_it_cannot_be_reached(
    app: bootstrap.App, tmp_path: Path
) -> None:
    missing = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'state.sqlite3'}")
    broken = dataclasses.replace(app, sessions=sessionmaker(bind=missing))
    with client_for(
        app,
        queue_answers=sqlite_queue(app),
        database_answers=partial(bootstrap.database_answers, broken),
    ) as client:
        response = client.get("/readyz")
        alive = client.get("/healthz")
    missing.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "failed", "database": "failed", "queue": "ok"}
    assert alive.status_code == 200  # alive all the same: no restart for a database outage


def test_readyz_is_503_naming_the_queue_when_it_does_not_answer(
    app: bootstrap.App, tmp_path: Path
) -> None:
    with client_for(app, queue_answers=unreachable_redis_queue(tmp_path)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    # Which part failed, and nothing else: no error text, host or port.
    assert response.json() == {"status": "failed", "database": "ok", "queue": "failed"}
