"""Open-set colour identification: which stock colours a tile picture holds, not told the recipe.

`measure.fidelity_measure` is accurate when told the recipe, but without it each granule is
classified against all 29 stock colours one by one, and the shading inside one colour (a lit
facet, a shaded one) is larger than the distance between look-alike stock colours: a lit
RED facet reads PINK, a shaded one TERCOT. Here the granules are looked at together first:

1. Segmentation as in `measure` (tile, granule cores, lit faces): reused, unchanged.
2. Each lit core gets shading-invariant features: its chroma brought to one reference
   lightness (shading scales a colour's XYZ, which scales a* and b* with L* + 16) and its
   log lightness, both in units of a colour's own spread.
3. The cores are clustered by their area-weighted density's modes (mean shift on a grid):
   a colour's lit and shaded cores form one mode, two different colours two.
4. Each cluster is measured by the palette's own rule (median Lab of the brightest 70 % of
   its pixels) and named after the nearest stock colour (ΔE2000), after one exposure
   factor for the whole picture (`_exposure`); clusters with one name are one colour.
   Clusters too small to be a colour (mixed pixels along borders, dirt) are dropped.
5. The colours found are then measured told that set (`fidelity_measure` with the found
   colours as the recipe), which is the accurate path for shares; a colour whose share
   then falls under the noise floor is dropped and the set measured again.

Confidence per colour is the probability of its name against every other stock colour and
against "none of them" (a batch far from every stock colour), from the ΔE2000 of its
measured colour to each, with the photo-to-photo scatter of one colour as the scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from catalog.palette import PaletteColor
from catalog.recipes import Component

from .ciede2000 import delta_e00
from .classification import classify
from .convert import linear_to_lab
from .measure import (
    DE_PIXELS,
    LIT_QUANTILE,
    MIN_CORE_PX,
    PRESENT_MIN_PERCENT,
    ColourMap,
    cores_assign,
    cores_off_the_rim,
    fidelity_measure_mapped,
)
from .segmentation import L_LUMA, LIN32, LOG_LUMA, Granules, granules_find, silhouette
from .tile_mask import tile_region

# Chroma is compared at this lightness: shading scales a* and b* with (L* + 16), so
# (a*, b*) * (REF_L + 16) / (L* + 16) is the same for a granule's lit and shaded parts.
REF_L = 50.0
# Kernel width of the density, in chroma units at REF_L. Stock colours that differ by less
# (RED/TERCOT, BLACK/DKGRAY at equal lightness) are one mode; a granule's own chroma
# scatter (shaded cores are noisier) is well inside it. `benchmarks/photo_identify.py
# --sweep` reports how the results move with it.
CHROMA_BANDWIDTH = 10.0
# Grid cells per kernel width: fine enough that two modes one width apart stay apart.
CELLS_PER_BANDWIDTH = 2
# Light factors (in luminance) tried for the picture's exposure against the palette's
# photos (see `_exposure`).
EXPOSURE_RANGE = (0.75, 1.33)
EXPOSURE_STEPS = 29
# Photo-to-photo scatter of one stock colour's measured value (ΔE2000): a batch, the
# camera and the light move it by about this much (told the recipe, the development
# mixes read their colours 1-11 from the palette, median about 5).
BATCH_SCATTER_DE = 5.0
# "None of the stock colours" competes in the confidence as a colour this many scatters
# away: a cluster farther from every stock colour than that is more likely a batch the
# palette does not hold.
UNKNOWN_AT_SCATTERS = 3.0
# Shares are counted over granules: with N of them, a share p has a sampling error of about
# sqrt(p (1 - p) / N), largest at p = 0.5. Two of those within SHARE_PRECISION_PP need
# MIN_GRANULES lit granule faces (1,112); a tile photo shows several thousand, a web page
# screenshot a few hundred "granules" at most.
SHARE_PRECISION_PP = 3.0
MIN_GRANULES = math.ceil(0.25 / (SHARE_PRECISION_PP / 2 / 100) ** 2)
# Under this share of the picture the tile is a detail of it, not what was photographed.
MIN_TILE_FRACTION = 0.05
# Measured again told the found set at most this many times (each drops colours under the
# noise floor; one round is the rule).
MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class IdentifiedColour:
    """One stock colour found in the picture."""

    code: str
    percent: float  # area share of the tile's top face
    confidence: float  # 0..1: that the granules are this stock colour and no other
    # Measured colour of its granules (exposure-corrected) against its palette value.
    delta_e00: float
    runner_up: str | None  # the stock colour it is most likely confused with
    runner_up_delta_e00: float | None  # measured colour against the runner-up's palette value


@dataclass(frozen=True, slots=True)
class Identification:
    """The stock colours a picture holds, largest share first."""

    colours: tuple[IdentifiedColour, ...]
    tile_fraction: float  # of the picture
    granules: int  # lit granule faces measured: what the shares are counted over
    # Which pixels were the tile and which colour each counted pixel went to.
    colour_map: ColourMap | None = field(default=None, compare=False, repr=False)

    @property
    def shares(self) -> dict[str, float]:
        return {c.code: c.percent for c in self.colours}

    @property
    def warnings(self) -> tuple[str, ...]:
        """Why the shares may not describe a tile (empty when the picture is measurable)."""
        found = []
        if self.tile_fraction < MIN_TILE_FRACTION:
            found.append(
                f"the tile covers only {self.tile_fraction:.0%} of the picture; photograph "
                "the tile so it fills most of the frame"
            )
        if self.granules < MIN_GRANULES:
            found.append(
                f"only {self.granules} granules could be measured (at least {MIN_GRANULES} "
                f"keep the shares within about {SHARE_PRECISION_PP:g} pp): is this a "
                "photo of a tile, close enough to show its granules?"
            )
        return tuple(found)


@dataclass(frozen=True, slots=True)
class _Cores:
    """The lit granule cores of a picture, as `measure` finds them."""

    g: Granules
    lit: NDArray[np.bool_]  # per core: a usable lit face
    owned: NDArray[np.float64]  # per core: tile pixels nearest to it (its area share)
    tile: NDArray[np.bool_]  # the tile's silhouette
    tile_fraction: float


def _cores(image: NDArray[np.uint8], cand: NDArray[np.float64]) -> _Cores:
    """Stages 1-3 of `measure` without a recipe (see there for why each step)."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.uint8, copy=False)
    ln = cv2.LUT(luma, LOG_LUMA).astype(np.float32, copy=False)
    tile, _ = tile_region(cv2.LUT(luma, L_LUMA).astype(np.float32, copy=False))
    interior = silhouette(luma, ln, tile)
    # Split along every change of stock colour, look-alikes too: a granule cut into its
    # lit and shaded pieces is no harm here (the clustering joins them again), while a
    # core that spans two different colours would be measured as their blend.
    g = granules_find(image, interior, ln, cand, split_lookalikes=True)
    usable = cores_off_the_rim(g, interior, g.area >= MIN_CORE_PX)
    _, _, lit = classify(g, cand, usable)
    # Every tile pixel counts for its nearest lit core (gaps and rims by position).
    owned = np.bincount(cores_assign(g, lit, interior).ravel(), minlength=g.n).astype(np.float64)
    owned[0] = 0.0
    return _Cores(g=g, lit=lit, owned=owned, tile=tile, tile_fraction=round(float(tile.mean()), 3))


