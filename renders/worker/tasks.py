"""Celery tasks: the thin bridge between queue messages and the render services.

Each task takes an id (or nothing), and the services lock rows and do only what is missing,
so a redelivered or duplicated message is harmless.
"""

from __future__ import annotations

import socket

from celery import Task, shared_task
from django.conf import settings

from renders.services import catalog_rerender_stale, render_jobs_reconcile
from renders.services.analyses import colour_analyses_reconcile
from renders.services.webhooks import webhook_deliveries_sweep, webhook_delivery_attempt
from renders.worker import (
    preload,  # noqa: F401  (connects the worker-start preload)
    process_start,  # noqa: F401  (connects the worker-start setup)
)
from renders.worker.analysis import colour_analysis_execute
from renders.worker.execute import render_job_execute


@shared_task(name="renders.run_render_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def run_render_job(self: Task, job_id: str) -> str:
    return render_job_execute(
        job_id=job_id, worker_name=self.request.hostname or socket.gethostname()
    )


@shared_task(name="renders.run_colour_analysis", bind=True, acks_late=True)
def run_colour_analysis(self: Task, analysis_id: str) -> str:
    return colour_analysis_execute(
        analysis_id=analysis_id, worker_name=self.request.hostname or socket.gethostname()
    )


@shared_task(name="renders.reconcile")
def reconcile() -> dict[str, list[str]]:
    report = render_jobs_reconcile()
    return {
        "redispatched": report.redispatched,
        "requeued": report.requeued,
        "failed": report.failed,
        "webhook_deliveries_resent": webhook_deliveries_sweep(),
        "analyses_resent": colour_analyses_reconcile().resent,
    }


@shared_task(name="renders.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: str) -> str:
    return webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="renders.rerender_stale")
def rerender_stale() -> list[str]:
    return catalog_rerender_stale(limit=settings.RENDER_STALE_SWEEP_LIMIT)
