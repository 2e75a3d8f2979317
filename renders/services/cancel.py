"""Canceling a job: at once when queued, at the next step when running."""

from __future__ import annotations

import uuid

from django.db import transaction

from renders.errors import JobConflict
from renders.models import RenderJob
from renders.services.transitions import job_mark_canceled


@transaction.atomic
def render_job_cancel(*, job_id: uuid.UUID | str) -> RenderJob:
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    if job.status == RenderJob.Status.QUEUED:
        # The queued message stays in Redis; the task finds the job canceled and skips it.
        job_mark_canceled(job, message="Canceled before it started.")
    elif job.status == RenderJob.Status.RUNNING:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
    elif job.status != RenderJob.Status.CANCELED:
        raise JobConflict(f"job {job.pk} already {job.status}; only queued or running jobs cancel")
    return job
