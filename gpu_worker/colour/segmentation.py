"""Finding the tile and its granule cores in a picture (stages 1 and 2 of `measure`).

1. Tile vs background: granules are textured, paper and soft shadows are smooth
   (`tile_region`); the outline to the pixel by flooding the smooth background.
2. Granules: the gaps between granules are dark *valley floors* (brighter within a few px
   on both sides along some direction, nothing darker nearby), and a change between two
   clearly different recipe colours marks a one-pixel line (a thin gap that blur has
   filled). Only floors and one-pixel lines are cut, never a lit rim, so a dark and a
   bright granule keep the same share of the border between them. What is left falls
   apart into granule *cores*.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from .ciede2000 import delta_e00
from .convert import linear_to_lab, srgb_to_linear

# Log-luminance step (natural log) across 3x3 that marks a granule border: gaps are 3-5x
# darker than the faces they separate, while the slopes of one granule change light by
# well under 1.5x per pixel.
EDGE_LOG_STEP = 0.45
# How far either side of a valley floor its lit banks may lie, in px: a lens's blur, and
# with it the width of a gap, scales with the picture. A 1280 px photo's gaps are up to
# 4 px wide and its granules 10-16 px, so 4 px finds every gap and no granule; in a
# 256 px thumbnail gaps are 1-2 px and a dark chip seen at a tilt may be 6 px thin, so a
# 4 px reach would take the whole chip for a gap. One px of reach per VALLEY_REACH_PX of
# the picture's shorter side, within VALLEY_REACH_RANGE.
VALLEY_REACH_PX = 320
VALLEY_REACH_RANGE = (2, 4)
FLOOR_REACH = 3  # px along the cross-section with nothing darker than the floor
FLOOR_LOG_TOL = 0.1
# Colour steps split cores only between pixels at least SPLIT_DARK of the darkest
# candidate's L* (within SPLIT_MIN_L). Without a recipe (all the palette), not between
# candidates closer than SPLIT_GROUP_DE (ΔE2000).
SPLIT_GROUP_DE = 15.0
SPLIT_DARK = 0.6
SPLIT_MIN_L = (7.0, 15.0)
# The edge-preserving blur before colour steps: window (px) and colour sigma (8-bit units).
STEP_CALM_PX = 5
STEP_CALM_COLOUR = 30.0
# Chromaticity step (r, g fractions of r+g+b) across 3x3 that marks a border between two
# granules of equal luminance but different hue (photos without a visible gap).
EDGE_CHROMA_STEP = 0.05
# Log-luminance step across 3x3 under which a pixel is smooth (background: paper, shadow,
# JPEG noise on white stays well under it).
BACKGROUND_LOG_STEP = 0.08
# Lightness weighs less than chroma in the match: shading moves it. Darker than the
# palette (shadow) weighs less than brighter (a brighter face is rarely explained by light).
WEIGHT_DARKER = 0.45
WEIGHT_BRIGHTER = 0.6
# Core colour means use at most about this many pixels (ΔE medians, in `measure`, fewer):
# a deterministic regular subsample, so big pictures cost no more than the segmentation
# itself.
STAT_PIXELS = 300_000
LIT_CAP = 2.5  # lit pixels are at most this many times the core's mean luminance
# Pixels of the tile's outline that mix tile and background: anti-aliasing, a lens's soft
# focus, and JPEG's and WebP's colour kept at half resolution.
OUTLINE_MIX_PX = 3

_LIN = srgb_to_linear(np.arange(256) / 255.0)
LIN32 = _LIN.astype(np.float32)
# Log of (approximate) linear luminance from 8-bit luma; the offset keeps JPEG noise in
# the blacks from looking like steep edges.
LOG_LUMA = np.log(_LIN + 0.005).astype(np.float32).reshape(1, 256)
# L* of 8-bit luma (grey pixels exactly; colours near enough to find the tile).
L_LUMA = (116.0 * np.cbrt(_LIN) - 16.0).clip(0.0).astype(np.float32).reshape(1, 256)


def silhouette(
    luma: NDArray[np.uint8], ln: NDArray[np.float32], tile: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """The tile to the pixel: the coarse tile mask less the smooth background around it.

    Background (paper, soft shadow) is smooth at the pixel scale and reaches the picture's
    border; the tile's edge is a step. Flooding the smooth pixels from the border therefore
    stops exactly at the outline, while flat granule tops inside stay tile.
    """
    h, w = luma.shape
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    near = cv2.dilate(tile.view(np.uint8), k, iterations=2) > 0
    smooth = cv2.morphologyEx(ln, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) < np.float32(
        BACKGROUND_LOG_STEP
    )
    fill = (smooth | ~near).view(np.uint8).copy()
    pad = np.zeros((h + 2, w + 2), np.uint8)
    for y, x in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)):
        if fill[y, x] == 1:
            cv2.floodFill(fill, pad, (x, y), 2)
    # The 3x3 gradient stops the flood one pixel short of the outline.
    bg = cv2.dilate((fill == 2).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return near & ~bg


def _line_kernel(dy: int, dx: int, near: int, far: int, sign: int, r: int) -> NDArray[np.uint8]:
    kern = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    for k in range(near, far + 1):
        kern[r + sign * k * dy, r + sign * k * dx] = 1
    return kern


def valley_reach(shape: tuple[int, ...]) -> int:
    """The valley reach for a picture of this shape (see VALLEY_REACH_PX)."""
    lo, hi = VALLEY_REACH_RANGE
    return int(min(max(round(min(shape[:2]) / VALLEY_REACH_PX), lo), hi))


def _borders(ln: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Granule borders: the dark valley floors between granules (gaps, their shadows).

    Along a row, a column or a diagonal, a pixel is a border if (1) there is a pixel
    brighter by EDGE_LOG_STEP within `valley_reach` px on *both* sides, and (2) it is the
    floor of that cross-section: nothing within FLOOR_REACH px along it is darker. Only
    the floor is marked, never the lit rim on either side, so a dark and a bright granule
    keep the same share of the gap between them (a one-sided step test cuts the dark one's
    rim and not the bright one's, and the nearest-core split then drifts to the bright
    colour). A small dark granule among bright ones is a valley too, but not a floor: its
    own gap, on either side, is darker still.
    """
    reach = valley_reach(ln.shape)
    r = max(reach, FLOOR_REACH)
    step = np.float32(EDGE_LOG_STEP)
    tol = np.float32(FLOOR_LOG_TOL)
    thresh = ln + step
    out = np.zeros(ln.shape, bool)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        both = _line_kernel(dy, dx, 1, FLOOR_REACH, -1, r) | _line_kernel(
            dy, dx, 1, FLOOR_REACH, 1, r
        )
        floor = ln <= cv2.erode(ln, both, anchor=(r, r), borderType=cv2.BORDER_REPLICATE) + tol
        before, after = (
            cv2.dilate(
                ln,
                _line_kernel(dy, dx, 1, reach, sign, r),
                anchor=(r, r),
                borderType=cv2.BORDER_REPLICATE,
            )
            > thresh
            for sign in (-1, 1)
        )
        out |= before & after & floor
    return out


