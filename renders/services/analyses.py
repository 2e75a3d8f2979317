"""Colour analyses of uploaded photos: stored, queued for a worker, and kept honest.

The web process only checks the upload (renders/image_uploads.py) and stores it under its
SHA-256; a render worker decodes and measures it (renders/worker/analysis.py) from the
interactive queue, so the web process never loads numpy or OpenCV. An analysis takes a
second or two: one that has been running far longer lost its worker, and one still queued
long after it was sent lost its message; the reconciler's sweep sends both again, up to
RENDER_MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import ColorRecipe
from catalog.recipes import Recipe
from catalog.selectors import recipe_name_clash, recipe_validate
from catalog.services import recipe_create
from renders.image_uploads import CheckedImage
from renders.models import ColourAnalysis
from renders.services.dispatch import task_send
from renders.services.submit import Requester, render_quota_claim
from renders.storage import media_put_retrying

logger = logging.getLogger(__name__)

ANALYSIS_TASK = "renders.run_colour_analysis"
QUEUE = "interactive"
# A worker measures a photo in 1-2 s; these are generous bounds for a busy one.
RUNNING_LOST_AFTER_S = 120
QUEUED_RESEND_AFTER_S = 60
STORE_RETRY_DELAYS = (0.25, 0.5, 1.0)


def analysis_image_name(image: CheckedImage) -> str:
    return f"analyses/{image.sha256[:2]}/{image.sha256}.{image.extension}"


def colour_analysis_submit(
    *,
    image: CheckedImage,
    recipe: Recipe | None,
    tolerance_pp: float,
    requester: Requester,
) -> ColourAnalysis:
    """Store the checked photo and queue its analysis (sent once the row is committed).

    An analysis takes a worker's time as a render does: it counts against the same daily
    quota (QuotaExceeded when used up).
    """
    with transaction.atomic():
        render_quota_claim(requester=requester)  # raises QuotaExceeded when used up
        # Stored once the quota allows it; a refused photo leaves no file behind.
        name = media_put_retrying(
            name=analysis_image_name(image), content=image.data, delays=STORE_RETRY_DELAYS
        )
        analysis = ColourAnalysis.objects.create(
            image=name,
            image_sha256=image.sha256,
            image_format=image.format,
            width=image.width,
            height=image.height,
            recipe_canonical=recipe.canonical if recipe is not None else "",
            tolerance_pp=tolerance_pp,
            source=requester.source,
            client_id=requester.client_id,
            client_label=requester.label[:150],
        )
        transaction.on_commit(lambda: colour_analysis_dispatch(analysis_id=analysis.pk))
    return analysis


def colour_analysis_dispatch(*, analysis_id: uuid.UUID | str) -> bool:
    """Send the analysis to the interactive queue; a failed send is left to the sweep."""
    sent = task_send(ANALYSIS_TASK, args=[str(analysis_id)], queue=settings.RENDER_QUEUES[QUEUE])
    if sent:
        ColourAnalysis.objects.filter(pk=analysis_id).update(dispatched_at=timezone.now())
    return sent


@dataclass(slots=True)
class AnalysesSwept:
    resent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def colour_analyses_reconcile(*, now: datetime | None = None) -> AnalysesSwept:
    """Send again the analyses whose worker or message was lost; fail them at the cap."""
    now = now or timezone.now()
    swept = AnalysesSwept()
    resend_before = now - timedelta(seconds=QUEUED_RESEND_AFTER_S)
    stuck = ColourAnalysis.objects.filter(
        Q(
            status=ColourAnalysis.Status.RUNNING,
            started_at__lt=now - timedelta(seconds=RUNNING_LOST_AFTER_S),
        )
        | Q(status=ColourAnalysis.Status.QUEUED, dispatched_at__lt=resend_before)
        | Q(status=ColourAnalysis.Status.QUEUED, dispatched_at=None, created_at__lt=resend_before)
    )
    for analysis_id in stuck.values_list("pk", flat=True)[:100]:
        with transaction.atomic():
            analysis = (
                ColourAnalysis.objects.select_for_update(skip_locked=True)
                .filter(pk=analysis_id)
                .exclude(status__in=ColourAnalysis.TERMINAL)
                .first()
            )
            if analysis is None:
                continue
            if analysis.attempts >= settings.RENDER_MAX_ATTEMPTS:
                analysis.status = ColourAnalysis.Status.FAILED
                analysis.error_code = "worker_lost"
                analysis.error_message = f"Gave up after {analysis.attempts} attempts."
                analysis.finished_at = now
                analysis.save(
                    update_fields=["status", "error_code", "error_message", "finished_at"]
                )
                swept.failed.append(str(analysis.pk))
                continue
            analysis.status = ColourAnalysis.Status.QUEUED
            analysis.dispatched_at = now  # the resend clock starts again
            analysis.save(update_fields=["status", "dispatched_at"])
            transaction.on_commit(partial(colour_analysis_dispatch, analysis_id=analysis.pk))
            swept.resent.append(str(analysis.pk))
    return swept


def recipe_from_analysis(*, analysis: ColourAnalysis, created_by: User | None) -> ColorRecipe:
    """A stored recipe of the analysed photo's nearest whole-percent stock mix, named after
    the photo's date (staff rename it in the recipe editor); ValueError if none was found."""
    nearest = (analysis.result or {}).get("nearest_stock_mix")
    if analysis.status != ColourAnalysis.Status.SUCCEEDED or not nearest:
        raise ValueError("the analysis found no stock colours to make a recipe of")
    recipe = recipe_validate(
        value=[{"color": code, "percent": percent} for code, percent in nearest["components"]]
    )
    base = f"From photo {analysis.created_at:%Y-%m-%d %H:%M}"
    name, number = base, 1
    while recipe_name_clash(name=name) is not None:
        number += 1
        name = f"{base} ({number})"
    return recipe_create(name=name, recipe=recipe, created_by=created_by)
