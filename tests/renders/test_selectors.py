"""Reads of the renders app."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.selectors import render_job_active_or_done
from renders.services import Requester, render_job_submit

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


def test_the_job_for_a_key_is_the_active_one_else_the_newest_success(demo_catalog):
    def submit() -> RenderJob:
        return render_job_submit(
            product_sku="SQ-500-30",
            recipe="RED:60,BLACK:40",
            requester=REQUESTER,
            params=RenderParams(size=256, seed=1),
            dispatch=False,
            force=True,
        ).job

    now = timezone.now()
    old = submit()
    RenderJob.objects.filter(pk=old.pk).update(status="succeeded", finished_at=now - timedelta(1))
    newer = submit()
    RenderJob.objects.filter(pk=newer.pk).update(status="succeeded", finished_at=now)
    failed = submit()
    RenderJob.objects.filter(pk=failed.pk).update(status="failed", finished_at=now)
    key = old.render_key
    assert render_job_active_or_done(render_key=key) == newer
    queued = submit()
    assert render_job_active_or_done(render_key=key) == queued
    assert render_job_active_or_done(render_key="0" * 64) is None