def _features(lab: NDArray[np.float64], spread: float) -> NDArray[np.float64]:
    """Shading-invariant coordinates in units of the density's kernel width.

    Log lightness: shading multiplies luminance, so it moves log(L* + 16) (a third of log
    Y) by the same amount in every colour; its unit is the palette's typical lightness
    spread in that scale, so a colour's lit and shaded granules lie within about one unit.
    """
    lp = lab[:, 0] + 16.0
    to_ref = (REF_L + 16.0) / np.maximum(lp, 1.0)
    return np.stack(
        [
            lab[:, 1] * to_ref / CHROMA_BANDWIDTH,
            lab[:, 2] * to_ref / CHROMA_BANDWIDTH,
            np.log(np.maximum(lp, 1.0)) / spread,
        ],
        axis=1,
    )


def _blur_axis(x: NDArray[np.float64], axis: int, sigma: float) -> NDArray[np.float64]:
    r = int(3 * sigma + 1)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    moved = np.moveaxis(x, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    padded = np.pad(flat, ((0, 0), (r, r)))
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1, axis=1)
    out = (win @ k).reshape(moved.shape)
    return np.moveaxis(out, -1, axis)


def _modes(feat: NDArray[np.float64], weight: NDArray[np.float64]) -> NDArray[np.int64]:
    """Mode label per point of the weighted density (Gaussian kernel of width 1).

    Mean shift on a grid: the weights are binned, smoothed, and every cell climbs to its
    highest neighbour until it reaches a peak; a point takes its cell's peak.
    """
    cell = 1.0 / CELLS_PER_BANDWIDTH
    margin = 4 * CELLS_PER_BANDWIDTH
    lo = feat.min(axis=0)
    idx = np.floor((feat - lo) / cell).astype(np.int64) + margin
    shape = tuple(int(s) for s in idx.max(axis=0) + margin + 1)
    flat = np.ravel_multi_index(tuple(idx.T), shape)
    dens: NDArray[np.float64] = (
        np.bincount(flat, weights=weight, minlength=int(np.prod(shape)))
        .astype(np.float64, copy=False)
        .reshape(shape)
    )
    for ax in range(3):
        dens = _blur_axis(dens, ax, float(CELLS_PER_BANDWIDTH))
    best = np.arange(dens.size).reshape(shape)
    top = dens.copy()
    padded = np.pad(dens, 1, constant_values=-1.0)
    ids = np.pad(best, 1, constant_values=-1)
    for dz in range(3):
        for dy in range(3):
            for dx in range(3):
                sl = (
                    slice(dz, dz + shape[0]),
                    slice(dy, dy + shape[1]),
                    slice(dx, dx + shape[2]),
                )
                higher = padded[sl] > top
                top = np.where(higher, padded[sl], top)
                best = np.where(higher, ids[sl], best)
    ptr = best.ravel()
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            break
        ptr = nxt
    labels: NDArray[np.int64] = np.unique(ptr[flat], return_inverse=True)[1].astype(np.int64)
    return labels


