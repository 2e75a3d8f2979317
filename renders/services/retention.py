"""How long render history is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog.models import CatalogImage
from renders.models import IdempotencyRecord, RenderJob, RenderQuotaDay


@dataclass(frozen=True, slots=True)
class PruneReport:
    jobs: int
    idempotency_records: int
    quota_days: int = 0


def render_history_prune(*, older_than_days: int, dry_run: bool = False) -> PruneReport:
    """Delete finished jobs older than the cutoff, except those behind a catalog image.

    Result files stay: they are content-addressed and may be shared with newer jobs.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    keep = CatalogImage.objects.filter(render_job_id__isnull=False).values("render_job_id")
    jobs = RenderJob.objects.filter(status__in=RenderJob.TERMINAL, finished_at__lt=cutoff).exclude(
        pk__in=keep
    )
    stale_keys = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    )
    # A quota counter matters only on its own day.
    old_quota = RenderQuotaDay.objects.filter(day__lt=timezone.now().date() - timedelta(days=1))
    counts = PruneReport(
        jobs=jobs.count(), idempotency_records=stale_keys.count(), quota_days=old_quota.count()
    )
    if not dry_run:
        old_quota.delete()
        stale_keys.delete()
        IdempotencyRecord.objects.filter(job__in=jobs).delete()
        jobs.delete()
    return counts
