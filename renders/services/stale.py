"""The scheduled sweep that re-renders catalog images made with outdated inputs."""

from __future__ import annotations

import logging
from typing import Any

from catalog.models import CatalogImage
from catalog.recipes import Component, Recipe, RecipeError
from catalog.selectors import recipe_of
from gpu_worker.engines.registry import engine_version
from renders.errors import RenderRequestError
from renders.models import RenderJob
from renders.params import ParamError, render_key_compute, seed_derive
from renders.services.submit import Requester, render_job_submit
from renders.specs import render_params_for

logger = logging.getLogger(__name__)

SCHEDULER = Requester(
    client_id="schedule",
    label="scheduler",
    source=RenderJob.Source.SCHEDULE,
    sees_unpublished=True,
)


def _rendered_recipe(job: RenderJob) -> Recipe:
    """The recipe the job rendered (validated when it was submitted)."""
    return Recipe(
        components=tuple(
            Component(code=e["color"], percent=e["percent"]) for e in job.recipe_snapshot
        )
    )


def _today(job: RenderJob) -> tuple[str, dict[str, Any]]:
    """The render_key this job's image would get today, and the submit arguments for it."""
    rendered = _rendered_recipe(job)
    recipe = recipe_of(recipe=job.recipe) if job.recipe else rendered
    # A seed the caller chose stays; a derived one follows the product and recipe.
    derived_before = seed_derive(sku=job.params["product"]["sku"], recipe=rendered)
    seed = (
        seed_derive(sku=job.product.sku, recipe=recipe) if job.seed == derived_before else job.seed
    )
    values: dict[str, Any] = {
        "view": job.view,
        "angle": job.angle,
        "size": job.size,
        "seed": seed,
        "engine": job.engine,
        "quality": job.quality,
        "options": job.options,
    }
    params = render_params_for(product=job.product, recipe=recipe, **values)
    key = render_key_compute(
        params=params, engine_version=engine_version(job.engine), model_revision=None
    )
    return key, {"recipe": job.recipe_id or recipe.canonical, **values}


def catalog_rerender_stale(*, limit: int) -> list[str]:
    """Submit batch re-renders of current images whose render_key is outdated (at most `limit`)."""
    submitted: list[str] = []
    images = CatalogImage.objects.filter(is_current=True, render_job_id__isnull=False)
    jobs = RenderJob.objects.select_related("product", "recipe")
    for image in images.order_by("created_at").iterator():
        if len(submitted) >= limit:
            break
        job = jobs.filter(pk=image.render_job_id).first()
        if job is None:
            continue
        try:
            key, arguments = _today(job)
        except (RecipeError, ParamError, LookupError) as exc:
            logger.warning("cannot re-render catalog image %s: %s", image.pk, exc)
            continue
        if key == image.render_key:
            continue
        try:
            result = render_job_submit(
                product_sku=job.product.sku,
                requester=SCHEDULER,
                queue=RenderJob.Queue.BATCH,
                **arguments,
            )
        except RenderRequestError as exc:
            logger.warning("re-render of catalog image %s refused: %s", image.pk, exc.message)
            continue
        if result.created:
            submitted.append(str(result.job.pk))
    return submitted
