"""Two workers racing for the same jobs (every message sent three times), and 1,000
distinct jobs through two workers: all rendered, none lost, none rendered twice."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from gpu_worker.params import RenderParams
from plitka_site.celery import app
from renders.models import RenderJob
from renders.services import Requester, render_job_submit
from renders.services.dispatch import RUN_TASK
from tests.faults.conftest import BODY, REPORT, Stack, now

LOAD_JOBS = 1000


def test_two_workers_racing_for_each_job_render_it_once(stack: Stack) -> None:
    stack.worker("alpha")
    stack.worker("beta")
    requester = Requester(client_id="faults", label="faults", source="api")
    ids = [
        str(
            render_job_submit(
                product_sku=str(BODY["product"]),
                recipe=BODY["recipe"],
                params=RenderParams(size=256, seed=seed),
                requester=requester,
                dispatch=False,  # the messages are sent below, each three times
            ).job.pk
        )
        for seed in range(1, 11)
    ]
    sent_at = now()
    for job_id in ids:
        for _ in range(3):  # duplicated messages: both workers get the same job at once
            app.send_task(RUN_TASK, args=[job_id], queue=settings.RENDER_QUEUES["interactive"])
    stack.wait_finished(ids, timeout=120)
    stack.audit(ids, fault="two workers, every message sent 3 times", since=sent_at)
    assert set(RenderJob.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


@pytest.mark.timeout(900)
def test_a_thousand_jobs_through_two_workers(stack: Stack) -> None:
    # The reconciler too: under this load a broker send may time out, and then the job
    # waits in the database for it (as designed), not for the test.
    stack.beat()
    stack.worker("alpha")
    stack.worker("beta")
    started = time.monotonic()
    first = now()
    ids = stack.submit(LOAD_JOBS)
    submitted_s = time.monotonic() - started
    stack.wait_finished(ids, timeout=900)
    total_s = time.monotonic() - started
    row = stack.audit(ids, fault=f"load: {LOAD_JOBS} distinct 256 px jobs, two workers")
    row["fault"] += (
        f": {LOAD_JOBS / total_s:.1f} jobs/s end to end ({LOAD_JOBS / submitted_s:.0f} submits/s)"
    )
    row["recovery_s"] = None
    done = RenderJob.objects.filter(pk__in=ids)
    assert done.filter(worker__startswith="alpha@").exists()
    assert done.filter(worker__startswith="beta@").exists()
    assert set(done.values_list("attempts", flat=True)) == {1}
    assert REPORT[-1] is row and first
