"""Shared helpers for the gpu_worker tests (the stock palette from its JSON, no Django).

Imported by module name: pytest puts this folder on sys.path (it is not a package, so it
cannot shadow the real gpu_worker package).
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from catalog.geometry import GranuleSize, Shape, TileGeometry
from catalog.palette import stock_palette_colors
from catalog.recipes import Component, Recipe
from gpu_worker.colour.ciede2000 import distinct_codes
from gpu_worker.contract import RenderSpec
from gpu_worker.params import RenderParams

PALETTE = stock_palette_colors()

# Colours no one would confuse, granule by granule, under any light: what a picture file
# alone can be asked to tell apart (look-alikes differ less than shading changes a granule).
DISTINCT = distinct_codes({c.code: c.lab for c in PALETTE}, 20.0)


def make_spec(
    recipe: dict[str, int],
    *,
    shape: Shape = "square",
    view: str = "top",
    angle: int = 0,
    size: int = 256,
    seed: int = 0,
    granule: GranuleSize = "medium",
    width_mm: int = 500,
    height_mm: int = 500,
    quality: str = "standard",
    tilt: float = 55.0,
) -> RenderSpec:
    components = sorted(
        (Component(code=c, percent=p) for c, p in recipe.items()), key=lambda c: c.code
    )
    return RenderSpec(
        tile=TileGeometry(
            shape=shape,
            width_mm=width_mm,
            height_mm=height_mm,
            thickness_mm=30,
            granule_size=granule,
        ),
        recipe=Recipe(components=tuple(components)),
        palette=PALETTE,
        params=RenderParams(
            view=view, angle=angle, size=size, seed=seed, quality=quality, tilt=tilt
        ),
    )


@st.composite
def recipes(draw: st.DrawFn, max_colours: int = 8) -> list[int]:
    """Whole percents, 1..max_colours of them, summing to 100."""
    k = draw(st.integers(1, max_colours))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=k - 1, max_size=k - 1, unique=True)))
    bounds = [0, *cuts, 100]
    return [b - a for a, b in itertools.pairwise(bounds)]


def spec_from(percents, seed, shape, view, angle, granule, size=256, colours=None):
    """A spec of the drawn recipe percents over random palette colours (bricks 2:1)."""
    rng = np.random.default_rng(seed)
    pool = [c.code for c in PALETTE] if colours is None else list(colours)
    codes = rng.choice(pool, size=len(percents), replace=False)
    return make_spec(
        dict(zip(codes, percents, strict=True)),
        shape=shape,
        view=view,
        angle=angle,
        seed=seed,
        granule=granule,
        size=size,
        width_mm=200 if shape == "brick" else 500,
        height_mm=100 if shape == "brick" else 500,
    )


def random_specs(
    colours: tuple[str, ...] | None = None, sizes: tuple[int, ...] = (256, 384, 512)
) -> st.SearchStrategy[RenderSpec]:
    """Specs of random recipes (over `colours`, default the whole palette), shapes, views,
    angles, grades and sizes."""
    return st.builds(
        spec_from,
        recipes(),
        st.integers(0, 2**31 - 1),
        st.sampled_from(["square", "brick", "puzzle"]),
        st.sampled_from(["top", "perspective"]),
        st.integers(0, 359),
        st.sampled_from(["fine", "medium", "coarse"]),
        st.sampled_from(sizes),
        st.just(colours),
    )