def distance(
    lab: NDArray[np.float64],
    cand: NDArray[np.float64],
    weights: tuple[float, float] = (WEIGHT_DARKER, WEIGHT_BRIGHTER),
) -> NDArray[np.float64]:
    """Shading-tolerant distance (rows of lab x rows of cand).

    The colour match of the whole measurement: the colour steps here, and `classification`
    for each core's colour.
    """
    lp = lab[:, 0:1]
    norm = (cand[None, :, 0] + 16.0) / np.maximum(lp + 16.0, 1.0)
    da = lab[:, 1:2] * norm - cand[None, :, 1]
    db = lab[:, 2:3] * norm - cand[None, :, 2]
    dl = lp - cand[None, :, 0]
    dl = np.where(dl < 0, weights[0] * dl, weights[1] * dl)
    return np.sqrt(da * da + db * db + dl * dl)


@dataclass(slots=True)
class Granules:
    """Granule cores of one picture: a core id per pixel and per-core statistics."""

    ids: NDArray[np.int32]  # core id per pixel, 0 = border or off the tile
    n: int
    area: NDArray[np.float64]  # core pixels
    linear: NDArray[np.float64]  # mean linear RGB per core
    lab: NDArray[np.float64]  # Lab of that mean, light-normalised (see kappa in `classify`)
    y: NDArray[np.float64]  # luminance of that mean (not normalised)


