"""/metrics: what operators scrape, for staff or the metrics token only."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from gpu_worker.params import RenderParams
from renders.services import Requester, render_job_submit
from renders.worker.execute import render_job_execute

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


def scrape(client: Client, **headers: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def test_only_staff_or_the_token_read_the_metrics(db, settings, staff_client, render_client):
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 403
    assert render_client.get("/metrics").status_code == 403  # an API key is no operator
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert (
        Client().get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code
        == 200
    )
    assert staff_client.get("/metrics").status_code == 200
    assert staff_client.post("/metrics").status_code == 405
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


@pytest.mark.django_db
def test_jobs_queues_durations_and_workers_are_counted(
    demo_catalog, broker, staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        done = render_job_submit(
            product_sku="SQ-500-30",
            recipe="RED:60,BLACK:40",
            requester=REQUESTER,
            params=RenderParams(size=256, seed=1),
        ).job
        render_job_submit(
            product_sku="SQ-500-30",
            recipe="RED:50,BLACK:50",
            requester=REQUESTER,
            params=RenderParams(size=256, seed=2),
            queue="batch",
        )
    assert render_job_execute(job_id=done.pk, worker_name="w1") == "succeeded"
    samples = scrape(staff_client)
    jobs = {
        (labels["status"], labels["engine"]): value
        for labels, value in samples["plitka_render_jobs"]
    }
    assert jobs == {("succeeded", "procedural"): 1, ("queued", "procedural"): 1}
    waiting = {labels["queue"]: value for labels, value in samples["plitka_queue_jobs_waiting"]}
    assert waiting == {"interactive": 0, "batch": 1, "webhooks": 0}
    messages = {labels["queue"]: value for labels, value in samples["plitka_queue_messages"]}
    assert messages["batch"] == 1 and messages["interactive"] == 1  # the first one's message
    buckets = {
        labels["le"]: value
        for labels, value in samples["plitka_render_duration_seconds_bucket"]
        if labels["engine"] == "procedural"
    }
    assert buckets["+Inf"] == 1 and buckets["900.0"] == 1
    assert samples["plitka_queue_wait_seconds_count"][0][1] == 1
    assert samples["plitka_render_duration_seconds_sum"][0][1] > 0
    # The worker that ran it is listed with its heartbeat's age and memory.
    age = samples["plitka_worker_heartbeat_age_seconds"]
    assert [labels["worker"] for labels, _ in age] == ["w1"] and 0 <= age[0][1] < 60
    kinds = {labels["kind"] for labels, _ in samples["plitka_worker_memory_megabytes"]}
    assert "rss" in kinds
