"""The prompt for a tile: one builder, from the canonical recipe's own percents."""

from __future__ import annotations

from gpu_worker.contract import RenderSpec

_VIEW = {
    "top": "top view, straight down",
    "perspective": "three-quarter view showing the tile's edge",
}


def tile_prompt(spec: RenderSpec) -> str:
    """What to draw: each colour with its share, then the product and its view.

    The shares are the recipe's percents as stored, never recomputed; colours by their
    palette codes, largest first, and first in the prompt: a text encoder reads 77 tokens
    and drops the rest, so what must not be lost comes first.
    """
    parts = sorted(spec.recipe.components, key=lambda c: (-c.percent, c.code))
    colours = ", ".join(f"{c.percent}% {c.code.lower()}" for c in parts)
    view = _VIEW.get(spec.params.view, spec.params.view)
    return (
        f"{colours} rubber crumb granules, EPDM tile, {spec.tile.granule_size} granules, "
        f"{view}, product photo, soft light, white background"
    )
