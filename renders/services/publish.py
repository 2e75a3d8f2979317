"""Putting a finished render in the catalog: the picture a product shows."""

from __future__ import annotations

from catalog.models import CatalogImage
from catalog.services import catalog_image_replace
from renders.models import RenderJob


def render_job_publish(*, job: RenderJob) -> CatalogImage:
    """Make a succeeded job's picture the product's current image for its recipe, view and
    angle (the one before stays as history). Safe to call twice for the same job."""
    if not job.result_image or job.result_width is None or job.result_height is None:
        raise ValueError(f"job {job.pk} has no picture to publish")
    params = job.render_params
    return catalog_image_replace(
        product=job.product,
        recipe_canonical=job.recipe_canonical,
        view=params.view,
        angle=params.angle,
        image_name=job.result_image.name or "",
        thumbnail_name=job.result_thumbnail.name or "",
        width=job.result_width,
        height=job.result_height,
        render_key=job.render_key,
        render_job_id=job.pk,
        fidelity=job.fidelity,
    )
