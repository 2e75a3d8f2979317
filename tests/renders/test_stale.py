"""Scheduled re-renders of catalog images whose inputs changed."""

from __future__ import annotations

import pytest

from catalog.models import ColorRecipe, TileProduct
from catalog.selectors import recipe_validate
from catalog.services import recipe_update
from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.services import (
    Requester,
    catalog_rerender_stale,
    render_job_submit,
)
from renders.worker.execute import render_job_execute

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


@pytest.fixture
def rendered(db, demo_catalog, broker):
    recipe = ColorRecipe.objects.get(name="Autumn")
    job = render_job_submit(
        product_sku="SQ-500-30",
        recipe=recipe.pk,
        requester=REQUESTER,
        params=RenderParams(size=256),
    ).job
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"
    return job


def test_nothing_is_stale_when_nothing_changed(rendered):
    assert catalog_rerender_stale(limit=10) == []


def test_a_changed_product_is_re_rendered_on_the_batch_queue(rendered):
    TileProduct.objects.filter(sku="SQ-500-30").update(thickness_mm=45)
    submitted = catalog_rerender_stale(limit=10)
    assert len(submitted) == 1
    job = RenderJob.objects.get(pk=submitted[0])
    assert (job.queue, job.source, job.params["view"], job.params["size"]) == (
        "batch",
        "schedule",
        "top",
        256,
    )
    assert job.params["product"]["thickness_mm"] == 45
    # Until it has run, the next sweep finds the same job rather than making another.
    assert catalog_rerender_stale(limit=10) == []


def test_a_changed_recipe_is_re_rendered_with_its_new_mix(rendered):
    recipe = ColorRecipe.objects.get(name="Autumn")
    recipe_update(recipe_row=recipe, name="Autumn", recipe=recipe_validate(value="RED:50,BLACK:50"))
    submitted = catalog_rerender_stale(limit=10)
    job = RenderJob.objects.get(pk=submitted[0])
    assert job.recipe_canonical == "BLACK:50,RED:50"
    assert job.params["seed"] != rendered.params["seed"]  # the derived seed follows the recipe


def test_the_sweep_is_bounded(db, demo_catalog, broker):
    for seed in range(3):
        job = render_job_submit(
            product_sku="BR-200-100-40",
            recipe="RED:100",
            requester=REQUESTER,
            params=RenderParams(size=256, seed=seed, angle=seed),
        ).job
        render_job_execute(job_id=job.pk, worker_name="w1")
    TileProduct.objects.filter(sku="BR-200-100-40").update(granule_size="coarse")
    assert len(catalog_rerender_stale(limit=2)) == 2


def test_an_undone_edit_shows_the_earlier_picture_again(rendered):
    from catalog.models import CatalogImage

    TileProduct.objects.filter(sku="SQ-500-30").update(thickness_mm=45)
    [thicker] = catalog_rerender_stale(limit=10)
    assert render_job_execute(job_id=thicker, worker_name="w1") == "succeeded"
    TileProduct.objects.filter(sku="SQ-500-30").update(thickness_mm=30)  # undone
    assert catalog_rerender_stale(limit=10) == []  # nothing to render: it exists
    current = CatalogImage.objects.get(product__sku="SQ-500-30", is_current=True)
    assert current.render_job_id == rendered.pk
    assert catalog_rerender_stale(limit=10) == []  # and the sweep is quiet from then on
