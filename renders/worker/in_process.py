"""Running a job in this process rather than on a worker (the `render` command)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from renders.models import RenderJob
from renders.worker.execute import render_job_execute
from renders.worker.heartbeat import worker_forget

WAIT_EVERY_S = 0.5


def render_job_run_here(
    *,
    job_id: uuid.UUID,
    worker_name: str,
    timeout_s: float,
    on_wait: Callable[[str], None] | None = None,
) -> RenderJob:
    """Run the job here until it is finished, or `timeout_s` has passed; returns the row.

    If a live worker already runs it (an identical request got there first), wait for that
    worker; if the job comes back to the queue meanwhile (its worker died and the reconciler
    requeued it), run it here after all. `worker_name` must be unique to this process.
    """
    deadline = time.monotonic() + timeout_s
    told = False
    try:
        while True:
            render_job_execute(job_id=job_id, worker_name=worker_name)
            job = RenderJob.objects.get(pk=job_id)
            if job.is_terminal or time.monotonic() >= deadline:
                return job
            if on_wait is not None and not told:
                on_wait(f"job {job.pk} is {job.status} on {job.worker or 'a worker'}; waiting")
                told = True
            time.sleep(WAIT_EVERY_S)
    finally:
        # This process is no worker the operators should see in the worker list.
        worker_forget(name=worker_name)
