"""Granule albedo: which recipe colour each granule gets, and its per-granule jitter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from gpu_worker.colour.apportion import colours_for_areas
from gpu_worker.colour.convert import lab_to_linear
from gpu_worker.spec import PaletteColor, RecipeComponent

# The palette's lightness_spread is the IQR of L* over whole photos, which includes the
# shading; the granule-to-granule part of it is roughly half. IQR = 1.349 sigma.
LIGHTNESS_SHARE = 0.45
HUE_JITTER_DEG = 4.0


def granule_albedo(
    *,
    areas: NDArray[np.int64],
    recipe: Sequence[RecipeComponent],
    palette: dict[str, PaletteColor],
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float32]]:
    """(component index, Lab, linear RGB) per granule id (index 0 is unused).

    The jitter is zero-mean per component when weighted by visible area, so each colour's
    area-mean Lab stays on the palette's measured value.
    """
    comp = colours_for_areas(areas=areas, percents=[c.percent for c in recipe], rng=rng)
    base = np.array([palette[c.code].lab for c in recipe], dtype=np.float64)
    spread = np.array([palette[c.code].lightness_spread for c in recipe], dtype=np.float64)
    n = areas.size
    dl = rng.standard_normal(n) * (LIGHTNESS_SHARE * spread[comp] / 1.349)
    dh = rng.standard_normal(n) * np.tan(np.radians(HUE_JITTER_DEG))
    w = areas.astype(np.float64) + 1e-9
    k = len(recipe)
    for arr in (dl, dh):
        mean = np.bincount(comp, weights=arr * w, minlength=k) / np.bincount(
            comp, weights=w, minlength=k
        )
        arr -= mean[comp]
    lab = base[comp].copy()
    lab[:, 0] += dl
    # Hue jitter as a step perpendicular to the (a*, b*) vector: linear, so a zero-mean
    # step keeps the mean exactly, and grey granules (no hue) are left alone.
    lab[:, 1] += -dh * base[comp, 2]
    lab[:, 2] += dh * base[comp, 1]
    lab[:, 0] = np.clip(lab[:, 0], 1.0, 99.0)
    linear = np.clip(lab_to_linear(lab), 0.0, 1.0).astype(np.float32)
    return comp, lab, linear