def _colour_groups(cand: NDArray[np.float64]) -> NDArray[np.int64]:
    """Group id per candidate: look-alikes (ΔE2000 < SPLIT_GROUP_DE) share a group."""
    group = np.arange(len(cand))
    for i, j in itertools.combinations(range(len(cand)), 2):
        if float(delta_e00(cand[i], cand[j])) < SPLIT_GROUP_DE:
            group[group == group[j]] = group[i]
    return group


def _colour_steps(
    image: NDArray[np.uint8], cand: NDArray[np.float64], *, split_lookalikes: bool
) -> NDArray[np.bool_]:
    """Where two neighbouring lit pixels read as clearly different recipe colours.

    Blur (focus, JPEG) can fill a thin gap next to a bright granule, so no dark valley
    separates it from a darker neighbour; the change of colour still does. Each pixel gets
    its nearest candidate (shading tolerant) through a 15-bit colour table, and the
    left/upper pixel of every change is marked: a one-pixel line, on no particular
    colour's side.

    Told the recipe, look-alike candidates (RED and PINK, two greens) are split too. Where
    gaps are not closed lines (small pictures, tight packing), only the colour change
    tells two neighbours apart, and without it every granule of both colours merges into
    one core that reads as one of them. Shading can then cut a granule of one into a lit
    and a shaded piece, each classified on its own: a far smaller error. Among the whole
    palette (no recipe) look-alikes are grouped instead: there every granule has a
    look-alike, and shading would cut most of them (the look-alikes are merged later).
    """
    groups = np.arange(len(cand)) if split_lookalikes else _colour_groups(cand)
    if len(set(groups.tolist())) < 2:
        return np.zeros(image.shape[:2], bool)
    q = np.arange(32) * 8 + 4
    rgb = np.stack(np.meshgrid(q, q, q, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = linear_to_lab(_LIN[rgb])
    table = groups[np.argmin(distance(lab, cand), axis=1)].astype(np.int16)
    # Too dark to tell (gaps, deep shadow): well under the darkest candidate's lightness.
    dark = float(np.clip(SPLIT_DARK * cand[:, 0].min(), SPLIT_MIN_L[0], SPLIT_MIN_L[1]))
    table[lab[:, 0] < dark] = -1
    # The rubber's grain and the codec's noise flip single pixels between two candidates
    # and would crumble a granule into pieces; an edge-preserving blur settles them and
    # keeps the changes from one granule to the next.
    calm = cv2.bilateralFilter(image, STEP_CALM_PX, STEP_CALM_COLOUR, STEP_CALM_PX / 2.0)
    idx = (calm.astype(np.uint8, copy=False) >> 3).astype(np.int32)
    grp = table[(idx[..., 0] << 10) | (idx[..., 1] << 5) | idx[..., 2]]
    known = grp >= 0
    # A pixel too dark to tell is no bridge between colours either.
    out = ~known
    step = (grp[:, :-1] != grp[:, 1:]) & known[:, :-1] & known[:, 1:]
    out[:, :-1] |= step
    step = (grp[:-1] != grp[1:]) & known[:-1] & known[1:]
    out[:-1] |= step
    return out


def granules_find(
    image: NDArray[np.uint8],
    interior: NDArray[np.bool_],
    ln: NDArray[np.float32],
    cand: NDArray[np.float64],
    *,
    split_lookalikes: bool,
) -> Granules:
    """The granule cores of `interior` (the tile less its borders) and their lit colour.

    `split_lookalikes`: the candidates are a recipe's (see `_colour_steps`).
    """
    # The outermost pixel rings mix tile and paper (anti-aliasing; JPEG and WebP keep
    # colour at half resolution): never a core, and never a bridge between two granules'
    # cores along the outline. A dark granule's core that took in a few of them would
    # read as lit far brighter than its colour and be dropped.
    ring = 2 * OUTLINE_MIX_PX + 1
    inner = cv2.erode(interior.view(np.uint8), np.ones((ring, ring), np.uint8)) > 0
    steps = _colour_steps(image, cand, split_lookalikes=split_lookalikes)
    core = inner & ~_borders(ln) & ~steps
    n, ids = cv2.connectedComponents(core.view(np.uint8), connectivity=4)
    return core_stats(image, ids.astype(np.int32, copy=False), n)


def chip_interiors(chips: NDArray[np.int32], reach: int = 1) -> NDArray[np.bool_]:
    """Pixels with only their own chip within `reach` px (a square): clear of the blur
    across chip outlines, where a picture shows a chip's own colour."""
    labels = chips.astype(np.float32)  # exact below 2**24; morphology has no int32 path
    ring = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    inside: NDArray[np.bool_] = cv2.dilate(labels, ring) == cv2.erode(labels, ring)
    return inside


def granules_given(image: NDArray[np.uint8], chips: NDArray[np.int32]) -> Granules:
    """Cores of granules whose outlines are known (an engine passes the chips it drew).

    Each chip's core is the chip less its outermost pixel ring, which the picture's blur
    mixes with the neighbours; the core keeps the chip's id, so a chip and its core are one.
    """
    ids = np.where(chip_interiors(chips), chips, 0).astype(np.int32)
    return core_stats(image, ids, int(chips.max()) + 1)


def core_stats(image: NDArray[np.uint8], ids: NDArray[np.int32], n: int) -> Granules:
    """Area and lit colour of every core of a core-id map (0 = no core)."""
    flat = ids.ravel()
    sel = np.flatnonzero(flat)
    area = np.bincount(flat[sel], minlength=n).astype(np.float64)
    # Means on a regular subsample of the core pixels where there are very many.
    step = max(1, len(sel) // STAT_PIXELS)
    sub = sel[::step]
    sid = flat[sub]
    rgb = _LIN[image.reshape(-1, 3)[sub]]
    lum = rgb @ np.array([0.2126729, 0.7151522, 0.0721750])
    cnt = np.bincount(sid, minlength=n).astype(np.float64)
    mean_y = np.bincount(sid, weights=lum, minlength=n) / np.maximum(cnt, 1.0)
    # The lit part of each core: its pixels at or above the core's mean luminance (the
    # flat top and the slopes facing the light, not the rims turned away or shadowed), and
    # not far above it: a few pixels of paper or glare caught in a big core would
    # otherwise outweigh all of its granule pixels.
    lit = (lum >= mean_y[sid] * (1.0 - 1e-9)) & (lum <= LIT_CAP * mean_y[sid])
    sid, rgb = sid[lit], rgb[lit]
    cnt = np.bincount(sid, minlength=n).astype(np.float64)
    linear = (
        np.stack([np.bincount(sid, weights=rgb[:, c], minlength=n) for c in range(3)], axis=1)
        / np.maximum(cnt, 1.0)[:, None]
    )
    linear[cnt == 0] = np.nan
    lab = linear_to_lab(np.nan_to_num(linear))
    y = np.nan_to_num(linear) @ np.array([0.2126729, 0.7151522, 0.0721750])
    area[0] = 0.0
    return Granules(ids=ids, n=n, area=area, linear=linear, lab=lab, y=y)
