"""Rendering the standard views of many products in many recipes at once (batch queue)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from catalog.models import ColorRecipe, TileProduct
from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.services.submit import Requester, render_job_submit, render_recipe_resolve

# What "render all views" means for a product page: (view, angle).
STANDARD_VIEWS: tuple[tuple[str, int], ...] = (("top", 0), ("perspective", 0), ("perspective", 45))


def product_render_all_views(
    *,
    products: Iterable[TileProduct],
    recipes: Iterable[ColorRecipe],
    params: RenderParams,
    requester: Requester,
) -> int:
    """Submit every standard view of each product in each recipe; returns new jobs made.

    `params` gives everything but the view and angle (size, engine, quality, ...).
    """
    made = 0
    chosen = [render_recipe_resolve(value=recipe.pk) for recipe in recipes]  # each parsed once
    for product in products:
        for choice in chosen:
            for view, angle in STANDARD_VIEWS:
                result = render_job_submit(
                    product_sku=product.sku,
                    recipe=choice,
                    params=replace(params, view=view, angle=angle),
                    requester=requester,
                    queue=RenderJob.Queue.BATCH,
                )
                made += int(result.created)
    return made
