"""Running one job on this worker: claim the row, render, store, record. Safe to repeat."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from gpu_worker.budget import memory_budget_mb
from gpu_worker.contract import RenderCanceled
from gpu_worker.engines.registry import engine_batch_key
from gpu_worker.monitor import DeviceInfo, Sample, device_describe
from gpu_worker.runner import RenderOutcome, render_run_batch
from renders.models import RenderJob, RenderTelemetry
from renders.services.dispatch import render_job_dispatch
from renders.services.notify import render_job_notify
from renders.services.publish import render_job_publish
from renders.services.transitions import (
    job_finished_announce,
    job_mark_canceled,
    job_mark_failed,
)
from renders.storage import media_put_retrying, result_names, storage_error_is_transient
from renders.worker.engine_input import render_spec_for
from renders.worker.heartbeat import worker_heartbeat, worker_job_done

logger = logging.getLogger(__name__)
T = TypeVar("T")

HEARTBEAT_EVERY_S = 2.0
CANCEL_CHECK_EVERY_S = 0.25
BATCH_CANDIDATES = 50  # queued rows looked at for batch partners


@cache
def this_device() -> DeviceInfo:
    return device_describe()


@dataclass(slots=True)
class _Claim:
    job: RenderJob
    started_at: datetime


def _cancel(job: RenderJob) -> None:
    job_mark_canceled(job, message="Canceled while running." if job.started_at else "Canceled.")


@transaction.atomic
def _claim(*, job_id: str, worker_name: str) -> _Claim | None:
    job = RenderJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.is_terminal:
        return None
    now = timezone.now()
    if job.status == RenderJob.Status.RUNNING and job.worker != worker_name:
        beat = job.heartbeat_at or job.started_at
        if beat and (now - beat).total_seconds() < settings.RENDER_HEARTBEAT_STALE_S:
            return None  # another live worker has it; this message is a duplicate
    if job.cancel_requested:
        _cancel(job)
        return None
    if job.attempts >= settings.RENDER_MAX_ATTEMPTS:
        job_mark_failed(
            job,
            code="attempts_exhausted",
            message=f"Gave up after {job.attempts} attempts; the last worker was "
            f"{job.worker or 'unknown'}.",
        )
        return None
    return _mark_running(job, worker_name=worker_name, now=now)


def _mark_running(job: RenderJob, *, worker_name: str, now: datetime) -> _Claim:
    job.attempts += 1
    job.status = RenderJob.Status.RUNNING
    job.worker = worker_name
    job.device = this_device().name
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    job.progress = 0
    job.save(
        update_fields=[
            "attempts",
            "status",
            "worker",
            "device",
            "started_at",
            "heartbeat_at",
            "progress",
        ]
    )
    render_job_notify(job_ids=[job.pk])
    return _Claim(job=job, started_at=now)


def _partners_claim(*, claim: _Claim, worker_name: str) -> list[_Claim]:
    """Queued jobs that can share the claimed job's engine call, claimed for this worker.

    Only with batching on (RENDER_BATCH_MAX > 1), from the same queue (an interactive job
    never waits for batch work), oldest first, skipping rows another worker holds. Their
    own task messages arrive later and find them running here, or done: no-ops.
    """
    room = settings.RENDER_BATCH_MAX - 1
    key = engine_batch_key(claim.job.render_params) if room > 0 else None
    if key is None:  # no transaction at all (on SQLite that would take its write lock)
        return []
    return _partners_lock(claim=claim, worker_name=worker_name, key=key, room=room)


@transaction.atomic
def _partners_lock(*, claim: _Claim, worker_name: str, key: str, room: int) -> list[_Claim]:
    params = claim.job.render_params
    candidates = (
        RenderJob.objects.select_for_update(skip_locked=True)
        .filter(
            status=RenderJob.Status.QUEUED,
            queue=claim.job.queue,
            cancel_requested=False,
            attempts__lt=settings.RENDER_MAX_ATTEMPTS,
            params__engine=params.engine,
            params__size=params.size,
        )
        .exclude(pk=claim.job.pk)
        .order_by("created_at")[:BATCH_CANDIDATES]
    )
    now = timezone.now()
    partners: list[_Claim] = []
    for job in candidates:
        if len(partners) < room and engine_batch_key(job.render_params) == key:
            partners.append(_mark_running(job, worker_name=worker_name, now=now))
    return partners


DATABASE_CUT = (OperationalError, InterfaceError)


@contextlib.contextmanager
def _database_best_effort(what: str) -> Iterator[None]:
    """For the writes a render can go on without (progress, heartbeats, cancel checks): a
    cut connection (a database restart, a failover) is closed, so that the next write
    connects afresh, and the render goes on. The job's own start and finish are not."""
    try:
        yield
    except DATABASE_CUT as exc:
        logger.warning("job %s skipped: the database connection failed (%s)", what, exc)
        connection.close()


