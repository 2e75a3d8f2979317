"""Colour fidelity of a tile picture: which palette colours, in what area shares, how true.

Works the same on renders of any engine and on photographs. The physics it leans on:
- shading scales a granule's light, which moves L* a lot but leaves the chroma direction
  (a*, b* relative to L* + 16) nearly alone, so colours are matched on that first;
- gaps and shadows are dark, highlights are bright and washed out: only pixels whose
  implied light level is near a lit face count;
- pixels on granule borders mix two colours: steep gradients of log-lightness or of
  chroma mark them, and they are left out.
Shares are counted over the confident pixels only; since every granule of every colour
loses its borders and shadows alike, the shares of what is left are the area shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from gpu_worker.spec import PaletteColor, RecipeComponent

from .ciede2000 import delta_e00
from .convert import linear_to_xyz, srgb_to_linear, xyz_to_lab
from .tile_mask import tile_region

# Light level relative to the lit face (linear luminance ratio) that still counts as lit.
LIT_RANGE = (0.42, 1.9)
# Steepest change of log-luminance per pixel for a pixel to count as pure.
MAX_LOG_GRADIENT = 0.9
MAX_LOCAL_DROP = 1.0
VOTE_MAJORITY = 0.75
# Lightness weighs less than chroma, and darker than the palette (shadow) weighs less
# than brighter (a brighter pixel is rarely explained by light).
WEIGHT_DARKER = 0.3
WEIGHT_BRIGHTER = 0.6
MAX_DISTANCE = 45.0  # no candidate this close: not a palette colour (dirt, glare)
MIN_MARGIN = 1.0  # best and runner-up this close: ambiguous, leave out
# Without a recipe: colours under this share (percent) are noise from look-alike colours.
PRESENT_MIN_PERCENT = 1.5
LIT_QUANTILE = 0.3
_LUT = srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)


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


def _lab_image(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    linear = _LUT[image]
    return xyz_to_lab(linear_to_xyz(linear)).astype(np.float32)


def _pure_pixels(lab: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Pixels away from sharp changes of light (granule borders, gaps, shadow edges).

    The gradient of log-luminance is the same for a dark and a bright granule under the
    same light, so every colour loses its borders alike and the shares are not skewed.
    """
    y = _lab_y(lab[..., 0].astype(np.float64)).astype(np.float32)
    ln = np.log(y + np.float32(0.0005))
    gx = cv2.Sobel(ln, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(ln, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    flat = (gx * gx + gy * gy) <= MAX_LOG_GRADIENT**2
    # Gap floors are local minima: flat at their centre, but far below their neighbours.
    top = cv2.dilate(ln, np.ones((3, 3), np.uint8))
    return flat & (ln >= top - np.float32(MAX_LOCAL_DROP))


def _granule_vote(pure: NDArray[np.bool_], best: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Majority colour of each connected patch of pure pixels, given to all its pixels.

    Patches are granule faces (the gaps cut them apart), so one vote per granule irons
    out pixel noise (JPEG, grain) without favouring any colour.
    """
    n, comp = cv2.connectedComponents(pure.view(np.uint8), connectivity=4)
    ids = comp[pure]
    votes = np.bincount(ids * k + best, minlength=n * k).reshape(n, k)
    winner = np.argmax(votes, axis=1)
    # A patch spanning two touching granules of different colours has no clear winner:
    # its pixels keep their own votes.
    clear = votes.max(axis=1) >= VOTE_MAJORITY * votes.sum(axis=1)
    return np.where(clear[ids], winner[ids], best)


def _classify(
    px: NDArray[np.float32], cand: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Best candidate per pixel (Lab rows) and whether the match is confident."""
    lp = px[:, 0:1].astype(np.float64)
    norm = (cand[None, :, 0] + 16.0) / (lp + 16.0)
    da = px[:, 1:2] * norm - cand[None, :, 1]
    db = px[:, 2:3] * norm - cand[None, :, 2]
    dl = lp - cand[None, :, 0]
    dl = np.where(dl < 0, WEIGHT_DARKER * dl, WEIGHT_BRIGHTER * dl)
    dist = np.sqrt(da * da + db * db + dl * dl)
    order = np.argsort(dist, axis=1)
    best = order[:, 0]
    d_best = np.take_along_axis(dist, best[:, None], axis=1)[:, 0]
    confident = d_best <= MAX_DISTANCE
    if cand.shape[0] > 1:
        d_second = np.take_along_axis(dist, order[:, 1:2], axis=1)[:, 0]
        confident &= (d_second - d_best) >= MIN_MARGIN
    # The light level this pixel implies for its colour must be that of a lit face.
    yp = _lab_y(lp[:, 0])
    yc = _lab_y(cand[best, 0])
    ratio = yp / np.maximum(yc, 1e-6)
    confident &= (ratio >= LIT_RANGE[0]) & (ratio <= LIT_RANGE[1])
    return best, confident


def _lab_y(lightness: NDArray[np.float64]) -> NDArray[np.float64]:
    f = (lightness + 16.0) / 116.0
    return np.where(lightness > 8.0, f**3, lightness / 903.3)


def _shares(best: NDArray[np.int64], ok: NDArray[np.bool_], k: int) -> NDArray[np.float64]:
    counts = np.bincount(best[ok], minlength=k).astype(np.float64)
    total = counts.sum()
    return counts * 100.0 / total if total > 0 else counts


def fidelity_measure(
    *,
    image: NDArray[np.uint8],
    palette: Sequence[PaletteColor],
    recipe: Sequence[RecipeComponent] | None = None,
) -> Fidelity:
    """Measure colour shares and ΔE2000 on an RGB uint8 picture of one tile."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("image must be an (H, W, 3) uint8 RGB array")
    by_code = {c.code: c for c in palette}
    if recipe is not None:
        missing = [c.code for c in recipe if c.code not in by_code]
        if missing:
            raise ValueError(f"recipe colours not in the palette: {', '.join(missing)}")
        codes = [c.code for c in recipe]
    else:
        codes = [c.code for c in palette]

    lab = _lab_image(image)
    tile, interior = tile_region(lab[..., 0])
    tile_fraction = round(float(tile.mean()), 3)
    usable = interior & _pure_pixels(lab)
    px = lab[usable]

    cand = np.array([by_code[c].lab for c in codes], dtype=np.float64)

    def classify(cand: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        if not len(px):
            return np.zeros(0, np.int64), np.zeros(0, bool)
        best, ok = _classify(px, cand)
        return _granule_vote(usable, best, len(cand)), ok

    best, ok = classify(cand)
    share = _shares(best, ok, len(codes))
    if recipe is None and len(px):
        # Look-alike palette colours soak up a little of each present colour; a second
        # pass among the colours clearly there gives those pixels back.
        keep = [i for i in range(len(codes)) if share[i] >= PRESENT_MIN_PERCENT]
        codes = [codes[i] for i in keep]
        cand = cand[keep]
        best, ok = classify(cand)
        share = _shares(best, ok, len(codes))
        keep = [i for i in range(len(codes)) if share[i] >= PRESENT_MIN_PERCENT]
        codes = [codes[i] for i in keep]
        share = share[keep] * 100.0 / max(share[keep].sum(), 1e-9)
        remap = np.full(len(cand), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        best = remap[best]
        cand = cand[keep]

    shares = {code: round(float(s), 1) for code, s in zip(codes, share, strict=True)}
    if recipe is None:
        shares = {c: v for c, v in shares.items() if v > 0.0}
    # Colour means by the palette's own protocol: every tile pixel goes to its nearest
    # colour (shadows and gaps included, as in the palette photos), then the median Lab of
    # the brightest 70 % of each colour's pixels, i.e. its lit faces.
    every = lab[interior]
    nearest = _classify(every, cand)[0] if len(every) and len(cand) else np.zeros(0, np.int64)
    de: dict[str, float] = {}
    for i, code in enumerate(codes):
        mine = every[nearest == i]
        if len(mine) < 10:
            continue
        # The palette's own statistic: median Lab of the brightest 70 % of the colour's
        # pixels (its lit faces). Dark shadow pixels are already out (not pure).
        lit = mine[mine[:, 0] >= np.quantile(mine[:, 0], LIT_QUANTILE)]
        est = np.median(lit, axis=0)
        de[code] = round(float(delta_e00(est, cand[i])), 2)

    max_err = None
    if recipe is not None:
        got = dict(zip(codes, share, strict=True))
        errs = [abs(got.get(c.code, 0.0) - c.percent) for c in recipe]
        max_err = round(float(max(errs)), 1)
    return Fidelity(
        shares=shares, max_share_error_pp=max_err, delta_e00=de, tile_fraction=tile_fraction
    )
