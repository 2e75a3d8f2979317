"""Colour fidelity of a tile picture: which palette colours, in what area shares, how true.

Works the same on renders of any engine and on photographs. It works per granule, not per
pixel, because that is what a recipe counts (granules by area) and what survives the
physics of a picture:

1. Tile vs background: granules are textured, paper and soft shadows are smooth
   (`tile_region`); the outline to the pixel by flooding the smooth background.
2. Granules: the gaps between granules are dark *valley floors* (brighter within a few px
   on both sides along some direction, nothing darker nearby), and a change between two
   clearly different recipe colours marks a one-pixel line (a thin gap that blur has
   filled). Only floors and one-pixel lines are cut, never a lit rim, so a dark and a
   bright granule keep the same share of the border between them. What is left falls
   apart into granule *cores*.
3. Each core is classified by the mean linear RGB of its lit part (its pixels at or over
   its mean luminance: the flat top and the slopes facing the light). The comparison is
   shading tolerant (chroma normalised by the lightness ratio, lightness weighted low) and
   done after one exposure factor for the picture; cores whose light is far from a lit face
   are dropped.
4. Every tile pixel (gap, shadow, rim) goes to its geometrically nearest kept core, so
   borders are split by position, never by colour.
5. Top face only: side walls of a perspective view are in shade. Each core's light is
   judged against the candidate its chroma alone matches (a dim SALMON wall must not pass
   for a lit BROWN granule), smoothed over a few granules; big dim bands on the outline
   are walls, and their cores' share of the silhouette is left out.
6. ΔE2000 by the palette's own rule: for each colour, the median Lab of the brightest 70 %
   (by L*) of the core pixels of its kept top-face granules (no gaps, walls or background).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from gpu_worker.spec import PaletteColor, RecipeComponent

from .ciede2000 import delta_e00
from .convert import linear_to_lab, srgb_to_linear
from .tile_mask import tile_region

# Log-luminance step (natural log) across 3x3 that marks a granule border: gaps are 3-5x
# darker than the faces they separate, while the slopes of one granule change light by
# well under 1.5x per pixel.
EDGE_LOG_STEP = 0.45
VALLEY_REACH = 4  # px either side of a valley floor to its lit banks
FLOOR_REACH = 3  # px along the cross-section with nothing darker than the floor
FLOOR_LOG_TOL = 0.1
# Colour steps split cores only between candidates this far apart (ΔE2000), and only
# between pixels at least SPLIT_DARK of the darkest candidate's L* (within SPLIT_MIN_L).
SPLIT_GROUP_DE = 15.0
SPLIT_DARK = 0.6
SPLIT_MIN_L = (7.0, 15.0)
# Chromaticity step (r, g fractions of r+g+b) across 3x3 that marks a border between two
# granules of equal luminance but different hue (photos without a visible gap).
EDGE_CHROMA_STEP = 0.05
MIN_CORE_PX = 3  # px; with the top face given (a clean render) any core pixel counts
RIM_FRACTION = 0.007  # of the picture: the outline band whose cores are not classified
RIM_SHARE = 0.3  # ... if more than this share of a core lies in it
# Log-luminance step across 3x3 under which a pixel is smooth (background: paper, shadow,
# JPEG noise on white stays well under it).
BACKGROUND_LOG_STEP = 0.08
# Implied light of a core, relative to the tile's typical lit face, for it to count as a
# granule face (below: a gap floor or deep shadow; above: glare).
LIT_RANGE = (0.4, 2.2)
# Lightness weighs less than chroma in the match: shading moves it. Darker than the
# palette (shadow) weighs less than brighter (a brighter face is rarely explained by light).
WEIGHT_DARKER = 0.45
WEIGHT_BRIGHTER = 0.6
WALL_L_WEIGHT = 0.1  # lightness weight when matching cores to find walls
MAX_DISTANCE = 40.0  # no candidate this close: not a palette colour (dirt, glare)
# Side walls: a band whose smoothed implied light is under this fraction of the top face's.
SIDE_LIGHT = 0.6
SIDE_MIN_AREA = 0.01  # of the tile silhouette
# Without a recipe: colours under this share (percent) are noise from look-alike colours.
PRESENT_MIN_PERCENT = 1.5
# Look-alike palette pairs (ΔE2000 below this) cannot be told apart without a recipe.
LOOKALIKE_DE = 8.5
LIT_QUANTILE = 0.3  # the palette's rule: the brightest 70 % of a colour's pixels
# Statistics (colour means, ΔE) use at most about this many pixels: a deterministic
# regular subsample, so big pictures cost no more than the segmentation itself.
STAT_PIXELS = 300_000
# ΔE medians need far fewer: the median of 60k pixels is good to ~0.1 L*.
DE_PIXELS = 60_000

_LIN = srgb_to_linear(np.arange(256) / 255.0)
_LIN32 = _LIN.astype(np.float32)
# Log of (approximate) linear luminance from 8-bit luma; the offset keeps JPEG noise in
# the blacks from looking like steep edges.
_LOG_LUMA = np.log(_LIN + 0.005).astype(np.float32).reshape(1, 256)
# L* of 8-bit luma (grey pixels exactly; colours near enough to find the tile).
_L_LUMA = (116.0 * np.cbrt(_LIN) - 16.0).clip(0.0).astype(np.float32).reshape(1, 256)


@dataclass(frozen=True, slots=True)
class Fidelity:
    """How well a picture shows its recipe. Percent values are 0..100."""

    shares: dict[str, float]
    max_share_error_pp: float | None
    delta_e00: dict[str, float]
    tile_fraction: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "shares": dict(self.shares),
            "max_share_error_pp": self.max_share_error_pp,
            "delta_e00": dict(self.delta_e00),
            "tile_fraction": self.tile_fraction,
        }


def _lab_y(lightness: NDArray[np.float64]) -> NDArray[np.float64]:
    f = (lightness + 16.0) / 116.0
    return np.where(lightness > 8.0, f**3, lightness / 903.3)


def _silhouette(
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


def _borders(ln: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Granule borders: the dark valley floors between granules (gaps, their shadows).

    Along a row, a column or a diagonal, a pixel is a border if (1) there is a pixel
    brighter by EDGE_LOG_STEP within VALLEY_REACH px on *both* sides, and (2) it is the
    floor of that cross-section: nothing within FLOOR_REACH px along it is darker. Only
    the floor is marked, never the lit rim on either side, so a dark and a bright granule
    keep the same share of the gap between them (a one-sided step test cuts the dark one's
    rim and not the bright one's, and the nearest-core split then drifts to the bright
    colour). A small dark granule among bright ones is a valley too, but not a floor: its
    own gap, on either side, is darker still.
    """
    r = max(VALLEY_REACH, FLOOR_REACH)
    step = np.float32(EDGE_LOG_STEP)
    tol = np.float32(FLOOR_LOG_TOL)
    thresh = ln + step
    out = np.zeros(ln.shape, bool)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        both = _line_kernel(dy, dx, 1, FLOOR_REACH, -1, r) | _line_kernel(
            dy, dx, 1, FLOOR_REACH, 1, r
        )
        floor = ln <= cv2.erode(ln, both, anchor=(r, r), borderType=cv2.BORDER_REPLICATE) + tol
        bank = None
        for sign in (-1, 1):
            kern = _line_kernel(dy, dx, 1, VALLEY_REACH, sign, r)
            side = cv2.dilate(ln, kern, anchor=(r, r), borderType=cv2.BORDER_REPLICATE) > thresh
            bank = side if bank is None else bank & side
        out |= bank & floor
    return out


