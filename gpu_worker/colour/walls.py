"""Side walls of a perspective view: the dim band above the tile's lower outline.

Stage 5 of `measure`. A tile photographed from above and in front shows its top face and,
below it, the walls that face the camera: the same crumb cut through, in the shade of the
top. Looking straight down the picture from any point of a wall, the silhouette ends
within the wall's height; from the top face it ends only after the wall's height more.
So walls are found as a *depth*: for each depth d (px above the silhouette's lower
outline, column by column) the mean log light of all the tile's pixels at that depth,
along the whole outline at once. Walls make the first depths dim; the band ends where the
light is back halfway to the top face's. Each depth's mean spans the whole outline, so
it mixes every colour of the recipe, on the wall as on the top: the dip is the wall's
shade, not a colour.

Two measures of light are used, each blind in its own way:

- each pixel's implied light, its luminance over what its core's colour shows when lit.
  It does not see colour, so it decides when it shows a wall's dip; but a wall whose dim
  granules pass for a darker recipe colour (dim GRAY for BLACK) shows only part of it.
- the picture's luminance. A cluster of dark granules along a top view's edge can dip it
  as deep as a wall, so it is believed only where both halves of the outline, left and
  right, dip on their own: walls run along the whole lower outline, a cluster does not.

A top view has no dip, and no band: its outline's depths are lit like the rest of the
face.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .segmentation import LIN32, Granules

# Deeper than this share of the tile's height in the picture is top face, whatever the
# light: no tile is drawn or photographed that steeply.
MAX_DEPTH = 0.35
# A wall is lit at most this much of the top face, at its dimmest (a product photo's side
# walls, and the renders', get a quarter to a half of the top's light).
WALL_DIM = 0.6
# The outline's outermost depths mix tile and background; the dip is looked for from
# here on, and must have begun DIP_START_WITHIN px later.
OUTLINE_PX = 3
DIP_START_WITHIN = 4
_LUMA = np.array([0.2126729, 0.7151522, 0.0721750], np.float32)


def depth_above_outline(interior: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Per pixel of `interior`: rows down to the first pixel outside it (1 = on the outline)."""
    h = interior.shape[0]
    rows = np.arange(h, dtype=np.int32)[:, None]
    outside = np.where(interior, np.int32(h), rows)
    # The first outside row at or below each pixel: a running minimum from the bottom up.
    below = np.minimum.accumulate(outside[::-1], axis=0)[::-1]
    depth: NDArray[np.int32] = np.where(interior, below - rows, 0).astype(np.int32)
    return depth


def implied_light(
    image: NDArray[np.uint8], g: Granules, light: NDArray[np.float64], usable: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """Log implied light per pixel (NaN off the usable cores).

    `light` is each core's light relative to the tile's typical lit face (from
    `classify`); a pixel of the core has it in proportion to its own luminance.
    """
    per_core = np.where(usable & (g.y > 0), light / np.maximum(g.y, 1e-12), np.nan)
    per_core[0] = np.nan
    lum = LIN32[image] @ _LUMA
    with np.errstate(invalid="ignore"):
        out: NDArray[np.float32] = np.log(
            np.maximum(lum * per_core.astype(np.float32)[g.ids], np.float32(1e-3))
        )
    return out


def _dip_end(profile: NDArray[np.float64], deepest: int) -> int | None:
    """The last depth of a wall's dip at the outline, or None if there is none.

    `profile` is mean log light per depth relative to the top face's.
    """
    bottom = OUTLINE_PX + int(np.argmin(profile[OUTLINE_PX:deepest]))
    low = float(profile[bottom])
    # A wall's shade, and one that begins at the outline: not a dark patch further in.
    if low > np.log(WALL_DIM) or profile[OUTLINE_PX + DIP_START_WITHIN] > low / 2.0:
        return None
    end = bottom
    while end < deepest and profile[end] < low / 2.0:
        end += 1
    return end - 1


def walls_band(
    *,
    log_luma: NDArray[np.float32],
    implied: NDArray[np.float32],
    interior: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """The side walls' pixels of `interior` (none in a top view)."""
    none = np.zeros_like(interior)
    rows = np.flatnonzero(interior.any(axis=1))
    if not len(rows):
        return none
    deepest = int(MAX_DEPTH * (rows[-1] - rows[0] + 1))
    if deepest <= OUTLINE_PX + DIP_START_WITHIN:
        return none
    depth = depth_above_outline(interior)
    implied_profile = _profile(implied, depth, interior, deepest)
    if implied_profile is None:
        return none
    end = _dip_end(implied_profile, deepest)
    if end is None:
        cols = np.arange(interior.shape[1])[None, :]
        middle = float(np.median(np.nonzero(interior)[1]))
        halves = (interior & (cols < middle), interior & (cols >= middle))
        if all(_dips(log_luma, depth, half, deepest) for half in halves):
            luma_profile = _profile(log_luma, depth, interior, deepest)
            end = None if luma_profile is None else _dip_end(luma_profile, deepest)
    if end is None:
        return none
    band: NDArray[np.bool_] = interior & (depth <= end)
    return band


def _dips(
    values: NDArray[np.float32],
    depth: NDArray[np.int32],
    part: NDArray[np.bool_],
    deepest: int,
) -> bool:
    profile = _profile(values, depth, part, deepest)
    return profile is not None and _dip_end(profile, deepest) is not None


def _profile(
    values: NDArray[np.float32],
    depth: NDArray[np.int32],
    interior: NDArray[np.bool_],
    deepest: int,
) -> NDArray[np.float64] | None:
    """Mean of `values` per depth up to `deepest`, relative to the top face's median."""
    valid = interior & np.isfinite(values)
    d = np.minimum(depth[valid], deepest + 1)
    v = values[valid].astype(np.float64)
    face = d > deepest
    if not face.any():
        return None
    count = np.bincount(d, minlength=deepest + 2)
    mean = np.bincount(d, weights=v, minlength=deepest + 2) / np.maximum(count, 1)
    # A depth's pixels are few (one row along the outline): smooth over three.
    out: NDArray[np.float64] = np.convolve(
        mean - float(np.median(v[face])), np.ones(3) / 3.0, mode="same"
    )
    return out
