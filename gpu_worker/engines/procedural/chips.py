"""The material of the top face: cut-rubber chips with facets, crevices, contact shadows, grain.

Every granule (one label) is a chip cut by two straight lines into a main face and two
bevels that fall away from it, each facet flat (cut rubber is cut, not rounded), so each
is shaded by one normal. Chips stand at different heights; where a chip is lower than its
neighbours it lies in their crevice (ambient occlusion) and in the shadow they cast away
from the light. Nothing is drawn as an outline: the dark lines between chips in a
photograph are crevices, and here too they are only light that does not reach.

The result is a multiplier on the albedo (1.0 = the light on a level, open face),
computed in the output picture's pixels; the granule diameter sets every length.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]

# Soft box above the table, a little to the upper left, in picture axes (x right, y down,
# z to the viewer): the product photos' light.
LIGHT = np.array([-0.35, -0.45, 1.0]) / np.linalg.norm([-0.35, -0.45, 1.0])
AMBIENT = 0.55  # share of the light that is sky (no direction): facets in shade still show
SHEEN = 0.06  # a low sheen on facets facing the light; EPDM is matte
SHEEN_POWER = 24.0
# Facets: a chip is cut by two straight lines into up to three flat facets: its main face
# and two bevels that fall away from it, each at its own slope and turn, as a knife leaves
# cut rubber. Offsets are fractions of the chip's radius.
MAIN_TILT = 0.45  # spread of the main face's tilt (rise over run)
CUT_OFFSET = ((0.0, 0.7), (0.3, 0.9))  # where the two cuts cross the chip
CUT_SLOPE = (0.5, 1.8)  # the bevels' slope, relative to the main face
# Heights, as fractions of the mean diameter.
BASE_SPREAD = 0.3  # chips sit at different heights in the pressed layer
ROLL_OFF = 0.12  # a chip's edge falls away over this width ...
ROLL_DEPTH = 0.2  # ... by this much: the crevice between two chips
CREVICE_SCALE = 0.35  # the neighbourhood a crevice is judged against (Gaussian sigma)
CREVICE_DEPTH = 1.3  # occlusion per unit depth below the neighbourhood
CREVICE_FLOOR = 0.06  # the deepest crevice still gets this much light
TABLE_DEPTH = 1.0  # how far below the chips the table lies, in diameters
SHADOW_REACH = 0.25  # contact shadows reach this far from the chip that casts them
SHADOW_OPACITY = 0.45
GRAIN = 0.14  # fine surface grain (relative light), blurred over GRAIN_BLUR px
GRAIN_BLUR = 0.5
MOTTLE = 0.15  # a coarser octave of grain (relative light) ...
MOTTLE_SCALE = 0.25  # ... varying over this fraction of a chip
GRAIN_FULL_PX = 16.0  # chip diameter (px) from which the grain shows in full


def _lit(nx: F32, ny: F32, nz: F32) -> F32:
    """Soft-box shading of unit normals, relative to a level facet."""
    lx, ly, lz = (np.float32(v) for v in LIGHT)
    diffuse = np.maximum(nx * lx + ny * ly + nz * lz, 0.0)
    half = np.array([LIGHT[0], LIGHT[1], LIGHT[2] + 1.0]) / np.linalg.norm(
        [LIGHT[0], LIGHT[1], LIGHT[2] + 1.0]
    )
    spec = np.maximum(nx * half[0] + ny * half[1] + nz * half[2], 0.0) ** SHEEN_POWER
    level = AMBIENT + (1.0 - AMBIENT) * float(LIGHT[2])
    out = (AMBIENT + (1.0 - AMBIENT) * diffuse + SHEEN * spec) / level
    return out.astype(np.float32)


# Columns of the per-chip plane table. Every height is a plane in picture pixels,
# h = c - gx * x - gy * y, so a pixel needs its chip's row and its own (x, y), nothing else.
_MAIN = 0  # the main face: c, gx, gy
# Each cut, as how far its bevel has fallen: slope * (ux x + uy y - offset), positive past
# the cut. The bevel's slope is folded into the plane, so one gather per coefficient gives
# both which side of the cut a pixel is on and how far the bevel has fallen there.
_CUT1 = 3
_CUT2 = 6
_COLUMNS = 9


def _chip_planes(
    centres: NDArray[np.float64], d: float, rng: np.random.Generator
) -> tuple[F32, F32]:
    """(plane table (n, _COLUMNS), light per facet (n, 4)) for chips around `centres`.

    The light table's columns are the facets a pixel can be on: main face, past cut 1,
    past cut 2, past both (the second cut wins, so a corner gets one facet, not a crease).
    """
    n = len(centres)
    radius = d / 2.0
    cx, cy = centres[:, 0], centres[:, 1]
    table = np.empty((n, _COLUMNS), np.float64)
    tilt = rng.normal(0.0, MAIN_TILT, (n, 2))
    base = rng.uniform(0.0, BASE_SPREAD * d, n)
    table[:, 0] = base + tilt[:, 0] * cx + tilt[:, 1] * cy
    table[:, 1] = tilt[:, 0]
    table[:, 2] = tilt[:, 1]
    lights = [_normal_light(tilt[:, 0], tilt[:, 1])]
    a1 = rng.uniform(0.0, 2.0 * math.pi, n)
    a2 = a1 + rng.uniform(0.5 * math.pi, 1.5 * math.pi, n)
    for i, (angle, (lo, hi)) in enumerate(zip((a1, a2), CUT_OFFSET, strict=True)):
        ux, uy = np.cos(angle), np.sin(angle)
        offset = rng.uniform(lo, hi, n) * radius
        slope = rng.uniform(*CUT_SLOPE, n)
        col = 3 + 3 * i
        table[:, col] = slope * (offset + ux * cx + uy * cy)
        table[:, col + 1] = slope * ux
        table[:, col + 2] = slope * uy
        # Past its line the bevel falls by `slope` along the cut's normal, on top of the
        # main face's own tilt.
        lights.append(_normal_light(tilt[:, 0] + slope * ux, tilt[:, 1] + slope * uy))
    light = np.stack([lights[0], lights[1], lights[2], lights[2]], axis=1)
    # Label 0 is off the tile: the table a tile's thickness below, level and never past a
    # cut, so chips on the tile's edge stand above it instead of in a crevice.
    table[0] = 0.0
    table[0, _MAIN] = -TABLE_DEPTH * d
    table[0, _CUT1] = table[0, _CUT2] = 1e9
    return table.astype(np.float32), light.astype(np.float32)


def _normal_light(gx: NDArray[np.float64], gy: NDArray[np.float64]) -> F32:
    """Light on a facet whose height falls by (gx, gy) per pixel along x and y."""
    norm = np.sqrt(1.0 + gx * gx + gy * gy)
    return _lit(
        (gx / norm).astype(np.float32),
        (gy / norm).astype(np.float32),
        (1.0 / norm).astype(np.float32),
    )


def _shift(img: F32, dx: float, dy: float) -> F32:
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    size = (img.shape[1], img.shape[0])
    out = cv2.warpAffine(img, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.astype(np.float32, copy=False)  # states the type; copies nothing


def _octave(rng: np.random.Generator, h: int, w: int, cell: int, amplitude: float) -> F32:
    """Zero-mean noise of `amplitude` (standard deviation) varying over about `cell` px.

    Uniform noise on a coarse grid, smoothly upsampled and blurred: near Gaussian by then,
    and far cheaper than a Gaussian field at full size.
    """
    coarse = rng.random((max(1, h // cell), max(1, w // cell)), dtype=np.float32)
    fine = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    noise = cv2.GaussianBlur(fine, (0, 0), GRAIN_BLUR * cell / 2.0).astype(np.float32)
    noise -= np.float32(noise[::4, ::4].mean())
    noise *= np.float32(amplitude / max(float(noise[::4, ::4].std()), 1e-6))
    return noise


def _soft(height: F32, sigma: float) -> F32:
    """A wide Gaussian at a quarter of the pixels: the neighbourhood of a crevice has no
    detail to lose, and a full-size blur of a large sigma costs more than the chips."""
    h, w = height.shape
    if sigma < 2.0:
        out = cv2.GaussianBlur(height, (0, 0), sigma)
    else:
        small = cv2.resize(height, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), sigma / 2.0)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return out.astype(np.float32, copy=False)


def _column(columns: F32, i: int, index: NDArray[np.intp]) -> F32:
    """Column `i` of the per-chip table at every pixel of `index`."""
    # mode="clip" skips the bounds check, which costs as much as the gather.
    return np.take(columns[i], index, mode="clip")


def _plane(columns: F32, first: int, index: NDArray[np.intp], xs: F32, ys: F32) -> F32:
    """The plane whose (c, gx, gy) start at column `first`, as gx x + gy y - c."""
    out = _column(columns, first + 1, index) * xs
    out += _column(columns, first + 2, index) * ys
    out -= _column(columns, first, index)
    return out


def chip_light(
    labels: NDArray[np.int32],
    *,
    centres: NDArray[np.float64],
    edge_distance: F32,
    mean_diameter: float,
    rng: np.random.Generator,
) -> F32:
    """Light multiplier for every pixel of a label map (0 = no chip).

    `centres` holds each label's chip centre in picture pixels (row = label), and
    `edge_distance` each pixel's distance to the nearest chip border, in pixels.

    The per-pixel arithmetic runs over bands of rows, so a dozen passes read a band from
    the processor's cache instead of whole 4 MB pictures from memory (a 1024 px render
    took 0.88x the time); every pixel's arithmetic is the same either way.
    """
    h, w = labels.shape
    d = float(mean_diameter)
    table, facet_light = _chip_planes(centres, d, rng)
    columns = np.ascontiguousarray(table.T)
    index = labels.astype(np.intp)  # np.take converts any other index type on every call
    xs = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :], (h, w))
    ys = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    light = np.empty((h, w), np.float32)
    height = np.empty((h, w), np.float32)
    roll = np.float32(1.0 / max(ROLL_OFF * d, 0.5))
    for rows in _bands(h, w):
        idx, x, y = index[rows], xs[rows], ys[rows]
        fall1 = _plane(columns, _CUT1, idx, x, y)
        fall2 = _plane(columns, _CUT2, idx, x, y)
        # Each pixel's row in the (n * 4) facet light table: its chip's, then its facet's.
        which = idx * 4
        which += (fall1 > 0).view(np.uint8) + 2 * (fall2 > 0).view(np.uint8)
        np.take(facet_light, which, mode="clip", out=light[rows])
        # Height: the main face's plane, less each bevel's fall past its cut, less the
        # roll of the chip's edge into the crevice.
        band = _plane(columns, _MAIN, idx, x, y)
        band += np.maximum(fall1, 0.0, out=fall1)
        band += np.maximum(fall2, 0.0, out=fall2)
        np.negative(band, out=band)
        fall = np.float32(1.0) - np.minimum(edge_distance[rows] * roll, 1.0)
        band -= np.float32(ROLL_DEPTH * d) * fall * fall
        height[rows] = band
    around = _soft(height, max(0.6, CREVICE_SCALE * d))
    # Contact shadow: a point is shadowed when the surface towards the light, a little way
    # off, stands higher than the light's ray over it (light elevation from LIGHT).
    reach = SHADOW_REACH * d
    toward = LIGHT[:2] / np.linalg.norm(LIGHT[:2])
    rise = np.float32(reach * LIGHT[2] / np.linalg.norm(LIGHT[:2]))
    ahead = _shift(height, -toward[0] * reach, -toward[1] * reach)
    # The grain is the rubber's own, finer than a millimetre: where a chip spans fewer
    # pixels, each pixel averages more of it and less is left to see.
    scale = min(1.0, d / GRAIN_FULL_PX)
    noise = _octave(rng, h, w, 2, GRAIN * scale)
    mottle: F32 | None = None
    mottle_mean = np.zeros(1, np.float32)
    if MOTTLE > 0.0:
        # Cut rubber is not smooth at a quarter of a chip either: torn micro-facets, a
        # coarser octave of the same grain, zero-mean within each chip: a chip's own
        # brightness stays as its facets make it, so no chip of one colour passes for a
        # lighter or darker look-alike.
        mottle = _octave(rng, h, w, max(2, round(MOTTLE_SCALE * d)), MOTTLE * scale)
        flat = index.ravel()
        count = np.maximum(np.bincount(flat, minlength=len(centres)), 1)
        mean = np.bincount(flat, weights=mottle.ravel(), minlength=len(centres)) / count
        mottle_mean = mean.astype(np.float32)
    crevice = np.float32(CREVICE_DEPTH / d)
    shadow = np.float32(1.0 / (0.2 * d))
    for rows in _bands(h, w):
        band = light[rows]
        here = height[rows]
        occlusion = np.float32(1.0) - (around[rows] - here) * crevice
        np.clip(occlusion, CREVICE_FLOOR, 1.0, out=occlusion)
        blocked = (ahead[rows] - here - rise) * shadow
        np.clip(blocked, 0.0, 1.0, out=blocked)
        band *= occlusion
        band *= np.float32(1.0) - blocked * np.float32(SHADOW_OPACITY)
        grain = noise[rows]
        if mottle is not None:
            grain += mottle[rows] - np.take(mottle_mean, index[rows], mode="clip")
        grain += np.float32(1.0)
        band *= grain
    return light


# Rows of float32 per band: about 256 KB, so a band's arrays stay in a core's cache.
_BAND_BYTES = 256 * 1024


def _bands(h: int, w: int) -> list[slice]:
    step = max(1, _BAND_BYTES // (4 * max(w, 1)))
    return [slice(r, min(h, r + step)) for r in range(0, h, step)]
