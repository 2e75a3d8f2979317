"""Clients' requests for shared jobs: identical requests share one render (dedup), but each
client keeps its own request, in its own list, readable and cancelable by it alone."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from renders.errors import JobConflict
from renders.models import RenderJob, RenderRequest
from renders.services.cancel import render_job_cancel


def render_request_record(*, job: RenderJob, client_id: str, label: str) -> None:
    """The client now waits for `job`: a new request, or a withdrawn one asked again.

    A client that asks again for what it already waits for (a storefront re-submitting the
    same render on every page view) costs one read, no write.
    """
    if not client_id:
        return
    waiting = RenderRequest.objects.filter(job=job, client_id=client_id, withdrawn_at=None)
    if waiting.exists():
        return
    # One statement either way, and safe against a parallel twin of this request.
    RenderRequest.objects.bulk_create(
        [RenderRequest(job=job, client_id=client_id, client_label=label[:150])],
        update_conflicts=True,
        unique_fields=["job", "client_id"],
        update_fields=["withdrawn_at"],
    )


@transaction.atomic
def render_request_withdraw(*, job_id: uuid.UUID | str, client_id: str) -> RenderJob:
    """Cancel the client's request; the job itself is canceled when nobody else waits.

    Raises JobConflict when the job finished before the client withdrew.
    """
    job = RenderJob.objects.select_for_update().get(pk=job_id)
    mine = RenderRequest.objects.select_for_update().get(job=job, client_id=client_id)
    if mine.withdrawn_at is not None:
        return job  # asked twice: already withdrawn
    if job.is_terminal and job.status != RenderJob.Status.CANCELED:
        raise JobConflict(f"job {job.pk} already {job.status}; only queued or running jobs cancel")
    mine.withdrawn_at = timezone.now()
    mine.save(update_fields=["withdrawn_at"])
    others = RenderRequest.objects.filter(job=job, withdrawn_at=None).exclude(pk=mine.pk)
    if job.is_terminal or others.exists():
        return job
    return render_job_cancel(job_id=job.pk)
