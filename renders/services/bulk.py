"""Rendering the standard views of many products in many recipes at once (batch queue)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from catalog.models import ColorRecipe, TileProduct
from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.services.submit import Requester, render_job_submit, render_recipe_resolve

# What "render all views" means for a product page: (view, angle).
STANDARD_VIEWS: tuple[tuple[str, int], ...] = (("top", 0), ("perspective", 0), ("perspective", 45))


@dataclass(slots=True)
class BulkReport:
    """What a bulk render did with each render it asked for."""

    queued: list[uuid.UUID] = field(default_factory=list)  # new jobs
    in_progress: list[uuid.UUID] = field(default_factory=list)  # identical ones on their way
    up_to_date: list[uuid.UUID] = field(default_factory=list)  # identical ones already done


def product_render_all_views(
    *,
    products: Iterable[TileProduct],
    recipes: Iterable[ColorRecipe],
    params: RenderParams,
    requester: Requester,
    views: Sequence[tuple[str, int]] = STANDARD_VIEWS,
) -> BulkReport:
    """Submit each (view, angle) of `views` (the standard ones unless told) for each
    product in each recipe, on the batch queue.

    `params` gives everything but the view and angle (size, engine, quality, ...).
    """
    report = BulkReport()
    chosen = [render_recipe_resolve(value=recipe.pk) for recipe in recipes]  # each parsed once
    for product in products:
        for choice in chosen:
            for view, angle in views:
                result = render_job_submit(
                    product_sku=product.sku,
                    recipe=choice,
                    params=replace(params, view=view, angle=angle),
                    requester=requester,
                    queue=RenderJob.Queue.BATCH,
                )
                if result.created:
                    report.queued.append(result.job.pk)
                elif result.job.is_terminal:
                    report.up_to_date.append(result.job.pk)
                else:
                    report.in_progress.append(result.job.pk)
    return report
