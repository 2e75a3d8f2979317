"""Worker heartbeats: what each render worker last said about itself."""

from __future__ import annotations

import os
import socket
import uuid

from django.utils import timezone

from gpu_worker.monitor import DeviceInfo, Sample
from renders.models import Worker


def _identity(*, name: str, device: DeviceInfo) -> dict[str, object]:
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "device": device.name,
        "device_memory_total_mb": device.memory_total_mb,
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
    Worker.objects.filter(name=name).update(current_job=None)
