"""How long render history is kept, and the photos sent for analysis."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import CatalogImage
from renders.models import ColourAnalysis, IdempotencyRecord, RenderJob, RenderQuotaDay

ANALYSIS_CHUNK = 500  # analyses deleted (and their files looked at) per round


@dataclass(frozen=True, slots=True)
class PruneReport:
    jobs: int
    idempotency_records: int
    quota_days: int = 0
    analyses: int = 0
    analysis_files: int = 0  # photos, tile masks and colour maps no kept analysis names


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
    analyses = ColourAnalysis.objects.filter(
        status__in=ColourAnalysis.TERMINAL, finished_at__lt=cutoff
    )
    counts = PruneReport(
        jobs=jobs.count(),
        idempotency_records=stale_keys.count(),
        quota_days=old_quota.count(),
        analyses=analyses.count(),
    )
    if not dry_run:
        old_quota.delete()
        stale_keys.delete()
        IdempotencyRecord.objects.filter(job__in=jobs).delete()
        jobs.delete()
        files = _analyses_delete(analyses)
        counts = replace(counts, analysis_files=files)
    return counts


def _files_of(image: str, result: dict[str, object] | None) -> set[str]:
    pictures = (result or {}).get("pictures")
    return {image, *(pictures.values() if isinstance(pictures, dict) else ())}


def _analyses_delete(analyses: QuerySet[ColourAnalysis]) -> int:
    """Delete the analyses and, unlike render results, their files: a photo is what a
    client sent, not the shop's. Files are named by their content, so one that a kept
    analysis still names (the same photo sent again) stays. Returns the files deleted."""
    deleted = 0
    while True:
        chunk = list(analyses.values_list("pk", "image", "result")[:ANALYSIS_CHUNK])
        if not chunk:
            return deleted
        names: set[str] = set()
        for _pk, image, result in chunk:
            names |= _files_of(image, result)
        ColourAnalysis.objects.filter(pk__in=[pk for pk, _, _ in chunk]).delete()
        # A tile mask or colour map is drawn from its photo: only an analysis of the same
        # photo can name it.
        kept: set[str] = set()
        for image, result in ColourAnalysis.objects.filter(image__in=names).values_list(
            "image", "result"
        ):
            kept |= _files_of(image, result)
        for name in sorted(names - kept):
            if default_storage.exists(name):
                default_storage.delete(name)
                deleted += 1
