"""The terminal transitions of a job, for callers that already hold its row lock."""

from __future__ import annotations

from django.utils import timezone

from renders.models import RenderJob


def job_mark_failed(job: RenderJob, *, code: str, message: str) -> None:
    job.status = RenderJob.Status.FAILED
    job.error_code = code
    job.error_message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error_code", "error_message", "finished_at"])


def job_mark_canceled(job: RenderJob, *, message: str) -> None:
    job.status = RenderJob.Status.CANCELED
    job.cancel_requested = True
    job.error_code = "canceled"
    job.error_message = message
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "cancel_requested", "error_code", "error_message", "finished_at"]
    )