def _database_retry(work: Callable[[], T]) -> T:
    """Once more on a fresh connection if the database connection was cut (the work is
    safe to repeat: it locks the job's row and checks its state first)."""
    try:
        return work()
    except DATABASE_CUT as exc:
        logger.warning("the database connection failed (%s); trying once more", exc)
        connection.close()
        return work()


class _JobHooks:
    """Progress, cancel checks and heartbeats for the running job (or the jobs of one
    batch, which share them), cheap on the database."""

    def __init__(self, *, jobs: list[RenderJob], worker_name: str) -> None:
        self.job_id = jobs[0].pk
        self.job_ids = [job.pk for job in jobs]
        self.worker_name = worker_name
        self.last_progress = -1
        self.last_cancel_check = 0.0
        self.last_beat = 0.0
        self.rows = RenderJob.objects.filter(pk__in=self.job_ids, status=RenderJob.Status.RUNNING)

    def progress(self, percent: int) -> None:
        with _database_best_effort("progress"):
            self._progress(percent)

    def _progress(self, percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        if percent <= self.last_progress:
            return
        self.last_progress = percent
        now = timezone.now()
        self.rows.update(
            progress=percent,
            heartbeat_at=now,
            first_progress_at=Coalesce("first_progress_at", now),
        )
        render_job_notify(job_ids=self.job_ids)

    def should_stop(self) -> bool:
        with _database_best_effort("cancel check"):
            return self._should_stop()
        return False  # the database is away: go on, and look again at the next step

    def _should_stop(self) -> bool:
        moment = time.monotonic()
        if moment - self.last_cancel_check < CANCEL_CHECK_EVERY_S:
            return False
        self.last_cancel_check = moment
        # A batch stops only when every job in it was canceled; a canceled job in a batch
        # that goes on is marked canceled when the batch ends (_finish_succeeded).
        return not RenderJob.objects.filter(pk__in=self.job_ids, cancel_requested=False).exists()

    def on_sample(self, sample: Sample) -> None:
        with _database_best_effort("heartbeat"):
            self._on_sample(sample)

    def _on_sample(self, sample: Sample) -> None:
        moment = time.monotonic()
        if moment - self.last_beat < HEARTBEAT_EVERY_S:
            return
        self.last_beat = moment
        self.rows.update(heartbeat_at=timezone.now())
        worker_heartbeat(
            name=self.worker_name, device=this_device(), sample=sample, current_job_id=self.job_id
        )

    @staticmethod
    def on_monitor_exit() -> None:
        connection.close()  # the monitor thread's own connection


def render_job_execute(*, job_id: uuid.UUID | str, worker_name: str) -> str:
    """Run the job if it still needs running; returns what happened, for the task log."""
    claim = _claim(job_id=str(job_id), worker_name=worker_name)
    if claim is None:
        return "skipped"
    claimed = [claim.job.pk]
    try:
        partners = _partners_claim(claim=claim, worker_name=worker_name)
        claimed += [partner.job.pk for partner in partners]
        return _execute(claims=[claim, *partners], worker_name=worker_name)
    except Exception:
        # Not the engine (its errors fail the job): this worker's own bookkeeping broke.
        # Back to the queue at once, rather than after the heartbeat goes stale; the
        # attempt counts, so a job that always breaks here still ends failed.
        with _database_best_effort("requeue after an error"):
            _release(job_ids=claimed, worker_name=worker_name, attempt_counts=True)
        raise
    finally:
        with _database_best_effort("worker status"):
            worker_job_done(name=worker_name)


def _execute(*, claims: list[_Claim], worker_name: str) -> str:
    """One engine call for the claimed job (and its batch partners, if any). If it fails,
    the first job fails with the error and the others go back to the queue untouched."""
    jobs = [claim.job for claim in claims]
    hooks = _JobHooks(jobs=jobs, worker_name=worker_name)
    try:
        outcomes = render_run_batch(
            specs=[render_spec_for(job) for job in jobs],
            device=this_device(),
            progress=hooks.progress,
            should_stop=hooks.should_stop,
            on_sample=hooks.on_sample,
            on_monitor_exit=hooks.on_monitor_exit,
            monitor_interval_s=settings.RENDER_MONITOR_INTERVAL_S,
        )
    except RenderCanceled:
        for job in jobs:
            _finish_canceled(job_id=job.pk)
        return "canceled"
    except SoftTimeLimitExceeded:
        _partners_release(job_ids=[job.pk for job in jobs[1:]], worker_name=worker_name)
        return _finish_failed(
            job_id=jobs[0].pk,
            code="time_limit",
            message=f"The render ran past {settings.RENDER_SOFT_TIME_LIMIT_S} s and was stopped.",
        )
    except Exception as exc:
        logger.exception("render job %s failed", ", ".join(str(job.pk) for job in jobs))
        _partners_release(job_ids=[job.pk for job in jobs[1:]], worker_name=worker_name)
        return _finish_failed(
            job_id=jobs[0].pk, code="engine_error", message=f"{type(exc).__name__}: {exc}"
        )
    ends = [
        _database_retry(
            partial(_store_and_finish, claim=claim, outcome=outcome, worker_name=worker_name)
        )
        for claim, outcome in zip(claims, outcomes, strict=True)
    ]
    return ends[0] if len(set(ends)) == 1 else ", ".join(ends)


def _partners_release(*, job_ids: list[uuid.UUID], worker_name: str) -> None:
    """Back to the queue, as they were before this worker took them, and sent again."""
    _release(job_ids=job_ids, worker_name=worker_name, attempt_counts=False)


def _release(*, job_ids: list[uuid.UUID], worker_name: str, attempt_counts: bool) -> None:
    """Jobs this worker still runs back to the queue, and sent again."""
    if not job_ids:  # a job alone: nothing to give back
        return
    with transaction.atomic():
        released = list(
            RenderJob.objects.select_for_update()
            .filter(pk__in=job_ids, status=RenderJob.Status.RUNNING, worker=worker_name)
            .values_list("pk", flat=True)
        )
        RenderJob.objects.filter(pk__in=released).update(
            status=RenderJob.Status.QUEUED,
            attempts=F("attempts") - (0 if attempt_counts else 1),
            worker="",
            device="",
            progress=0,
            heartbeat_at=None,
        )
        for pk in released:
            transaction.on_commit(partial(render_job_dispatch, job_id=pk))
        render_job_notify(job_ids=released)


def _store_and_finish(*, claim: _Claim, outcome: RenderOutcome, worker_name: str) -> str:
    job = claim.job
    stored_at = time.perf_counter()
    delays = store_retry_delays()

    def on_retry(error: BaseException, delay: float) -> None:
        logger.warning("storing job %s's result: %s; trying again in %.2f s", job.pk, error, delay)
        # Still alive: waiting on the store must not look like a dead worker.
        RenderJob.objects.filter(pk=job.pk, status=RenderJob.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )

    try:
        image_name, thumb_name = result_names(outcome.digest)
        for name, content in ((image_name, outcome.png), (thumb_name, outcome.thumbnail_webp)):
            media_put_retrying(name=name, content=content, delays=delays, on_retry=on_retry)
    except Exception as exc:
        logger.exception("storing the result of job %s failed", job.pk)
        tries = f" (tried {len(delays) + 1} times)" if storage_error_is_transient(exc) else ""
        return _finish_failed(
            job_id=job.pk, code="storage_error", message=f"{type(exc).__name__}: {exc}{tries}"
        )
    return _finish_succeeded(
        job_id=job.pk,
        worker_name=worker_name,
        claim=claim,
        outcome=outcome,
        names=(image_name, thumb_name),
        store_started=stored_at,
    )


def store_retry_delays() -> list[float]:
    """Waits between tries of a result write that failed transiently: doubling from
    RENDER_STORE_RETRY_FIRST_S, RENDER_STORE_RETRIES of them (4: 0.25 .. 2 s, 3.75 s in all,
    well inside the heartbeat's staleness)."""
    first = settings.RENDER_STORE_RETRY_FIRST_S
    return [first * 2**i for i in range(settings.RENDER_STORE_RETRIES)]


@transaction.atomic
def _finish_canceled(*, job_id: uuid.UUID) -> str:
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.status == RenderJob.Status.RUNNING:
        _cancel(job)
    return "canceled"


@transaction.atomic
def _finish_failed(*, job_id: uuid.UUID, code: str, message: str) -> str:
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.status == RenderJob.Status.RUNNING:
        job_mark_failed(job, code=code, message=message)
    return "failed"


def _telemetry_values(
    *, job: RenderJob, claim: _Claim, outcome: RenderOutcome, finished: datetime, store_s: float
) -> dict[str, object]:
    monitor, timings = outcome.monitor, outcome.timings
    first = job.first_progress_at
    parts = {
        "load_s": timings.get("load"),
        "inference_s": timings.get("inference"),
        "postprocess_s": timings.get("postprocess", 0.0) + timings.get("encode", 0.0),
        "store_s": store_s,
    }
    total = (finished - claim.started_at).total_seconds()
    # The parts add up to the total: what no part measured is other_s, never hidden.
    other = max(0.0, total - sum(value or 0.0 for value in parts.values()))
    return {
        "queue_wait_s": (claim.started_at - job.created_at).total_seconds(),
        "time_to_first_progress_s": (first - job.created_at).total_seconds() if first else None,
        **parts,
        "other_s": round(other, 4),
        "total_s": total,
        "engine_render_s": timings.get("engine_render"),
        "cache_hit": outcome.cache_hit,
        "oom_retries": outcome.oom_retries,
        "batch_size": outcome.batch_size,
        "peak_device_memory_mb": monitor.peak("gpu_mem_used_mb"),
        "total_device_memory_mb": outcome.device.memory_total_mb,
        "memory_budget_mb": memory_budget_mb(
            total_mb=outcome.device.memory_total_mb, setting=settings.PLITKA_GPU_MEMORY_FRACTION
        ),
        "gpu_util_mean": monitor.mean("gpu_util"),
        "gpu_util_max": monitor.peak("gpu_util"),
        "cpu_percent_mean": monitor.mean("cpu_percent"),
        "rss_peak_mb": monitor.peak("rss_mb"),
        "device_name": outcome.device.name,
        "versions": {**outcome.versions, "engine": f"{outcome.engine} {outcome.engine_version}"},
        "timeline": monitor.timeline(),
    }


@transaction.atomic
def _finish_succeeded(
    *,
    job_id: uuid.UUID,
    worker_name: str,
    claim: _Claim,
    outcome: RenderOutcome,
    names: tuple[str, str],
    store_started: float,
) -> str:
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.status != RenderJob.Status.RUNNING or job.worker != worker_name:
        return "superseded"  # recovered and handed to another worker meanwhile
    if job.cancel_requested:
        _cancel(job)
        return "canceled"
    image_name, thumb_name = names
    job.result_image.name = image_name
    job.result_thumbnail.name = thumb_name
    job.result_width, job.result_height = outcome.width, outcome.height
    job.fidelity = outcome.fidelity  # before publishing: the catalog image carries it too
    render_job_publish(job=job)
    finished = timezone.now()
    store_s = time.perf_counter() - store_started
    RenderTelemetry.objects.update_or_create(
        job=job,
        defaults=_telemetry_values(
            job=job, claim=claim, outcome=outcome, finished=finished, store_s=store_s
        ),
    )
    job.status = RenderJob.Status.SUCCEEDED
    job.progress = 100
    job.finished_at = finished
    job.first_progress_at = job.first_progress_at or finished
    job.fidelity = outcome.fidelity
    job.model_revision = outcome.model_revision or ""
    job.error_code = job.error_message = ""
    job.save()
    job_finished_announce(job)
    return "succeeded"
