"""Render tests run against the real Redis (a database of its own) and a real worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
import redis

from tests.loopback import redis_test_db

# A Redis database that only the tests use, so a running `make run` stack is left alone.
TEST_REDIS_DB = redis_test_db("renders")
# Everything `make run` has workers consume: the render queues, maintenance and webhooks.
WORKER_QUEUES = ["render.interactive", "render.batch", "maintenance", "webhooks"]


def _with_db(url: str, db: int) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    from django.conf import settings

    from plitka_site.celery import app

    url = _with_db(settings.REDIS_URL, TEST_REDIS_DB)
    redis.Redis.from_url(url).ping()  # fail loudly: these tests need the real Redis
    original = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = url
    app.conf["broker_url"] = url  # conf.broker_url is a read-only property over this key
    yield url
    settings.CELERY_BROKER_URL = original
    app.conf["broker_url"] = original


@pytest.fixture
def broker(broker_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    return settings.MEDIA_ROOT


@pytest.fixture
def celery_worker_live(
    transactional_db: Any, broker: redis.Redis, demo_catalog: Any
) -> Iterator[Any]:
    """A real Celery worker consuming the render queues from Redis, in a thread."""
    from celery.contrib.testing.worker import start_worker

    from plitka_site.celery import app

    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        queues=WORKER_QUEUES,
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker


def wait_for(predicate: Callable[[], Any], *, timeout: float = 60.0, every: float = 0.05) -> Any:
    """Poll until predicate() is truthy; the failure says what it was waiting for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(
        f"timed out after {timeout} s waiting for {predicate.__doc__ or predicate}"
    )


@pytest.fixture
def submit(request: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a render as `client` (the test module's BODY unless told) and run what waits
    for the commit, as the request's end would: the dispatch to the broker."""

    def call(client: Any, body: dict[str, Any] | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/renders/", body or request.module.BODY, format="json")

    return call
