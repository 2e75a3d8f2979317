"""Redis that accepts connections and never answers (issue 11: POST /renders/ blocked for
minutes). The submit still answers 201 within a second, with the job queued for the
reconciler, and the requests after it do not wait for Redis at all."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from renders.models import RenderJob

BODY = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256}


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A TCP server that accepts every connection, reads, and never writes a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_submit_answers_within_a_second_when_redis_never_answers(
    transactional_db, demo_catalog, render_client, settings, silent_redis
):
    from plitka_site.celery import app

    original = app.conf["broker_url"]
    settings.CELERY_BROKER_URL = silent_redis
    app.conf["broker_url"] = silent_redis
    try:
        started = time.monotonic()
        response = render_client.post("/api/v1/renders/", BODY, format="json")
        first = time.monotonic() - started
        started = time.monotonic()
        again = render_client.post("/api/v1/renders/", {**BODY, "seed": 2}, format="json")
        second = time.monotonic() - started
    finally:
        app.conf["broker_url"] = original
    assert response.status_code == 201 and again.status_code == 201
    # Generous bounds, not a benchmark: the old code blocked for minutes. The first pays
    # one Redis timeout (the rate limit's); then Redis is known to be away for a while.
    assert first < 1.5, first
    assert second < 0.5, second
    jobs = RenderJob.objects.all()
    assert [job.status for job in jobs] == ["queued", "queued"]
    assert all(job.dispatched_at is None for job in jobs)  # left for the reconciler
