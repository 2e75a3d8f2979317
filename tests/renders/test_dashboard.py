"""The operations dashboard (issue 12, item 4): what it counts, and who may see it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gpu_worker.params import RenderParams
from renders.dashboard import DAYS, operations_overview
from renders.models import RenderJob, Worker
from renders.plots import nice_ticks
from renders.services import Requester, render_job_submit
from renders.services.transitions import job_mark_failed
from renders.worker.execute import render_job_execute

REQUESTER = Requester(client_id="t", label="t", source="cli", sees_unpublished=True)


def _job(seed: int) -> RenderJob:
    return render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=REQUESTER,
        params=RenderParams(size=256, seed=seed),
    ).job


@pytest.fixture
def history(db, demo_catalog, settings, tmp_path, broker):
    settings.MEDIA_ROOT = tmp_path / "media"
    done = [_job(seed) for seed in (1, 2, 3)]
    for job in done:
        assert render_job_execute(job_id=job.pk, worker_name="render1@host") == "succeeded"
    for seed, code in ((4, "engine_error"), (5, "engine_error"), (6, "time_limit")):
        job_mark_failed(_job(seed), code=code, message="x")
    _job(7)  # still queued
    # One job from three days ago, succeeded.
    old = _job(8)
    assert render_job_execute(job_id=old.pk, worker_name="render1@host") == "succeeded"
    earlier = timezone.now() - timedelta(days=3)
    RenderJob.objects.filter(pk=old.pk).update(created_at=earlier, finished_at=earlier)
    return done


def test_the_overview_counts_days_statuses_durations_failures_and_fidelity(history):
    overview = operations_overview()
    assert len(overview.days) == DAYS and overview.days[-1] == timezone.now().date()
    assert overview.per_day["succeeded"][-1] == 3 and overview.per_day["succeeded"][-4] == 1
    assert overview.per_day["failed"][-1] == 3 and overview.per_day["queued"][-1] == 1
    assert (overview.finished, overview.failed) == (7, 3)
    assert overview.top_errors == [("engine_error", 2), ("time_limit", 1)]
    [procedural] = overview.durations
    assert procedural.engine == "procedural" and procedural.jobs == 4
    assert 0 < procedural.p50_s <= procedural.p95_s
    assert overview.fidelity_per_day[-1] is not None and overview.fidelity_per_day[-4] is not None
    assert overview.fidelity_per_day[0] is None
    queues = {q.queue: q.waiting for q in overview.queues}
    assert queues == {"interactive": 1, "batch": 0, "webhooks": 0}
    assert [w.name for w in overview.workers] == ["render1@host"]


def test_the_page_is_for_staff_and_draws_its_charts(history, staff_client, client):
    Worker.objects.update(last_heartbeat=timezone.now() - timedelta(minutes=5))
    page = staff_client.get("/admin/operations/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('role="img"') == 2 and "engine_error" in html and "render1@host" in html
    assert "(lost)" in html  # a worker silent for 5 minutes
    assert "Operations dashboard" in staff_client.get("/admin/").content.decode()
    assert client.get("/admin/operations/").status_code == 302  # to the login page


def test_ticks_are_round_and_reach_the_top():
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.83) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(1234)[-1] >= 1234 and nice_ticks(0) == [0.0, 1.0]
