"""Shared renders per client (issue 11, item 6): identical requests share one job, but each
client has its own request: in its own list, readable by it alone, canceled on its own."""

from __future__ import annotations

import pytest

from renders.api import poll
from renders.models import RenderJob, RenderRequest
from renders.worker.execute import render_job_execute
from tests.conftest import key_client

BODY = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256, "seed": 5}


@pytest.fixture
def clients(db, demo_catalog, broker):
    poll.finished_jobs.clear()
    yield key_client("shop-a", "render"), key_client("shop-b", "render")
    poll.finished_jobs.clear()


def listed(client) -> list[str]:
    return [job["id"] for job in client.get("/api/v1/renders/").json()["results"]]


def test_a_shared_job_is_in_each_askers_list_and_readable_only_by_them(clients, submit):
    a, b = clients
    made = submit(a)
    shared = submit(b)
    assert (made.status_code, shared.status_code) == (201, 200)
    job = made.json()["id"]
    assert shared.json()["id"] == job and RenderJob.objects.count() == 1
    assert listed(a) == [job] and listed(b) == [job]
    assert b.get(f"/api/v1/renders/{job}/").status_code == 200
    for stranger in (key_client("stranger", "render"), key_client("reader", "read")):
        assert listed(stranger) == []
        assert stranger.get(f"/api/v1/renders/{job}/").status_code == 404
        assert stranger.post(f"/api/v1/renders/{job}/cancel/").status_code in (403, 404)
    assert RenderJob.objects.get().status == "queued"


def test_canceling_withdraws_only_that_clients_interest(clients, submit):
    a, b = clients
    job = submit(a).json()["id"]
    submit(b)
    # A changes its mind: its request is over, the render goes on for B.
    answer = a.post(f"/api/v1/renders/{job}/cancel/")
    assert answer.status_code == 200
    assert answer.json()["status"] == "canceled"
    assert answer.json()["error"]["code"] == "canceled"
    assert a.get(f"/api/v1/renders/{job}/").json()["status"] == "canceled"
    assert a.post(f"/api/v1/renders/{job}/cancel/").status_code == 200  # twice is fine
    assert RenderJob.objects.get().status == "queued"
    assert b.get(f"/api/v1/renders/{job}/").json()["status"] == "queued"
    # Nobody waits any more: the render stops.
    assert b.post(f"/api/v1/renders/{job}/cancel/").json()["status"] == "canceled"
    assert RenderJob.objects.get().status == "canceled"


def test_a_running_job_goes_on_while_someone_waits(clients, submit):
    a, b = clients
    job = submit(a).json()["id"]
    submit(b)
    RenderJob.objects.filter(pk=job).update(status="running", progress=30)
    a.post(f"/api/v1/renders/{job}/cancel/")
    assert RenderJob.objects.get().cancel_requested is False
    b.post(f"/api/v1/renders/{job}/cancel/")
    assert RenderJob.objects.get().cancel_requested is True  # stops at its next step


def test_asking_again_after_withdrawing_waits_again(clients, submit):
    a, b = clients
    job = submit(a).json()["id"]
    submit(b)
    a.post(f"/api/v1/renders/{job}/cancel/")
    again = submit(a)
    assert again.status_code == 200 and again.json()["id"] == job
    assert again.json()["status"] == "queued"
    assert a.get(f"/api/v1/renders/{job}/").json()["status"] == "queued"
    b.post(f"/api/v1/renders/{job}/cancel/")
    assert RenderJob.objects.get().status == "queued"  # A waits for it again


def test_staff_cancel_the_job_for_everyone(clients, submit, staff_client):
    a, b = clients
    job = submit(a).json()["id"]
    submit(b)
    assert staff_client.post(f"/api/v1/renders/{job}/cancel/").json()["status"] == "canceled"
    assert RenderJob.objects.get().status == "canceled"
    assert b.get(f"/api/v1/renders/{job}/").json()["status"] == "canceled"


def test_a_finished_job_cannot_be_withdrawn_and_is_remembered_per_client(clients, submit):
    a, b = clients
    job = submit(a).json()["id"]
    assert render_job_execute(job_id=job, worker_name="w1") == "succeeded"
    assert a.get(f"/api/v1/renders/{job}/").json()["status"] == "succeeded"  # remembered now
    assert a.post(f"/api/v1/renders/{job}/cancel/").status_code == 409
    # The remembered body is A's: B, which never asked, still gets nothing.
    assert b.get(f"/api/v1/renders/{job}/").status_code == 404
    # B asks for the same render: answered by the finished job, now B's too.
    shared = submit(b)
    assert shared.status_code == 200 and shared.json()["result"]["image"]
    assert b.get(f"/api/v1/renders/{job}/").json()["status"] == "succeeded"


def test_a_withdrawn_request_sees_no_result_when_the_render_finishes_for_others(clients, submit):
    a, b = clients
    job = submit(a).json()["id"]
    submit(b)
    a.post(f"/api/v1/renders/{job}/cancel/")
    assert render_job_execute(job_id=job, worker_name="w1") == "succeeded"
    mine = a.get(f"/api/v1/renders/{job}/").json()
    assert (mine["status"], mine["result"]) == ("canceled", None)
    theirs = b.get(f"/api/v1/renders/{job}/").json()
    assert theirs["status"] == "succeeded" and theirs["result"]["image"]
    # Asking again hands A the finished picture at once.
    assert submit(a).json()["status"] == "succeeded"


def test_each_client_has_one_request_however_often_it_asks(clients, submit):
    a, _ = clients
    for _ in range(3):
        submit(a)
    assert RenderRequest.objects.count() == 1
