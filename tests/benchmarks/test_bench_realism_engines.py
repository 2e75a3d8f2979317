"""The realism benchmark renders with the hybrid engine too (plumbing, with the tiny model)."""

from __future__ import annotations

import cv2
import numpy as np
from bench_realism import PHOTO_TILE, Renderer, load_pairs

from catalog.palette import stock_palette_colors
from catalog.recipes import Recipe
from gpu_worker.contract import RenderSpec
from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV
from gpu_worker.engines.diffusion.tiny import tiny_sdxl_save
from gpu_worker.engines.registry import engine_get
from gpu_worker.params import RenderParams


def test_hybrid_renders_are_measured_beside_the_photos(tmp_path, monkeypatch):
    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    recipe = Recipe.from_canonical("BLACK:50,RED:50")
    # A stand-in "photo": a procedural render on white, named as the photo set names them.
    spec = RenderSpec(
        tile=PHOTO_TILE,
        recipe=recipe,
        palette=stock_palette_colors(),
        params=RenderParams(size=320, seed=1),
    )
    photo = engine_get("procedural").render(spec).image
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "REDp50_BLACKp50_top.jpg"), np.ascontiguousarray(photo[..., ::-1]))
    model = tiny_sdxl_save(tmp_path / "tiny-sdxl")
    renderer = Renderer(engine="hybrid", options={"model": str(model), "steps": 2}, max_size=256)
    (pair,) = load_pairs(photos, renderer, limit=1)
    assert pair.recipe.canonical == recipe.canonical
    assert pair.render.shape[2] == 3 and pair.render.size > 0
    assert pair.appearance_render is not None and pair.thumbnail_error_pp >= 0
