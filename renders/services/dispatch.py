"""Sending a job's message to its queue."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.utils import timezone

from renders.models import RenderJob

logger = logging.getLogger(__name__)

RUN_TASK = "renders.run_render_job"


def render_job_dispatch(*, job_id: uuid.UUID | str) -> bool:
    """Queue the job's task; False (and a log line) when the broker is unreachable.

    A failed send loses nothing: the job row stays queued and the reconciler sends again.
    """
    from plitka_site.celery import app

    job = RenderJob.objects.filter(pk=job_id, status=RenderJob.Status.QUEUED).first()
    if job is None:
        return False
    try:
        app.send_task(RUN_TASK, args=[str(job.pk)], queue=settings.RENDER_QUEUES[job.queue])
    except Exception:
        logger.exception("could not dispatch render job %s; the reconciler will retry", job.pk)
        return False
    RenderJob.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())
    return True
