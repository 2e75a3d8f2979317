"""The worker side of a job: claim, render, store, record; repeat-safe."""

from __future__ import annotations

import errno
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import CatalogImage
from gpu_worker.params import RenderParams
from renders import storage as storage_module
from renders.models import RenderJob, RenderTelemetry
from renders.services import Requester, render_job_submit
from renders.worker import execute as execute_module
from renders.worker.execute import render_job_execute

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


@pytest.fixture
def job(db, demo_catalog, broker):
    return render_job_submit(
        product_sku="PZ-500-30",
        recipe="GRNAPL:30,YELLOW:30,BLUE:40",
        requester=REQUESTER,
        params=RenderParams(view="top", angle=15, size=256, seed=5),
    ).job


def test_running_a_job_twice_does_the_work_once(job):
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"
    job.refresh_from_db()
    first_finish = job.finished_at
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "skipped"
    assert render_job_execute(job_id=job.pk, worker_name="w2") == "skipped"
    job.refresh_from_db()
    assert job.attempts == 1
    assert job.finished_at == first_finish
    assert RenderTelemetry.objects.count() == 1
    assert CatalogImage.objects.count() == 1


def test_every_progress_step_the_engine_reports_reaches_the_row(job, monkeypatch):
    reported: list[tuple[int, int]] = []
    real = execute_module._JobHooks.progress

    def spy(self, percent):
        real(self, percent)
        stored = RenderJob.objects.values_list("progress", flat=True).get(pk=job.pk)
        reported.append((int(percent), stored))

    monkeypatch.setattr(execute_module._JobHooks, "progress", spy)
    render_job_execute(job_id=job.pk, worker_name="w1")
    assert len(reported) >= 5
    assert all(percent == stored for percent, stored in reported), reported
    assert reported[-1] == (100, 100)
    job.refresh_from_db()
    assert job.first_progress_at is not None


def test_a_live_duplicate_is_skipped_but_a_dead_one_is_taken_over(job):
    RenderJob.objects.filter(pk=job.pk).update(
        status="running", worker="w-other", attempts=1, heartbeat_at=timezone.now()
    )
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "skipped"
    RenderJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"
    job.refresh_from_db()
    assert job.attempts == 2
    assert job.worker == "w1"


def test_attempts_are_capped(job, settings):
    RenderJob.objects.filter(pk=job.pk).update(attempts=settings.RENDER_MAX_ATTEMPTS)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "skipped"
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code == "attempts_exhausted"


def test_an_engine_failure_is_recorded_with_a_clear_error(job, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(execute_module, "render_run_batch", broken)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code == "engine_error"
    assert "the engine fell over" in job.error_message
    assert not CatalogImage.objects.exists()


def test_a_storage_failure_leaves_no_half_result(job, monkeypatch, settings):
    settings.RENDER_STORE_RETRY_FIRST_S = 0.01
    tries = []

    def full_disk(**kwargs):
        tries.append(kwargs["name"])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage_module, "media_put", full_disk)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "failed"
    job.refresh_from_db()
    assert job.error_code == "storage_error"
    assert "No space left" in job.error_message and "tried 5 times" in job.error_message
    assert len(tries) == 5  # a full disk may clear: tried again, with backoff
    assert not job.result_image
    assert not RenderTelemetry.objects.exists()


def test_a_transient_storage_error_is_waited_out(job, monkeypatch, settings):
    settings.RENDER_STORE_RETRY_FIRST_S = 0.01
    real_put = storage_module.media_put
    failures = iter([OSError(errno.EIO, "I/O error"), ConnectionResetError("reset")])

    def flaky(**kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_put(**kwargs)

    monkeypatch.setattr(storage_module, "media_put", flaky)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OSError(errno.ENOSPC, "full"), True),
        (OSError(errno.EROFS, "read-only"), False),
        (PermissionError(errno.EACCES, "forbidden"), False),
        (TimeoutError(), True),
        (ValueError("bad name"), False),
        (type("EndpointConnectionError", (Exception,), {})(), True),
        (type("ClientError", (Exception,), {"response": {"Error": {"Code": "SlowDown"}}})(), True),
    ],
)
def test_which_storage_errors_are_worth_another_try(error, transient):
    assert storage_module.storage_error_is_transient(error) is transient


def test_the_snapshot_is_rendered_even_after_the_catalog_changes(job):
    from catalog.models import Color, TileProduct

    TileProduct.objects.filter(sku="PZ-500-30").update(width_mm=1000)
    Color.objects.filter(code="BLUE").update(hex="#000000", lab_l=0, lab_a=0, lab_b=0)
    render_job_execute(job_id=job.pk, worker_name="w1")
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.params["product"]["width_mm"] == 500
    assert job.palette_snapshot["BLUE"]["hex"] != "#000000"


def test_a_job_canceled_before_it_starts_is_not_run(job):
    from renders.services import render_job_cancel

    render_job_cancel(job_id=job.pk)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "skipped"
    job.refresh_from_db()
    assert job.status == "canceled"


def test_a_render_past_the_soft_time_limit_fails_with_a_clear_error(job, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(execute_module, "render_run_batch", too_slow)
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "failed"
    job.refresh_from_db()
    assert job.error_code == "time_limit"
    assert "ran past" in job.error_message


def test_a_job_whose_bookkeeping_breaks_goes_back_to_the_queue_at_once(
    job, monkeypatch, django_capture_on_commit_callbacks
):
    def broken_publish(**kwargs):
        raise RuntimeError("publishing broke")

    monkeypatch.setattr(execute_module, "render_job_publish", broken_publish)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True) as sent:
        render_job_execute(job_id=job.pk, worker_name="w1")
    job.refresh_from_db()
    # Not left running for the reconciler to find stale: queued, sent again, the try counted.
    assert (job.status, job.worker, job.attempts) == ("queued", "", 1)
    assert sent  # the dispatch
    monkeypatch.undo()
    assert render_job_execute(job_id=job.pk, worker_name="w2") == "succeeded"


def test_the_telemetry_parts_add_up_to_the_total(job):
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"
    t = RenderTelemetry.objects.get(job=job)
    parts = [t.load_s, t.inference_s, t.postprocess_s, t.store_s, t.other_s]
    known = [part for part in parts if part is not None and part >= 0]
    assert len(known) == len(parts), parts
    assert sum(known) == pytest.approx(t.total_s, abs=0.002)
