"""Worker heartbeats: what each render worker last said about itself.

A beat comes from inside a running job (with its latest resource sample) and, busy or
idle, from a thread that the worker starts when Celery says it is ready.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection
from django.utils import timezone

from gpu_worker.budget import memory_budget_mb
from gpu_worker.engines.registry import engines_loaded
from gpu_worker.monitor import DeviceInfo, Sample, device_describe
from renders.models import Worker

logger = logging.getLogger(__name__)

IDLE_HEARTBEAT_S = 10.0
_stop = threading.Event()


def _identity(*, name: str, device: DeviceInfo) -> dict[str, object]:
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "device": device.name,
        "device_memory_total_mb": device.memory_total_mb,
        "memory_budget_mb": memory_budget_mb(
            total_mb=device.memory_total_mb, setting=settings.PLITKA_GPU_MEMORY_FRACTION
        ),
        # Models the engines keep loaded (a diffusion worker's cache); [] for procedural.
        "loaded_pipelines": engines_loaded(),
        "last_heartbeat": timezone.now(),
    }


def _upsert(*, name: str, values: dict[str, object]) -> None:
    updated = Worker.objects.filter(name=name).update(**values)
    if not updated:
        Worker.objects.update_or_create(
            name=name, defaults=values, create_defaults={**values, "started_at": timezone.now()}
        )


def worker_alive(*, name: str, device: DeviceInfo) -> None:
    """The worker process's own beat, busy or idle; leaves the current job alone."""
    _upsert(name=name, values=_identity(name=name, device=device))


def worker_heartbeat(
    *, name: str, device: DeviceInfo, sample: Sample, current_job_id: uuid.UUID | None
) -> None:
    """A beat from inside a running job, with the latest resource sample."""
    values = _identity(name=name, device=device)
    values.update(
        current_job_id=current_job_id,
        cpu_percent=sample.cpu_percent,
        rss_mb=sample.rss_mb,
        device_memory_used_mb=sample.gpu_mem_used_mb,
    )
    _upsert(name=name, values=values)


def worker_job_done(*, name: str) -> None:
    Worker.objects.filter(name=name).update(current_job=None, loaded_pipelines=engines_loaded())


def worker_forget(*, name: str) -> None:
    """Remove a worker's row (a process that ran jobs but serves no queue)."""
    Worker.objects.filter(name=name).delete()


def _beat_forever(name: str) -> None:
    device = device_describe()
    try:
        while True:
            try:
                worker_alive(name=name, device=device)
            except Exception:
                logger.exception("worker heartbeat failed; trying again")
                # A cut connection stays cut: close it so the next beat connects afresh
                # (without this the thread failed every beat after a database restart).
                connection.close()
            if _stop.wait(IDLE_HEARTBEAT_S):
                return
    finally:
        connection.close()


def serves_renders(sender: Any) -> bool:
    """Whether this Celery worker consumes a render queue (a worker for webhooks only is
    not a render worker, and has no device to report)."""
    queues = getattr(getattr(getattr(sender, "app", None), "amqp", None), "queues", None)
    consumed = getattr(queues, "consume_from", None)
    if not consumed:  # no -Q: the default queue, and anything sent there
        return True
    return bool(set(consumed) & set(settings.RENDER_QUEUES.values()))


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    if not serves_renders(sender):
        return
    name = getattr(sender, "hostname", None) or "worker"
    _stop.clear()
    threading.Thread(target=_beat_forever, args=(name,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    _stop.set()
