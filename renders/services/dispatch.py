"""Sending a job's message to its queue."""

from __future__ import annotations

import logging
import uuid
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from plitka_site.redis_client import redis_away, redis_failed
from renders.models import RenderJob

logger = logging.getLogger(__name__)

RUN_TASK = "renders.run_render_job"


# A send that the broker does not take within this is given up (tried twice, a fresh
# connection the second time, so a submit waits 0.8 s at most); Redis answers a healthy
# send in a millisecond, and a loaded machine in well under this.
SEND_TIMEOUT_S = 0.4
_SEND_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}


@cache
def _send_pool(broker_url: str) -> Any:
    """Broker connections with short timeouts, for sends only (a worker's own consuming
    connection keeps Celery's settings: its blocking reads need longer ones)."""
    from plitka_site.celery import app

    options = {
        **app.conf.broker_transport_options,
        "socket_timeout": SEND_TIMEOUT_S,
        "socket_connect_timeout": SEND_TIMEOUT_S,
    }
    return app.connection_for_write(broker_url, transport_options=options).Pool(limit=16)


def task_send(name: str, *, args: list[Any], queue: str, countdown: float = 0) -> bool:
    """Send one task message; False (and a log line) when the broker does not take it.

    Bounded: a broker that is down or hangs costs 0.8 s at most, and nothing while this
    process knows Redis is away (`redis_away`: the broker is that Redis). Callers keep
    what the message is about in the database, so a sweep can send it again.
    """
    from plitka_site.celery import app

    if redis_away():
        return False
    try:
        with _send_pool(settings.CELERY_BROKER_URL).acquire(
            block=True, timeout=SEND_TIMEOUT_S
        ) as connection:
            app.send_task(
                name,
                args=args,
                queue=queue,
                countdown=countdown or None,
                connection=connection,
                retry=True,
                retry_policy=_SEND_RETRY,
            )
    except Exception:
        redis_failed()
        logger.exception("could not send %s%s to %s; a sweep will send it again", name, args, queue)
        return False
    return True


def render_job_dispatch(*, job_id: uuid.UUID | str) -> bool:
    """Queue the job's task; False when the broker does not take it.

    A failed send loses nothing: the job row stays queued and the reconciler sends again
    (within 10 s).
    """
    job = RenderJob.objects.filter(pk=job_id, status=RenderJob.Status.QUEUED).first()
    if job is None:
        return False
    if not task_send(RUN_TASK, args=[str(job.pk)], queue=settings.RENDER_QUEUES[job.queue]):
        return False
    RenderJob.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())
    return True
