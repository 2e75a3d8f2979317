"""The beat sweep that keeps queued and running jobs honest."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from renders.models import RenderJob
from renders.selectors import render_jobs_lost, render_jobs_waiting_too_long
from renders.services.dispatch import render_job_dispatch
from renders.services.notify import render_job_notify
from renders.services.transitions import job_mark_failed

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ReconcileReport:
    redispatched: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _recover(job_id: UUID, report: ReconcileReport) -> None:
    with transaction.atomic():
        job = (
            RenderJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status=RenderJob.Status.RUNNING)
            .first()
        )
        if job is None:
            return
        lost = (
            f"worker {job.worker or 'unknown'} stopped heartbeating during attempt {job.attempts}"
        )
        if job.attempts >= settings.RENDER_MAX_ATTEMPTS:
            job_mark_failed(
                job, code="worker_lost", message=f"{lost}; gave up after {job.attempts} attempts."
            )
            report.failed.append(str(job.pk))
            return
        job.status = RenderJob.Status.QUEUED
        job.error_message = f"{lost}; requeued."
        job.worker = ""
        job.dispatched_at = None
        job.save(update_fields=["status", "error_message", "worker", "dispatched_at"])
        render_job_notify(job_ids=[job.pk])
        report.requeued.append(str(job.pk))
        transaction.on_commit(lambda: render_job_dispatch(job_id=job.pk))


def render_jobs_reconcile(
    *, now: datetime | None = None, live_job_ids: set[str] | None = None
) -> ReconcileReport:
    """Requeue or fail jobs of dead workers; re-send queued jobs that have no message.

    `live_job_ids` is read from Redis when not given (tests pass their own).
    """
    now = now or timezone.now()
    report = ReconcileReport()
    for job_id in render_jobs_lost(now=now).values_list("pk", flat=True):
        _recover(job_id, report)
    waiting = list(render_jobs_waiting_too_long(now=now).values_list("pk", flat=True)[:500])
    if waiting:
        if live_job_ids is None:
            from renders.worker.broker import live_job_ids as read_live

            live_job_ids = read_live()
        for job_id in waiting:
            if str(job_id) not in live_job_ids and render_job_dispatch(job_id=job_id):
                report.redispatched.append(str(job_id))
    if report.redispatched or report.requeued or report.failed:
        logger.info("reconciled render jobs: %s", report)
    return report
