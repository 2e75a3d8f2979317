"""The beat sweep: lost workers, lost messages, and what is still waiting in Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.services import (
    Requester,
    render_job_dispatch,
    render_job_submit,
    render_jobs_reconcile,
)
from renders.worker.broker import live_job_ids

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


@pytest.fixture
def job(db, demo_catalog, broker):
    return render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:100",
        requester=REQUESTER,
        params=RenderParams(size=256, seed=1),
    ).job


def test_live_job_ids_reads_the_real_queue(job):
    assert render_job_dispatch(job_id=job.pk)
    assert str(job.pk) in live_job_ids()


def test_a_queued_job_without_a_message_is_sent_again(job, broker):
    old = timezone.now() - timedelta(hours=1)
    RenderJob.objects.filter(pk=job.pk).update(created_at=old, dispatched_at=old)
    report = render_jobs_reconcile()
    assert report.redispatched == [str(job.pk)]
    assert str(job.pk) in live_job_ids()
    # Its message is now in Redis: the next sweep leaves it alone.
    RenderJob.objects.filter(pk=job.pk).update(dispatched_at=old)
    assert render_jobs_reconcile().redispatched == []


def test_a_running_job_of_a_dead_worker_is_requeued_then_failed_at_the_cap(job, settings):
    stale = timezone.now() - timedelta(seconds=settings.RENDER_HEARTBEAT_STALE_S + 5)
    RenderJob.objects.filter(pk=job.pk).update(
        status="running", worker="w-dead", attempts=1, started_at=stale, heartbeat_at=stale
    )
    with_commit = render_jobs_reconcile()
    assert with_commit.requeued == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == "queued"
    assert "w-dead stopped heartbeating" in job.error_message

    RenderJob.objects.filter(pk=job.pk).update(
        status="running", attempts=settings.RENDER_MAX_ATTEMPTS, heartbeat_at=stale
    )
    report = render_jobs_reconcile()
    assert report.failed == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code == "worker_lost"


def test_a_healthy_running_job_is_left_alone(job):
    RenderJob.objects.filter(pk=job.pk).update(
        status="running", worker="w1", attempts=1, heartbeat_at=timezone.now()
    )
    report = render_jobs_reconcile(live_job_ids=set())
    assert (report.requeued, report.failed, report.redispatched) == ([], [], [])


def test_a_dead_worker_is_noticed_within_seconds_and_a_slow_beat_is_not(job, settings):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from renders.worker.execute import HEARTBEAT_EVERY_S

    # The schedule as renders.0002 made it, then the migration that speeds it up (tests
    # that flush the database take the migrations' rows with them, so it is made here).
    every_30, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Reconcile render jobs", defaults={"task": "renders.reconcile", "interval": every_30}
    )
    importlib.import_module("renders.migrations.0011_reconcile_every_5s").faster(apps, None)
    # Staleness plus the sweep's period is the longest a dead worker's job waits (issue 11:
    # 90 s). A live job beats every HEARTBEAT_EVERY_S; several missed beats are needed.
    sweep = PeriodicTask.objects.get(name="Reconcile render jobs").interval
    assert (sweep.every, sweep.period) == (5, "seconds")
    assert settings.RENDER_HEARTBEAT_STALE_S + sweep.every <= 15
    assert settings.RENDER_HEARTBEAT_STALE_S >= 4 * HEARTBEAT_EVERY_S

    now = timezone.now()
    RenderJob.objects.filter(pk=job.pk).update(
        status="running", worker="w-slow", attempts=1, heartbeat_at=now - timedelta(seconds=6)
    )
    assert render_jobs_reconcile(live_job_ids=set()).requeued == []
    RenderJob.objects.filter(pk=job.pk).update(heartbeat_at=now - timedelta(seconds=11))
    assert render_jobs_reconcile(live_job_ids=set()).requeued == [str(job.pk)]