def _palette_rule_lab(
    image: NDArray[np.uint8], cores: _Cores, label_of_core: NDArray[np.int64], k: int
) -> NDArray[np.float64]:
    """Per label: the median Lab of the brightest 70 % of its core pixels (NaN if none).

    The rule the palette's values were measured by, so a cluster is compared with them on
    their own terms (a core's lit mean reads a few L* brighter, which would turn GRAY into
    LTGRAY).
    """
    flat = cores.g.ids.ravel()
    sel = np.flatnonzero(cores.lit[flat])
    out = np.full((k, 3), np.nan)
    if not len(sel):
        return out
    sel = sel[:: max(1, len(sel) // DE_PIXELS)]
    lab = linear_to_lab(LIN32[image.reshape(-1, 3)[sel]])
    lbl = label_of_core[flat[sel]]
    for j in range(k):
        mine = lab[lbl == j]
        if len(mine) < 10:
            continue
        bright = mine[mine[:, 0] >= np.quantile(mine[:, 0], LIT_QUANTILE)]
        out[j] = np.median(bright, axis=0)
    return out


def _candidates(
    image: NDArray[np.uint8], cores: _Cores, pal: NDArray[np.float64], spread: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
    """(stock colour per lit core or -1, percent per stock colour, exposure) of the clusters."""
    idx = np.flatnonzero(cores.lit)
    code_of_core = np.full(cores.g.n, -1, np.int64)
    percent = np.zeros(len(pal))
    if not len(idx) or cores.owned[idx].sum() <= 0:
        return code_of_core, percent, 1.0
    feat = _features(cores.g.lab[idx], spread)
    modes = _modes(feat, cores.owned[idx])
    label_of_core = np.full(cores.g.n, -1, np.int64)
    label_of_core[idx] = modes
    k = int(modes.max()) + 1
    lab = _palette_rule_lab(image, cores, label_of_core, k)
    mass = np.bincount(modes, weights=cores.owned[idx], minlength=k)
    real = ~np.isnan(lab[:, 0]) & (mass * 100.0 >= PRESENT_MIN_PERCENT * mass.sum())
    gain = _exposure(lab[real], pal) if real.any() else 1.0
    for j in range(k):
        if np.isnan(lab[j, 0]):
            continue
        named = int(np.argmin(delta_e00(_exposed(lab[j], gain)[None, :], pal)))
        code_of_core[idx[modes == j]] = named
        percent[named] += mass[j]
    percent *= 100.0 / max(percent.sum(), 1e-12)
    return code_of_core, percent, gain


def _exposed(lab: NDArray[np.float64], gain: float) -> NDArray[np.float64]:
    """Lab after multiplying the light (XYZ) by `gain`: L* + 16, a* and b* scale by its
    cube root (exact above L* 8, where every granule face is)."""
    out: NDArray[np.float64] = np.asarray(lab, dtype=np.float64).copy()
    f = gain ** (1.0 / 3.0)
    out[..., 0] = (out[..., 0] + 16.0) * f - 16.0
    out[..., 1:] *= f
    return out


def _exposure(lab: NDArray[np.float64], pal: NDArray[np.float64]) -> float:
    """The light factor that brings the picture's colours nearest to stock colours.

    A camera exposes each picture on its own (a mostly dark tile comes out brighter), and
    told nothing, which colour is "right" is unknown; but all colours of one picture move
    together, so the factor that puts every cluster nearest to some stock colour (each
    cluster one vote, whatever its share) is the picture's exposure against the palette's
    photos. Bounded to EXPOSURE_RANGE, well short of the light step between stock colours
    that differ mainly in lightness (GRAY/LTGRAY 1.44, RED/PINK 1.6, BLACK/DKGRAY 2.1), so
    one colour alone cannot be slid onto its lighter or darker neighbour.
    """
    gains = np.geomspace(EXPOSURE_RANGE[0], EXPOSURE_RANGE[1], EXPOSURE_STEPS)
    cost = [
        float(delta_e00(_exposed(lab, g)[:, None, :], pal[None]).min(axis=1).sum()) for g in gains
    ]
    # Ties (a flat optimum) go to the factor nearest 1: no evidence, no correction.
    best = min(range(len(gains)), key=lambda i: (round(cost[i], 6), abs(np.log(gains[i]))))
    return float(gains[best])


def _confidence(
    measured: NDArray[np.float64], pal: NDArray[np.float64], own: int
) -> tuple[float, float, int]:
    """(confidence, ΔE to its own colour, index of the runner-up) of one measured colour."""
    de = delta_e00(measured[None, :], pal)
    order = np.argsort(de)
    runner = int(order[0] if order[0] != own else order[1])
    # Gaussian likelihoods with the batch scatter; "none of them" sits at a fixed distance.
    z = np.exp(-0.5 * (de / BATCH_SCATTER_DE) ** 2)
    unknown = np.exp(-0.5 * UNKNOWN_AT_SCATTERS**2)
    return float(z[own] / (z.sum() + unknown)), float(de[own]), runner


def colours_identify(
    *, image: NDArray[np.uint8], palette: Sequence[PaletteColor]
) -> Identification:
    """The stock colours of an RGB uint8 picture of one tile, with shares and confidence."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("image must be an (H, W, 3) uint8 RGB array")
    if not palette:
        raise ValueError("the palette is empty")
    image = np.ascontiguousarray(image)
    pal = np.array([c.lab for c in palette], dtype=np.float64).reshape(-1, 3)
    codes = [c.code for c in palette]
    cores = _cores(image, pal)
    # A colour's lightness spread in log(L* + 16), typical over the palette: the unit of
    # the lightness axis (see `_features`).
    spread = float(np.median([c.lightness_spread / (c.lab[0] + 16.0) for c in palette]))
    code_of_core, percent, gain = _candidates(image, cores, pal, spread)
    found = [i for i in np.argsort(-percent) if percent[i] >= PRESENT_MIN_PERCENT]
    if not found:
        nothing = ColourMap(
            tile=cores.tile, colour=np.full(cores.tile.shape, -1, np.int16), codes=()
        )
        return Identification(
            colours=(),
            tile_fraction=cores.tile_fraction,
            granules=int(cores.lit.sum()),
            colour_map=nothing,
        )

    # Shares told the found set: the clusters name the colours, the recipe path splits the
    # area between them (it classifies each granule among a few clearly different colours).
    shares: dict[str, float] = {}
    colour_map = None
    for _ in range(MAX_ROUNDS):
        # Told the set only: the percents are what is being measured, so they say nothing
        # (fidelity_measure reads a recipe's percents only for its error and appearance,
        # which are not used here).
        recipe = [Component(code=codes[i], percent=0) for i in found]
        fidelity, colour_map = fidelity_measure_mapped(image=image, palette=palette, recipe=recipe)
        shares = fidelity.shares
        keep = [i for i in found if shares.get(codes[i], 0.0) >= PRESENT_MIN_PERCENT]
        if len(keep) == len(found) or not keep:
            break
        found = keep
    total = sum(shares.get(codes[i], 0.0) for i in found) or 1.0

    measured = _palette_rule_lab(image, cores, code_of_core, len(pal))
    colours = []
    for i in found:
        lab = _exposed(measured[i], gain) if not np.isnan(measured[i, 0]) else pal[i]
        conf, de_own, runner = _confidence(lab, pal, i)
        colours.append(
            IdentifiedColour(
                code=codes[i],
                percent=round(100.0 * shares.get(codes[i], 0.0) / total, 1),
                confidence=round(conf, 3),
                delta_e00=round(de_own, 2),
                runner_up=codes[runner] if len(pal) > 1 else None,
                runner_up_delta_e00=(
                    round(float(delta_e00(lab, pal[runner])), 2) if len(pal) > 1 else None
                ),
            )
        )
    colours.sort(key=lambda c: -c.percent)
    return Identification(
        colours=tuple(colours),
        tile_fraction=cores.tile_fraction,
        granules=int(cores.lit.sum()),
        colour_map=colour_map,
    )
