"""The terminal transitions of a job, for callers that already hold its row lock."""

from __future__ import annotations

from django.utils import timezone

from renders.models import RenderJob
from renders.services.notify import render_job_notify
from renders.services.webhooks import webhook_deliveries_create


def job_finished_announce(job: RenderJob) -> None:
    """Tell everyone waiting that the job is over: long polls, and the clients' webhooks."""
    render_job_notify(job_ids=[job.pk])
    webhook_deliveries_create(job=job)


def job_mark_failed(job: RenderJob, *, code: str, message: str) -> None:
    job.status = RenderJob.Status.FAILED
    job.error_code = code
    job.error_message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error_code", "error_message", "finished_at"])
    job_finished_announce(job)


def job_mark_canceled(job: RenderJob, *, message: str) -> None:
    job.status = RenderJob.Status.CANCELED
    job.cancel_requested = True
    job.error_code = "canceled"
    job.error_message = message
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "cancel_requested", "error_code", "error_message", "finished_at"]
    )
    job_finished_announce(job)
