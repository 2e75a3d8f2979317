"""Between rows and plain data: render params from catalog rows, engine specs from jobs."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from catalog.models import Color, TileProduct
from catalog.recipes import Recipe
from catalog.selectors import color_list
from gpu_worker.engines.registry import engine_names
from gpu_worker.spec import PaletteColor, RecipeComponent, RenderSpec, TileGeometry
from renders.models import RenderJob
from renders.params import ProductGeometry, RenderParams, render_params_build


def product_geometry(product: TileProduct) -> ProductGeometry:
    return ProductGeometry(
        sku=product.sku,
        shape=product.shape,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        thickness_mm=product.thickness_mm,
        granule_size=product.granule_size,
    )


def engines_available() -> dict[str, bool]:
    """Every known engine, and whether this site lets callers use it."""
    return {name: name in settings.RENDER_ENGINES_ENABLED for name in engine_names()}


def render_params_for(*, product: TileProduct, recipe: Recipe, **values: Any) -> RenderParams:
    return render_params_build(
        product=product_geometry(product), recipe=recipe, engines=engines_available(), **values
    )


def _palette_entry(color: Color) -> dict[str, Any]:
    return {
        "hex": color.hex,
        "lab": [color.lab_l, color.lab_a, color.lab_b],
        "lightness_spread": color.lightness_spread,
    }


def recipe_snapshot(recipe: Recipe) -> list[dict[str, Any]]:
    """The components with each colour as measured now: what the render will use."""
    colors = {c.code: c for c in color_list(include_inactive=True)}
    return [
        {"color": c.code, "percent": c.percent, **_palette_entry(colors[c.code])}
        for c in recipe.components
    ]


def palette_current() -> dict[str, PaletteColor]:
    """The active stock colours as the engines and the analyzer take them."""
    return {
        c.code: PaletteColor.measured(
            code=c.code, lab=c.lab, hex_code=c.hex, lightness_spread=c.lightness_spread
        )
        for c in color_list()
    }


def render_spec_build(*, params: dict[str, Any], snapshot: list[dict[str, Any]]) -> RenderSpec:
    """The engine's input from normalised params and a recipe snapshot."""
    product = params["product"]
    palette = palette_current()
    for entry in snapshot:  # the snapshot wins: render what was asked for
        palette[entry["color"]] = PaletteColor.measured(
            code=entry["color"],
            lab=entry["lab"],
            hex_code=entry["hex"],
            lightness_spread=entry["lightness_spread"],
        )
    return RenderSpec(
        tile=TileGeometry(
            shape=product["shape"],
            width_mm=product["width_mm"],
            height_mm=product["height_mm"],
            thickness_mm=product["thickness_mm"],
            granule=product["granule_size"],
        ),
        recipe=tuple(RecipeComponent(code=e["color"], percent=e["percent"]) for e in snapshot),
        palette=tuple(palette.values()),
        view=params["view"],
        angle=params["angle"],
        size=params["size"],
        seed=params["seed"],
        quality=params["quality"],
        options=dict(params["options"]),
    )


def render_spec_for(job: RenderJob) -> RenderSpec:
    """The engine's input, from the job's snapshot (not from today's catalog)."""
    return render_spec_build(params=job.params, snapshot=job.recipe_snapshot)