def _distance(
    lab: NDArray[np.float64],
    cand: NDArray[np.float64],
    weights: tuple[float, float] = (WEIGHT_DARKER, WEIGHT_BRIGHTER),
) -> NDArray[np.float64]:
    """Shading-tolerant distance (rows of lab x rows of cand)."""
    lp = lab[:, 0:1]
    norm = (cand[None, :, 0] + 16.0) / np.maximum(lp + 16.0, 1.0)
    da = lab[:, 1:2] * norm - cand[None, :, 1]
    db = lab[:, 2:3] * norm - cand[None, :, 2]
    dl = lp - cand[None, :, 0]
    dl = np.where(dl < 0, weights[0] * dl, weights[1] * dl)
    return np.sqrt(da * da + db * db + dl * dl)


def _shade_light(g: _Granules, cand: NDArray[np.float64], usable: NDArray[np.bool_]):
    """Per core: light relative to the tile's typical face, judged by chromaticity alone.

    A granule in a wall's shade can look just like a darker recipe colour (dim SALMON reads
    as BROWN, dim WHITE as GRAY), so for finding walls each core is compared with the
    candidate its light-normalised chroma matches, its lightness all but ignored.
    """
    light = np.ones(g.n)
    idx = np.flatnonzero(usable)
    if not len(idx) or not len(cand):
        return light
    b = np.argmin(_distance(g.lab[idx], cand, (WALL_L_WEIGHT, WALL_L_WEIGHT)), axis=1)
    s = g.y[idx] / np.maximum(_lab_y(cand[b, 0]), 1e-6)
    w = g.area[idx]
    order = np.argsort(s)
    cum = np.cumsum(w[order])
    typical = float(s[order][np.searchsorted(cum, 0.5 * cum[-1])])
    light[idx] = s / max(typical, 1e-6)
    return light


