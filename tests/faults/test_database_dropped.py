"""Every database connection of the workers and the scheduler cut in the middle of a job (as
a PostgreSQL restart or a failover does): the job still ends rendered once, and the worker
serves the next one on fresh connections."""

from __future__ import annotations

import pytest
from django.db import connection

from renders.models import RenderJob, Worker
from renders.worker.heartbeat import IDLE_HEARTBEAT_S
from tests.faults.conftest import Stack, now, wait_until


def _cut_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_a_job_survives_its_database_connections_cut(stack: Stack) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("cutting connections is a PostgreSQL test (CI runs it there)")
    stack.beat()
    stack.worker("alpha", render_s=3)
    (job_id,) = stack.submit()
    stack.wait_running(job_id)
    cut_at = now()
    assert _cut_other_connections() >= 1
    stack.wait_finished([job_id], timeout=90)
    stack.audit([job_id], fault="database connections cut mid-job", since=cut_at)
    # The render went on through the cut (its progress writes reconnected): not run again.
    assert RenderJob.objects.get(pk=job_id).attempts == 1
    stack.still_serving()
    # The idle heartbeat thread reconnects too (it used to fail every beat after a cut).
    served = now()
    wait_until(
        lambda: Worker.objects.filter(last_heartbeat__gt=served).exists(),
        IDLE_HEARTBEAT_S + 5,
        *stack.procs,
    )
