"""Granule albedo: which recipe colour each granule gets, and its per-granule jitter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from catalog.palette import PaletteColor
from catalog.recipes import Component
from gpu_worker.colour.apportion import colours_for_areas
from gpu_worker.colour.convert import lab_to_linear

# The palette's lightness_spread is the IQR of L* over whole photos, which includes the
# shading, the binder and the camera; the granule-to-granule part is taken as 0.3 of it
# (IQR = 1.349 sigma). More would also bias the palette's own measuring rule (median of the
# brightest 70 % of a colour's pixels) upward by ~0.4 sigma: at 0.45 the high-spread
# colours (DKGREEN, VIOLET) measured ΔE2000 2-3 against their own palette value.
LIGHTNESS_SHARE = 0.2
HUE_JITTER_DEG = 4.0
# Jitter clamp. Real batches of one recipe use colours chosen to be told apart, so no granule
# of colour A should look more like another colour B of the same recipe than like A. In Lab
# with lightness at half weight (shading moves lightness, so it is the weaker cue, as in the
# analyzer), each granule's jitter is kept inside the half-space on A's side of the midplane
# between A and B, CLAMP_FRACTION of the way to it, for every other recipe colour B. At 0.55
# slope-shaded granules of colours that differ mostly in lightness (BLUE/DKBLUE,
# GRAY/LTGRAY) still read as each other now and then; 0.35 leaves room for the shading.
FULL_JITTER_GRANULES = 40
CLAMP_L_WEIGHT = 0.5
CLAMP_FRACTION = 0.35
_CLAMP_ROUNDS = 6


def granule_albedo(
    *,
    areas: NDArray[np.int64],
    recipe: Sequence[Component],
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
    # Hue jitter as a step perpendicular to the (a*, b*) vector: linear, so a zero-mean
    # step keeps the mean exactly, and grey granules (no hue) are left alone.
    jitter = np.stack([dl, -dh * base[comp, 2], dh * base[comp, 1]], axis=1)
    # A colour with a handful of granules (1-3 % of a small picture) is jittered less: its
    # few granules are all a viewer sees of it, and all the measurement has.
    counts = np.bincount(comp[areas > 0], minlength=len(recipe)).astype(np.float64)
    jitter *= np.minimum(1.0, np.sqrt(counts / FULL_JITTER_GRANULES))[comp, None]
    w = areas.astype(np.float64) + 1e-9
    jitter = _clamp_jitter(jitter, comp=comp, base=base, weights=w)
    lab = base[comp] + jitter
    lab[:, 0] = np.clip(lab[:, 0], 1.0, 99.0)
    linear = np.clip(lab_to_linear(lab), 0.0, 1.0).astype(np.float32)
    return comp, lab, linear


def _centre(jitter: NDArray[np.float64], comp: NDArray[np.int64], w: NDArray[np.float64], k: int):
    """Subtract each component's area-weighted mean jitter (in place)."""
    tot = np.bincount(comp, weights=w, minlength=k)
    for c in range(3):
        mean = np.bincount(comp, weights=jitter[:, c] * w, minlength=k) / tot
        jitter[:, c] -= mean[comp]


def _clamp_jitter(
    jitter: NDArray[np.float64],
    *,
    comp: NDArray[np.int64],
    base: NDArray[np.float64],
    weights: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Zero-mean jitter that keeps every granule nearer its own colour than any other.

    Each granule whose jitter crosses a limit is shrunk towards its colour (by the factor
    that puts it on the limit), then every colour is re-centred; a few rounds settle it,
    since shrinking only removes the tail on the far side. The last step is the centring,
    so the area-weighted mean is exact; a clamped granule may end a hair past its limit,
    which the margin (1 - CLAMP_FRACTION of the half-distance) absorbs.
    """
    k = len(base)
    _centre(jitter, comp, weights, k)
    if k == 1:
        return jitter
    scale = np.array([CLAMP_L_WEIGHT, 1.0, 1.0])
    wb = base * scale
    diff = wb[None, :, :] - wb[:, None, :]  # (k, k, 3): from colour i towards colour j
    dist = np.linalg.norm(diff, axis=2)
    np.fill_diagonal(dist, np.inf)
    unit = diff / np.maximum(dist, 1e-9)[..., None]
    limit = CLAMP_FRACTION * dist / 2.0  # inf on the diagonal
    for _ in range(_CLAMP_ROUNDS):
        proj = np.einsum("nc,nkc->nk", jitter * scale, unit[comp])  # towards each colour
        factor = np.min(np.where(proj > 0, limit[comp] / np.maximum(proj, 1e-12), np.inf), 1)
        over = factor < 1.0
        if not over.any():
            break
        jitter[over] *= factor[over, None]
        _centre(jitter, comp, weights, k)
    return jitter
