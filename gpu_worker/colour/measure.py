"""Colour fidelity of a tile picture: which palette colours, in what area shares, how true.

Works the same on renders of any engine and on photographs. It works per granule, not per
pixel, because that is what a recipe counts (granules by area) and what survives the
physics of a picture. The stages, and the module that does each:

1. Tile vs background: the tile's outline to the pixel (`segmentation`).
2. Granules: the picture is cut along the gaps between granules into granule *cores*
   (`segmentation`).
3. Each core is classified as a palette colour by the shading-tolerant colour of its lit
   part; cores whose light is far from a lit face are dropped (`classification`).
4. Every tile pixel (gap, shadow, rim) goes to its geometrically nearest kept core, so
   borders are split by position, never by colour (here).
5. Top face only: side walls of a perspective view, the dim band above the lower
   outline, are found and left out, with every core mostly on them (`walls`).
6. ΔE2000 by the palette's own rule: for each colour, the median Lab of the brightest 70 %
   (by L*) of the core pixels of its kept top-face granules (no gaps, walls or background)
   (here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from catalog.palette import PaletteColor
from catalog.recipes import Component
from gpu_worker.contract import Fidelity

from .ciede2000 import delta_e00
from .classification import classify, merge_lookalikes
from .convert import lab_to_linear, linear_to_lab
from .segmentation import (
    L_LUMA,
    LIN32,
    LOG_LUMA,
    Granules,
    granules_find,
    granules_given,
    silhouette,
)
from .tile_mask import tile_region
from .walls import implied_light, walls_band

MIN_CORE_PX = 3  # px; with the top face given (a clean render) any core pixel counts
RIM_FRACTION = 0.007  # of the picture: the outline band whose cores are not classified
RIM_SHARE = 0.3  # ... if more than this share of a core lies in it
# Without a recipe: colours under this share (percent) are noise from look-alike colours.
PRESENT_MIN_PERCENT = 1.5
LIT_QUANTILE = 0.3  # the palette's rule: the brightest 70 % of a colour's pixels
# ΔE medians need far fewer than the segmentation's STAT_PIXELS: the median of 60k pixels
# is good to ~0.1 L*.
DE_PIXELS = 60_000
# A mean colour needs fewer still: 20k pixels put it within ~0.1 ΔE.
APPEARANCE_PIXELS = 20_000


def cores_off_the_rim(
    g: Granules, interior: NDArray[np.bool_], usable: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """`usable` without the cores lying mostly on the tile's outline band.

    Their area still counts (it goes to the nearest inner granules), but their colour is
    not a lit face: the tile's bevel lights or darkens them and anti-aliasing mixes them
    with the paper.
    """
    r = max(2, round(RIM_FRACTION * min(interior.shape)))
    inner = cv2.erode(interior.view(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
    on_rim = np.bincount(g.ids[interior & ~inner], minlength=g.n)
    return usable & (on_rim <= RIM_SHARE * g.area)


def cores_assign(
    g: Granules, keep: NDArray[np.bool_], region: NDArray[np.bool_]
) -> NDArray[np.int32]:
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
    counts = np.bincount(cls, weights=per_core, minlength=k)[:k].astype(np.float64, copy=False)
    total = counts.sum()
    return (counts * 100.0 / total if total > 0 else counts), per_core


@dataclass(frozen=True, slots=True)
class ColourMap:
    """Where a measurement looked, per pixel: what staff check a number against."""

    tile: NDArray[np.bool_]  # the tile's silhouette
    # Index into `codes` of the colour each pixel was counted as; -1 where nothing was
    # counted (background, side walls, a rim no granule could be read near).
    colour: NDArray[np.int16]
    codes: tuple[str, ...]


def fidelity_measure(
    *,
    image: NDArray[np.uint8],
    palette: Sequence[PaletteColor],
    recipe: Sequence[Component] | None = None,
    top_face: NDArray[np.bool_] | None = None,
    chips: NDArray[np.int32] | None = None,
) -> Fidelity:
    """`fidelity_measure_mapped` without the map (see there): every render is measured, and
    building the map would cost it about 6 ms at 1024 px for nothing."""
    return _measure(
        image=image, palette=palette, recipe=recipe, top_face=top_face, chips=chips, mapped=False
    )[0]


def fidelity_measure_mapped(
    *,
    image: NDArray[np.uint8],
    palette: Sequence[PaletteColor],
    recipe: Sequence[Component] | None = None,
    top_face: NDArray[np.bool_] | None = None,
    chips: NDArray[np.int32] | None = None,
) -> tuple[Fidelity, ColourMap]:
    """Measure colour shares and ΔE2000 on an RGB uint8 picture of one tile.

    `top_face` marks the tile's top face where the caller knows it (an engine knows the
    geometry it drew). The colours are still measured from the pixels; only the question
    "which pixels are the top face, which are side walls" is answered instead of guessed,
    which in perspective views is the measurement's weakest step. Photos and PNG files leave
    it out and the tile is found in the picture.

    `chips` goes one step further, for an engine that drew granules: their id per pixel (0
    off the top face, which it then also gives). The granules' outlines are then known
    instead of cut along the picture's crevices; each granule's colour is still measured
    from its pixels, and the shares are the areas of the granules of each measured colour.

    The map beside the figures says which pixels were the tile and which colour each
    counted pixel went to: the shares are exactly its areas.
    """
    fidelity, colour_map = _measure(
        image=image, palette=palette, recipe=recipe, top_face=top_face, chips=chips, mapped=True
    )
    assert colour_map is not None  # asked for
    return fidelity, colour_map


def _measure(
    *,
    image: NDArray[np.uint8],
    palette: Sequence[PaletteColor],
    recipe: Sequence[Component] | None,
    top_face: NDArray[np.bool_] | None,
    chips: NDArray[np.int32] | None,
    mapped: bool,
) -> tuple[Fidelity, ColourMap | None]:
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

    if chips is not None:
        chips = np.asarray(chips, dtype=np.int32)
        if chips.shape != image.shape[:2]:
            raise ValueError(f"chips is {chips.shape}, the image {image.shape[:2]}")
        top_face = chips > 0
    # OpenCV keeps uint8 and gives a LUT's own type; astype only states it, copying nothing.
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.uint8, copy=False)
    ln = cv2.LUT(luma, LOG_LUMA).astype(np.float32, copy=False)
    if chips is None:
        tile, _interior = tile_region(cv2.LUT(luma, L_LUMA).astype(np.float32, copy=False))
    else:
        # Only the figure is needed (the outline is given): half the pixels tell it.
        small = cv2.resize(
            luma, (luma.shape[1] // 2, luma.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
        tile, _interior = tile_region(cv2.LUT(small, L_LUMA).astype(np.float32, copy=False))
    tile_fraction = round(float(tile.mean()), 3)
    # Shares count the whole top face, rim granules included: on a 256 px picture the
    # tile holds ~700 granules, and leaving out an eroded rim (~20 % of them, a random
    # draw) would alone move a share by ~1 pp.
    if top_face is None:
        interior = silhouette(luma, ln, tile)
    else:
        top_face = np.asarray(top_face, dtype=bool)
        if top_face.shape != luma.shape:
            raise ValueError(f"top_face is {top_face.shape}, the image {luma.shape}")
        interior = top_face
    g = (
        granules_find(image, interior, ln, cand, split_lookalikes=recipe is not None)
        if chips is None
        else granules_given(image, chips)
    )
    usable = g.area >= (1 if top_face is not None else MIN_CORE_PX)
    if top_face is None:
        usable = cores_off_the_rim(g, interior, usable)
    cls, light, ok = classify(g, cand, usable, whole=chips is not None)
    # Side walls (perspective views): a core mostly on them is wall, and takes its share
    # of the silhouette in the nearest-core split, which is then left out with the rest of
    # the band, so the wall/top line follows the granule borders where it can.
    wall = np.zeros(g.n, dtype=bool)
    band = None
    if top_face is None:
        band = walls_band(
            log_luma=ln, implied=implied_light(image, g, light, usable), interior=interior
        )
        if band.any():
            on_band = np.bincount(g.ids[band], minlength=g.n)
            wall = on_band >= 0.5 * np.maximum(g.area, 1.0)
            wall[0] = False
    keep = ok & ~wall
    if chips is None:
        owner = cores_assign(g, keep | wall, interior)
    else:
        # A measured granule owns all of itself; only the area of the ones whose light
        # could not be read goes to their nearest measured neighbours.
        owner = np.where(keep[chips], chips, 0)
        if (interior & (owner == 0)).any():
            owner = np.where(owner > 0, owner, cores_assign(g, keep, interior))
    region = (owner > 0) & ~wall[owner]
    if band is not None:
        region &= ~band
    owner[~region] = 0
    share, _ = _shares(owner, cls, len(codes), g.n)

    if recipe is None and keep.any():
        # Look-alike palette colours soak up a little of each present colour; a second
        # pass among the colours clearly there gives those granules back.
        for _ in range(2):
            alive = [i for i in range(len(codes)) if share[i] >= PRESENT_MIN_PERCENT]
            alive = [
                alive[m]
                for m in merge_lookalikes(
                    [codes[i] for i in alive],
                    cand[alive],
                    g,
                    np.searchsorted(alive, cls),
                    keep & np.isin(cls, alive),
                )
            ]
            codes = [codes[i] for i in alive]
            cand = cand[alive]
            cls, _, ok = classify(g, cand, usable)
            keep = ok & ~wall
            owner = cores_assign(g, keep | wall, interior)
            owner[~region | wall[owner]] = 0
            share, _ = _shares(owner, cls, len(codes), g.n)

    shares = {code: round(float(s), 1) for code, s in zip(codes, share, strict=True)}
    if recipe is None:
        shares = {c: v for c, v in shares.items() if v > 0.0}

    de = _delta_e(image, g.ids, region, cls, keep, cand, codes)
    appearance = None if recipe is None else _appearance(image, region, recipe, by_code)
    max_err = None
    if recipe is not None:
        got = dict(zip(codes, share, strict=True))
        errs = [abs(got.get(c.code, 0.0) - c.percent) for c in recipe]
        max_err = round(float(max(errs)), 1)
    fidelity = Fidelity(
        shares=shares,
        max_share_error_pp=max_err,
        delta_e00=de,
        tile_fraction=tile_fraction,
        appearance_delta_e00=appearance,
    )
    if not mapped:
        return fidelity, None
    counted_as = np.where(owner > 0, cls[owner], -1).astype(np.int16)
    if tile.shape != counted_as.shape:  # found on the half-size picture (chips given)
        h, w = counted_as.shape
        tile = cv2.resize(tile.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    return fidelity, ColourMap(tile=tile, colour=counted_as, codes=tuple(codes))


def _appearance(
    image: NDArray[np.uint8],
    face: NDArray[np.bool_],
    recipe: Sequence[Component],
    by_code: dict[str, PaletteColor],
) -> float | None:
    """ΔE2000 between the mean colour of the whole visible top face and the recipe's mix.

    What a shopper sees from a step back: granules, crevices, shading and sheen averaged in
    linear light, against the palette colours mixed in their recipe shares (also in linear
    light, as light from many small granules mixes). Real photos of single colours read
    about 2-5 from their palette colour: crevices and shading darken a tile a little.
    """
    sel = np.flatnonzero(face.ravel())
    if not len(sel):
        return None
    sel = sel[:: max(1, len(sel) // APPEARANCE_PIXELS)]
    seen = LIN32[image.reshape(-1, 3)[sel]].astype(np.float64).mean(axis=0)
    mix = sum((c.percent / 100.0) * lab_to_linear(np.array(by_code[c.code].lab)) for c in recipe)
    return round(float(delta_e00(linear_to_lab(seen), linear_to_lab(np.asarray(mix)))), 2)


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
    lab = linear_to_lab(LIN32[image.reshape(-1, 3)[sel]])
    de: dict[str, float] = {}
    for i, code in enumerate(codes):
        mine = lab[colour == i]
        if len(mine) < 10:
            continue
        lit = mine[mine[:, 0] >= np.quantile(mine[:, 0], LIT_QUANTILE)]
        est = np.median(lit, axis=0)
        de[code] = round(float(delta_e00(est, cand[i])), 2)
    return de