@dataclass(slots=True)
class _Granules:
    """Granule cores of one picture: a core id per pixel and per-core statistics."""

    ids: NDArray[np.int32]  # core id per pixel, 0 = border or off the tile
    n: int
    area: NDArray[np.float64]  # core pixels
    linear: NDArray[np.float64]  # mean linear RGB per core
    lab: NDArray[np.float64]  # Lab of that mean, light-normalised (see kappa)
    y: NDArray[np.float64]  # luminance of that mean (not normalised)


def _colour_groups(cand: NDArray[np.float64]) -> NDArray[np.int64]:
    """Group id per candidate: look-alikes (ΔE2000 < SPLIT_GROUP_DE) share a group."""
    group = np.arange(len(cand))
    for i, j in itertools.combinations(range(len(cand)), 2):
        if float(delta_e00(cand[i], cand[j])) < SPLIT_GROUP_DE:
            group[group == group[j]] = group[i]
    return group


def _colour_steps(image: NDArray[np.uint8], cand: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Where two neighbouring lit pixels read as clearly different recipe colours.

    Blur (focus, JPEG) can fill a thin gap next to a bright granule, so no dark valley
    separates it from a darker neighbour; the change of colour still does. Each pixel gets
    the group of its nearest candidate (shading tolerant, look-alikes grouped so shading
    never splits one granule) through a 15-bit colour table, and the left/upper pixel of
    every change is marked: a one-pixel line, on no particular colour's side.
    """
    groups = _colour_groups(cand)
    if len(set(groups.tolist())) < 2:
        return np.zeros(image.shape[:2], bool)
    q = np.arange(32) * 8 + 4
    rgb = np.stack(np.meshgrid(q, q, q, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = linear_to_lab(_LIN[rgb])
    table = groups[np.argmin(_distance(lab, cand), axis=1)].astype(np.int16)
    # Too dark to tell (gaps, deep shadow): well under the darkest candidate's lightness.
    dark = float(np.clip(SPLIT_DARK * cand[:, 0].min(), SPLIT_MIN_L[0], SPLIT_MIN_L[1]))
    table[lab[:, 0] < dark] = -1
    idx = (image >> 3).astype(np.int32)
    grp = table[(idx[..., 0] << 10) | (idx[..., 1] << 5) | idx[..., 2]]
    known = grp >= 0
    # A pixel too dark to tell is no bridge between colours either.
    out = ~known
    step = (grp[:, :-1] != grp[:, 1:]) & known[:, :-1] & known[:, 1:]
    out[:, :-1] |= step
    step = (grp[:-1] != grp[1:]) & known[:-1] & known[1:]
    out[:-1] |= step
    return out


def _granules(
    image: NDArray[np.uint8],
    interior: NDArray[np.bool_],
    ln: NDArray[np.float32],
    cand: NDArray[np.float64],
) -> _Granules:
    # The outermost pixel ring mixes tile and paper (anti-aliasing): never a core, and
    # never a bridge between two granules' cores along the outline.
    inner = cv2.erode(interior.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    core = inner & ~_borders(ln) & ~_colour_steps(image, cand)
    n, ids = cv2.connectedComponents(core.view(np.uint8), connectivity=4)
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
    # flat top and the slopes facing the light, not the rims turned away or shadowed).
    lit = lum >= mean_y[sid] * (1.0 - 1e-9)
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
    return _Granules(ids=ids, n=n, area=area, linear=linear, lab=lab, y=y)


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _classify(
    g: _Granules, cand: NDArray[np.float64], usable: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]]:
    """(class, implied light, ok) per core. Light is normalised by the tile's lit level."""
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
        dist = _distance(scaled, cand)
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


def _walls(
    g: _Granules, light: NDArray[np.float64], usable: NDArray[np.bool_], interior: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Per core: part of a side wall (a dim band along the outline), not the top face.

    A wall is in shade: every granule on it, whatever its colour, is lit far less than the
    top face. The granules' implied light (relative to their class) is smoothed over a few
    granules; dim bands that reach the outline and are big are the wall zone. A core mostly
    in the zone is wall; one near its edge is wall if its own light is dim.
    """
    walls = np.zeros(g.n, bool)
    if not usable.any():
        return walls
    size = float(np.sqrt(np.median(g.area[usable])))
    win = int(max(5, 4.0 * size)) | 1
    logl = np.where(usable, np.log(np.maximum(light, 1e-3)), 0.0).astype(np.float32)
    logl[0] = 0.0
    weight = (usable * g.area > 0).astype(np.float32)
    weight[0] = 0.0
    num = cv2.blur(logl[g.ids], (win, win))
    den = cv2.blur(weight[g.ids], (win, win))
    smooth = num / np.maximum(den, np.float32(1e-3))
    dim = (smooth < np.float32(np.log(SIDE_LIGHT))) & (den > np.float32(0.05)) & interior
    # A side wall is a band several granules and >= 2 % of the picture deep; the
    # darker rim of a bevel facing away from the light is far thinner and is top face.
    side = int(max(3.0, 0.02 * min(interior.shape), 1.5 * size)) | 1
    dim = (
        cv2.morphologyEx(
            dim.view(np.uint8),
            cv2.MORPH_OPEN,
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)),
        )
        > 0
    )
    # Only big dim pieces that reach the outline are walls: a clump of dark granules in
    # the middle of the face (a colour whose lightness jitter ran low) is not.
    n, comp, stats, _ = cv2.connectedComponentsWithStats(dim.view(np.uint8), connectivity=8)
    if n <= 1:
        return walls
    edge = interior & ~(cv2.erode(interior.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    touches = np.bincount(comp[edge], minlength=n) > 0
    big = stats[:, cv2.CC_STAT_AREA] >= SIDE_MIN_AREA * interior.sum()
    is_wall = touches & big
    is_wall[0] = False
    if not is_wall.any():
        return walls
    zone = is_wall[comp]
    area = np.maximum(g.area, 1.0)
    walls = np.bincount(g.ids[zone], minlength=g.n) >= 0.5 * area
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (win // 2 | 1, win // 2 | 1))
    near = cv2.dilate(zone.view(np.uint8), k) > 0
    walls |= (np.bincount(g.ids[near], minlength=g.n) >= 0.5 * area) & usable & (light < SIDE_LIGHT)
    walls[0] = False
    return walls


def _assign(g: _Granules, keep: NDArray[np.bool_], region: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Core id for every pixel of `region`: the nearest kept core (0 elsewhere)."""
    kept = keep[g.ids]
    if not kept.any():
        return np.zeros(g.ids.shape, np.int32)
    _, near = cv2.distanceTransformWithLabels(
        (~kept).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    # DIST_LABEL_PIXEL numbers the zero pixels 1, 2, ... in raster order.
    lut = np.concatenate([[0], g.ids[kept]]).astype(np.int32)
    out = lut[near]
    out[~region] = 0
    return out


def _shares(
    owner: NDArray[np.int32], cls: NDArray[np.int64], k: int, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(percent per class, pixel count per core)."""
    per_core = np.bincount(owner.ravel(), minlength=n).astype(np.float64)
    per_core[0] = 0.0
    counts = np.bincount(cls, weights=per_core, minlength=k)[:k]
    total = counts.sum()
    return (counts * 100.0 / total if total > 0 else counts), per_core


def _merge_lookalikes(
    codes: list[str],
    cand: NDArray[np.float64],
    g: _Granules,
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


def fidelity_measure(
    *,
    image: NDArray[np.uint8],
    palette: Sequence[PaletteColor],
    recipe: Sequence[RecipeComponent] | None = None,
    top_face: NDArray[np.bool_] | None = None,
) -> Fidelity:
    """Measure colour shares and ΔE2000 on an RGB uint8 picture of one tile.

    `top_face` marks the tile's top face where the caller knows it (an engine knows the
    geometry it drew). The colours are still measured from the pixels; only the question
    "which pixels are the top face, which are side walls" is answered instead of guessed,
    which in perspective views is the analyzer's weakest step. Photos and PNG files leave
    it out and the tile is found in the picture.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("image must be an (H, W, 3) uint8 RGB array")
    image = np.ascontiguousarray(image)
    by_code = {c.code: c for c in palette}
    if recipe is not None:
        missing = [c.code for c in recipe if c.code not in by_code]
        if missing:
            raise ValueError(f"recipe colours not in the palette: {', '.join(missing)}")
        codes = [c.code for c in recipe]
    else:
        codes = [c.code for c in palette]
    cand = np.array([by_code[c].lab for c in codes], dtype=np.float64).reshape(-1, 3)

    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ln = cv2.LUT(luma, _LOG_LUMA)
    tile, _interior = tile_region(cv2.LUT(luma, _L_LUMA))
    tile_fraction = round(float(tile.mean()), 3)
    # Shares count the whole top face, rim granules included: on a 256 px picture the
    # tile holds ~700 granules, and leaving out an eroded rim (~20 % of them, a random
    # draw) would alone move a share by ~1 pp.
    if top_face is None:
        interior = _silhouette(luma, ln, tile)
    else:
        top_face = np.asarray(top_face, dtype=bool)
        if top_face.shape != luma.shape:
            raise ValueError(f"top_face is {top_face.shape}, the image {luma.shape}")
        interior = top_face
    g = _granules(image, interior, ln, cand)
    usable = g.area >= (1 if top_face is not None else MIN_CORE_PX)
    # Cores on the outline are not classified (their area still counts, given to the
    # nearest inner granules): the tile's bevel lights or darkens them and anti-aliasing
    # mixes them with the paper, so their colour is not a lit face.
    if top_face is None:
        r = max(2, round(RIM_FRACTION * min(luma.shape)))
        inner = cv2.erode(interior.view(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
        on_rim = np.bincount(g.ids[interior & ~inner], minlength=g.n)
        usable &= on_rim <= RIM_SHARE * g.area
    cls, _, ok = _classify(g, cand, usable)
    # Side walls (perspective views): their cores take their share of the silhouette in
    # the nearest-core split, and then it is left out, so the wall/top line follows the
    # granule borders.
    wall = (
        _walls(g, _shade_light(g, cand, usable), usable, interior)
        if top_face is None
        else np.zeros(g.n, dtype=bool)
    )
    keep = ok & ~wall
    owner = _assign(g, keep | wall, interior)
    region = (owner > 0) & ~wall[owner]
    owner[~region] = 0
    share, _ = _shares(owner, cls, len(codes), g.n)

    if recipe is None and keep.any():
        # Look-alike palette colours soak up a little of each present colour; a second
        # pass among the colours clearly there gives those granules back.
        for _ in range(2):
            alive = [i for i in range(len(codes)) if share[i] >= PRESENT_MIN_PERCENT]
            alive = [
                alive[m]
                for m in _merge_lookalikes(
                    [codes[i] for i in alive],
                    cand[alive],
                    g,
                    np.searchsorted(alive, cls),
                    keep & np.isin(cls, alive),
                )
            ]
            codes = [codes[i] for i in alive]
            cand = cand[alive]
            cls, _, ok = _classify(g, cand, usable)
            keep = ok & ~wall
            owner = _assign(g, keep | wall, interior)
            owner[~region | wall[owner]] = 0
            share, _ = _shares(owner, cls, len(codes), g.n)

    shares = {code: round(float(s), 1) for code, s in zip(codes, share, strict=True)}
    if recipe is None:
        shares = {c: v for c, v in shares.items() if v > 0.0}

    de = _delta_e(image, g.ids, region, cls, keep, cand, codes)
    max_err = None
    if recipe is not None:
        got = dict(zip(codes, share, strict=True))
        errs = [abs(got.get(c.code, 0.0) - c.percent) for c in recipe]
        max_err = round(float(max(errs)), 1)
    return Fidelity(
        shares=shares, max_share_error_pp=max_err, delta_e00=de, tile_fraction=tile_fraction
    )


def _delta_e(
    image: NDArray[np.uint8],
    ids: NDArray[np.int32],
    region: NDArray[np.bool_],
    cls: NDArray[np.int64],
    keep: NDArray[np.bool_],
    cand: NDArray[np.float64],
    codes: list[str],
) -> dict[str, float]:
    """ΔE2000 per colour: median Lab of the brightest 70 % of its pixels vs the palette.

    Its pixels are the core pixels (granule faces: no gaps, background or side walls) of the
    kept granules of that colour on the top face.
    """
    flat = np.where(region, ids, 0).ravel()
    sel = np.flatnonzero(keep[flat])
    if not len(sel):
        return {}
    sel = sel[:: max(1, len(sel) // DE_PIXELS)]
    colour = cls[flat[sel]]
    lab = linear_to_lab(_LIN32[image.reshape(-1, 3)[sel]])
    de: dict[str, float] = {}
    for i, code in enumerate(codes):
        mine = lab[colour == i]
        if len(mine) < 10:
            continue
        lit = mine[mine[:, 0] >= np.quantile(mine[:, 0], LIT_QUANTILE)]
        est = np.median(lit, axis=0)
        de[code] = round(float(delta_e00(est, cand[i])), 2)
    return de
