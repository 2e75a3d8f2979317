"""Shared helpers for the gpu_worker tests (plain JSON palette, no Django).

Imported by module name: pytest puts this folder on sys.path (it is not a package, so it
cannot shadow the real gpu_worker package).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from gpu_worker.spec import PaletteColor, RecipeComponent, RenderSpec, TileGeometry

PALETTE_JSON = Path(__file__).resolve().parents[2] / "catalog" / "data" / "palette.json"


def palette_load() -> tuple[PaletteColor, ...]:
    data = json.loads(PALETTE_JSON.read_text(encoding="utf-8"))
    return tuple(
        PaletteColor.measured(
            code=c["code"],
            lab=c["lab"],
            hex_code=c["hex"],
            lightness_spread=c["lightness_spread"],
        )
        for c in data["colors"]
    )


PALETTE = palette_load()


def make_spec(
    recipe: dict[str, int],
    *,
    shape: str = "square",
    view: str = "top",
    angle: int = 0,
    size: int = 256,
    seed: int = 0,
    granule: str = "medium",
    width_mm: float = 500.0,
    height_mm: float = 500.0,
) -> RenderSpec:
    return RenderSpec(
        tile=TileGeometry(
            shape=shape,  # type: ignore[arg-type]
            width_mm=width_mm,
            height_mm=height_mm,
            thickness_mm=30.0,
            granule=granule,  # type: ignore[arg-type]
        ),
        recipe=tuple(RecipeComponent(code=c, percent=p) for c, p in recipe.items()),
        palette=PALETTE,
        view=view,  # type: ignore[arg-type]
        angle=angle,
        size=size,
        seed=seed,
    )


@st.composite
def recipes(draw: st.DrawFn, max_colours: int = 8) -> list[int]:
    """Whole percents, 1..max_colours of them, summing to 100."""
    k = draw(st.integers(1, max_colours))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=k - 1, max_size=k - 1, unique=True)))
    bounds = [0, *cuts, 100]
    return [b - a for a, b in itertools.pairwise(bounds)]


def spec_from(percents, seed, shape, view, angle, granule, size=256):
    """A spec of the drawn recipe percents over random palette colours (bricks 2:1)."""
    rng = np.random.default_rng(seed)
    codes = rng.choice([c.code for c in PALETTE], size=len(percents), replace=False)
    return make_spec(
        dict(zip(codes, percents, strict=True)),
        shape=shape,
        view=view,
        angle=angle,
        seed=seed,
        granule=granule,
        size=size,
        width_mm=200.0 if shape == "brick" else 500.0,
        height_mm=100.0 if shape == "brick" else 500.0,
    )
