"""The scheduled sweep that re-renders catalog images made with outdated inputs."""

from __future__ import annotations

import logging

from django.db import transaction

from catalog.models import CatalogImage
from renders.errors import RenderRequestError
from renders.models import RenderJob
from renders.services.publish import render_job_publish
from renders.services.submit import Requester, render_job_resubmit

logger = logging.getLogger(__name__)

SCHEDULER = Requester(
    client_id="schedule",
    label="scheduler",
    source=RenderJob.Source.SCHEDULE,
    sees_unpublished=True,
)


def catalog_rerender_stale(*, limit: int) -> list[str]:
    """Re-render current images whose render_key is outdated (at most `limit` new jobs).

    Each image's job is asked for again as today's catalog would ask for it (its product,
    its named recipe as it is now, the same parameters): when nothing changed, submit's
    dedup answers with the job that made the image and nothing new is queued.
    """
    submitted: list[str] = []
    images = CatalogImage.objects.filter(is_current=True, render_job_id__isnull=False)
    jobs = RenderJob.objects.select_related("product", "recipe")
    for image in images.order_by("created_at").iterator():
        if len(submitted) >= limit:
            break
        if image.render_job_id is None:  # the query left these out
            continue
        job = jobs.filter(pk=image.render_job_id).first()
        if job is None:
            continue
        try:
            result = render_job_resubmit(
                job=job,
                requester=SCHEDULER,
                queue=RenderJob.Queue.BATCH,
                force=False,
                follow_catalog=True,
            )
        except RenderRequestError as exc:
            logger.warning("cannot re-render catalog image %s: %s", image.pk, exc.message)
            continue
        if result.created:
            submitted.append(str(result.job.pk))
        elif (
            result.job.status == RenderJob.Status.SUCCEEDED
            and result.job.render_key != image.render_key
        ):
            # Today's request was rendered before, by another job (an edit was undone):
            # show that picture again rather than leave the outdated one for good.
            with transaction.atomic():
                render_job_publish(job=result.job)
            logger.info("catalog image %s: shows job %s again", image.pk, result.job.pk)
    return submitted
