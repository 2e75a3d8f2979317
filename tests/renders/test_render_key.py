"""Render keys of existing jobs stay valid: the key of a fixed request is pinned."""

from __future__ import annotations

from catalog.geometry import TileGeometry
from catalog.recipes import Component, Recipe
from gpu_worker.params import RenderParams
from renders.render_key import render_key_compute, render_request_normalise, seed_derive

TILE = TileGeometry(
    shape="square", width_mm=500, height_mm=500, thickness_mm=30, granule_size="medium"
)
RECIPE = Recipe(components=(Component("BLACK", 40), Component("RED", 60)))


def key_of(params: RenderParams) -> str:
    normalised = render_request_normalise(sku="SQ-500-30", tile=TILE, recipe=RECIPE, params=params)
    return render_key_compute(normalised=normalised, engine_version="1.5.0", model_revision=None)


def test_keys_are_what_they_were_before_the_parameters_were_declared_once():
    # Computed by the code of procedural 1.5.0 before the refactor (renders/params.py).
    seed = seed_derive(sku="SQ-500-30", recipe=RECIPE)
    assert seed == 777873876
    assert key_of(RenderParams(seed=seed)) == (
        "0f8ab189a853b0b01b5974a2bbbbccd280394fbcddd74893cd8e989173183998"
    )
    custom = RenderParams(
        view="perspective", angle=45, size=512, seed=7, quality="high", options={"tilt": 30}
    )
    assert key_of(custom) == "a205869be0efbdb359ca3a0a47e2738351e47287ef493f28db06915b11415a0f"


def test_the_key_follows_the_engine_version_and_model_revision():
    normalised = render_request_normalise(
        sku="SQ-500-30", tile=TILE, recipe=RECIPE, params=RenderParams(seed=1)
    )
    keys = {
        render_key_compute(normalised=normalised, engine_version=v, model_revision=r)
        for v, r in (("1.5.0", None), ("1.6.0", None), ("1.5.0", "abc"))
    }
    assert len(keys) == 3
