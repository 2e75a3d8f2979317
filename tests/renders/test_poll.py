"""The status poll: ETags and 304s, finished jobs answered from memory, the long poll."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gpu_worker.params import RenderParams
from renders.api import poll
from renders.models import RenderJob
from renders.services import Requester, render_job_submit
from renders.services.notify import job_channel, render_job_notify
from renders.worker.execute import render_job_execute
from tests.loopback import gunicorn_server, shared_database_url


@pytest.fixture(autouse=True)
def fresh_memory():
    poll.finished_jobs.clear()
    yield
    poll.finished_jobs.clear()


def requester_of(client) -> Requester:
    return Requester(client_id=client.api_key.client_id, label="test", source="api")


def submit(client, seed: int = 1) -> RenderJob:
    """A job the client asked for (a client reads only those)."""
    return render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=requester_of(client),
        params=RenderParams(size=256, seed=seed),
        dispatch=False,
    ).job


def test_an_unchanged_job_is_a_bodiless_304(render_client, demo_catalog):
    job = submit(render_client)
    url = f"/api/v1/renders/{job.pk}/"
    first = render_client.get(url)
    etag = first.headers["ETag"]
    again = render_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert render_client.get(url, headers={"If-None-Match": f'W/{etag}, "x"'}).status_code == 304
    RenderJob.objects.filter(pk=job.pk).update(progress=40)
    changed = render_client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["progress"] == 40
    assert changed.headers["ETag"] != etag


def test_a_finished_job_is_answered_without_the_database(render_client, demo_catalog):
    job = submit(render_client)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"
    url = f"/api/v1/renders/{job.pk}/"
    first = render_client.get(url).json()
    assert first["status"] == "succeeded" and "timeline" not in first["telemetry"]
    with CaptureQueriesContext(connection) as queries:
        again = render_client.get(url)
    assert again.json() == first
    assert not [q for q in queries.captured_queries if "renders_renderjob" in q["sql"]]
    # The sample timeline only when asked for.
    expanded = render_client.get(url + "?expand=telemetry").json()
    assert expanded["telemetry"]["timeline"]


def test_a_long_poll_answers_as_soon_as_the_job_moves(
    transactional_db, render_client, demo_catalog, broker
):
    job = submit(render_client)
    RenderJob.objects.filter(pk=job.pk).update(status="running", progress=10)
    url = f"/api/v1/renders/{job.pk}/?wait=20"

    def move() -> None:
        time.sleep(0.5)
        RenderJob.objects.filter(pk=job.pk).update(progress=30)
        render_job_notify(job_ids=[job.pk])

    mover = threading.Thread(target=move)
    started = time.monotonic()
    mover.start()
    answer = render_client.get(url)
    mover.join()
    took = time.monotonic() - started
    assert answer.json()["progress"] == 30
    assert 0.4 < took < 5, took


def test_a_long_poll_with_an_old_etag_answers_at_once(render_client, demo_catalog, broker):
    job = submit(render_client)
    RenderJob.objects.filter(pk=job.pk).update(status="running", progress=10)
    url = f"/api/v1/renders/{job.pk}/"
    old = render_client.get(url).headers["ETag"]
    RenderJob.objects.filter(pk=job.pk).update(progress=20)
    started = time.monotonic()
    answer = render_client.get(url + "?wait=20", headers={"If-None-Match": old})
    assert answer.json()["progress"] == 20 and time.monotonic() - started < 2


def test_a_long_poll_without_a_change_ends_after_its_wait(render_client, demo_catalog, broker):
    job = submit(render_client)
    started = time.monotonic()
    answer = render_client.get(f"/api/v1/renders/{job.pk}/?wait=1")
    assert answer.status_code == 200 and 0.9 < time.monotonic() - started < 4


def test_a_finished_job_never_waits(render_client, demo_catalog, broker):
    job = submit(render_client)
    render_job_execute(job_id=job.pk, worker_name="w1")
    started = time.monotonic()
    assert render_client.get(f"/api/v1/renders/{job.pk}/?wait=30").status_code == 200
    assert time.monotonic() - started < 2


def test_when_every_waiting_slot_is_taken_a_long_poll_answers_at_once(
    render_client, demo_catalog, broker, monkeypatch
):
    job = submit(render_client)
    monkeypatch.setattr(poll, "_waiters", threading.BoundedSemaphore(1))
    assert poll._waiters.acquire(blocking=False)  # someone else is waiting
    started = time.monotonic()
    answer = render_client.get(f"/api/v1/renders/{job.pk}/?wait=30")
    assert answer.status_code == 200 and answer.headers["Retry-After"] == "1"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("wait", ["31", "-1", "1.5", "٣", "999", ""])
def test_a_bad_wait_is_a_400_naming_it(render_client, demo_catalog, wait):
    job = submit(render_client)
    answer = render_client.get(f"/api/v1/renders/{job.pk}/?wait={wait}")
    assert answer.status_code == 400
    assert "wait must be a whole number of seconds, 0..30" in answer.content.decode()


def test_a_running_job_is_one_narrow_query(render_client, demo_catalog):
    job = submit(render_client)
    RenderJob.objects.filter(pk=job.pk).update(status="running", progress=10)
    url = f"/api/v1/renders/{job.pk}/"
    render_client.get(url)  # the key is verified and remembered
    with CaptureQueriesContext(connection) as queries:
        body = render_client.get(url).json()
    reads = [q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"]]
    assert len(reads) == 1 and "renders_rendertelemetry" not in reads[0]
    assert (body["status"], body["progress"], body["product"]) == ("running", 10, "SQ-500-30")
    assert body["telemetry"] is None and body["result"] is None


def test_a_storefront_sees_no_worker_hosts_or_library_versions(
    render_client, staff_client, demo_catalog
):
    job = submit(render_client)
    assert render_job_execute(job_id=job.pk, worker_name="render1@gpu-host-3") == "succeeded"
    url = f"/api/v1/renders/{job.pk}/"
    staff = staff_client.get(url).json()
    assert staff["worker"] == "render1@gpu-host-3" and staff["telemetry"]["versions"]
    client = render_client.get(url).json()  # after staff's body was remembered
    assert client["worker"] == "" and client["telemetry"]["versions"] == {}
    assert "gpu-host-3" not in str(client)
    # Error messages name the worker that was lost; a client reads "a worker".
    RenderJob.objects.filter(pk=job.pk).update(
        status="failed",
        error_code="worker_lost",
        error_message="worker render1@gpu-host-3 stopped heartbeating; gave up.",
    )
    poll.finished_jobs.clear()
    lost = render_client.get(url).json()["error"]["message"]
    assert lost == "a worker stopped heartbeating; gave up."


def test_expanding_anything_but_telemetry_is_a_400_naming_it(render_client, demo_catalog):
    job = submit(render_client)
    answer = render_client.get(f"/api/v1/renders/{job.pk}/?expand=telemetry,timeline")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["expand"] == ["cannot expand timeline; only: telemetry"]


def test_a_waiting_long_poll_gives_its_process_turn_to_other_requests(
    transactional_db, render_client, demo_catalog, broker, broker_url, tmp_path
):
    """Under gunicorn as production runs it, with one process working on one request at a
    time: while a long poll waits, the process still answers others."""
    job = submit(render_client)
    RenderJob.objects.filter(pk=job.pk).update(status="running", progress=10)
    env = {
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": broker_url,
        "PLITKA_VAR_DIR": str(tmp_path),
        "GUNICORN_REQUESTS_AT_ONCE": "1",
    }
    log = tmp_path / "server.log"
    with gunicorn_server(env=env, log=log, processes=1, threads=3) as url:
        status_url = f"{url}/api/v1/renders/{job.pk}/"
        auth = {"Authorization": f"Api-Key {render_client.plaintext}"}

        def get(address: str) -> dict:
            request = urllib.request.Request(address, headers=auth)
            with urllib.request.urlopen(request, timeout=25) as answer:
                return dict(json.load(answer))

        waited: list[dict] = []
        long_poll = threading.Thread(target=lambda: waited.append(get(f"{status_url}?wait=20")))
        long_poll.start()
        deadline = time.monotonic() + 10
        while broker.pubsub_numsub(job_channel(job.pk))[0][1] == 0:
            assert time.monotonic() < deadline, "the long poll never subscribed"
            time.sleep(0.05)
        time.sleep(0.2)  # past its last look at the row: waiting on Redis now
        # Served while the long poll still waits; if the long poll kept the process's only
        # turn, this would wait in the listen queue until the long poll's 20 s ran out.
        assert get(status_url)["progress"] == 10
        assert long_poll.is_alive() and not waited
        RenderJob.objects.filter(pk=job.pk).update(progress=30)
        render_job_notify(job_ids=[job.pk])
        long_poll.join(timeout=25)
        assert waited and waited[0]["progress"] == 30
    assert "Traceback" not in log.read_text()
