"""Deciding each granule core's colour (stage 3 of `measure`).

Each core is classified by the mean linear RGB of its lit part (its pixels at or over its
mean luminance: the flat top and the slopes facing the light). The comparison is shading
tolerant (chroma normalised by the lightness ratio, lightness weighted low) and done after
one exposure factor for the picture; cores whose light is far from a lit face are dropped.

Without a recipe, look-alike palette pairs are merged here too (`merge_lookalikes`).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from .ciede2000 import delta_e00
from .convert import linear_to_lab
from .segmentation import WEIGHT_BRIGHTER, WEIGHT_DARKER, Granules, distance

# Implied light of a core, relative to the tile's typical lit face, for it to count as a
# granule face (below: a gap floor or deep shadow; above: glare).
LIT_RANGE = (0.4, 2.2)
# Lightness weight when the cores are whole granules. A core cut from a picture may be a
# granule's shaded side, so darker than a candidate counts less than brighter there
# (segmentation.WEIGHT_DARKER/BRIGHTER); a whole granule's lit face is not in shade, and a
# lopsided weight would only tilt look-alike pairs (GRAY/LTGRAY) towards the lighter one.
WEIGHT_WHOLE = 0.45
MAX_DISTANCE = 40.0  # no candidate this close: not a palette colour (dirt, glare)
# Look-alike palette pairs (ΔE2000 below this) cannot be told apart without a recipe.
LOOKALIKE_DE = 8.5


def _lab_y(lightness: NDArray[np.float64]) -> NDArray[np.float64]:
    f = (lightness + 16.0) / 116.0
    return np.where(lightness > 8.0, f**3, lightness / 903.3)


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def classify(
    g: Granules,
    cand: NDArray[np.float64],
    usable: NDArray[np.bool_],
    *,
    whole: bool = False,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
    """(class, implied light, ok) per core. Light is normalised by the tile's lit level.

    `whole`: the cores are whole granules (their outlines were given), so each one's lit
    part is its lit face, and lightness counts the same either way (see WEIGHT_WHOLE).
    """
    weights = (WEIGHT_WHOLE, WEIGHT_WHOLE) if whole else (WEIGHT_DARKER, WEIGHT_BRIGHTER)
    best = np.zeros(g.n, np.int64)
    light = np.zeros(g.n)
    ok = np.zeros(g.n, bool)
    idx = np.flatnonzero(usable)
    if not len(idx) or not len(cand):
        return best, light, ok
    yc = _lab_y(cand[:, 0])
    kappa = 1.0
    lab = g.lab[idx]
    # Two rounds: the first finds the typical lit level of the faces (shading and exposure
    # of this picture), the second classifies with the lightness put back on that scale.
    for _ in range(2):
        scaled = linear_to_lab(g.linear[idx] / kappa)
        dist = distance(scaled, cand, weights)
        b = np.argmin(dist, axis=1)
        s = g.y[idx] / yc[b]
        good = np.take_along_axis(dist, b[:, None], axis=1)[:, 0] <= MAX_DISTANCE
        w = g.area[idx] * good
        if w.sum() <= 0:
            break
        order = np.argsort(s)
        cum = np.cumsum(w[order])
        kappa = float(s[order][np.searchsorted(cum, 0.5 * cum[-1])])
        kappa = max(kappa, 1e-3)
        lab = scaled
    del lab
    best[idx] = b
    light[idx] = s / kappa
    # Whether a core is a lit face is judged against its own colour's typical level: a
    # camera's tone curve and deep shadows darken dark colours more than bright ones, and
    # one global level would throw out dark granules (and give their area to neighbours).
    own = np.ones(len(cand))
    for c in range(len(cand)):
        mine = (b == c) & good
        if mine.any():
            # By area: many crumbs of dark binder left between wide gaps' floors must not
            # outvote the granule faces.
            own[c] = _weighted_median(light[idx][mine], g.area[idx][mine])
    rel = light[idx] / own[b]
    ok[idx] = good & (rel >= LIT_RANGE[0]) & (rel <= LIT_RANGE[1])
    return best, light, ok


def merge_lookalikes(
    codes: list[str],
    cand: NDArray[np.float64],
    g: Granules,
    cls: NDArray[np.int64],
    keep: NDArray[np.bool_],
) -> list[int]:
    """Indices of `codes` to keep after merging look-alike pairs (no recipe given).

    Granule to granule, BLACK/DKGRAY, GRAY/LTGRAY, WHITE/PEARL differ less than one
    colour's own spread; split between two such candidates, one colour would read as two.
    The pair becomes the one whose palette value is nearer the pooled (area-weighted)
    colour of their granules.
    """
    alive = list(range(len(codes)))
    for i, j in itertools.combinations(range(len(codes)), 2):
        if i not in alive or j not in alive:
            continue
        if float(delta_e00(cand[i], cand[j])) >= LOOKALIKE_DE:
            continue
        sel = keep & ((cls == i) | (cls == j))
        if not sel.any():
            continue
        pooled = linear_to_lab(np.average(g.linear[sel], axis=0, weights=g.area[sel]))
        di, dj = (float(delta_e00(pooled, cand[m])) for m in (i, j))
        alive.remove(j if di <= dj else i)
    return alive
