"""Granule cells: a label map (one id per granule) from sites and diameters."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

# Boundary wobble as a fraction of the mean granule diameter: cut edges are straight but
# not ruled, so the Voronoi edges are bent a little by a smooth random field.
WARP_AMPLITUDE = 0.03


def granule_labels(
    *,
    width: int,
    height: int,
    sites: NDArray[np.float64],
    mean_diameter: float,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """(label map (height, width) int32 with granule ids 1..N, every pixel labelled;
    each id's site as (x, y) pixels, row = id, row 0 unused).

    A Voronoi diagram of the sites (OpenCV's labelled distance transform gives each pixel
    its nearest site): straight-edged, angular cells of uneven size, the outline of cut
    chips. One pixel per site, each its own label, so no two chips ever merge.
    """
    seeds = np.ones((height, width), np.uint8)
    sx = np.clip(np.rint(sites[:, 0]).astype(np.int64), 0, width - 1)
    sy = np.clip(np.rint(sites[:, 1]).astype(np.int64), 0, height - 1)
    seeds[sy, sx] = 0
    _, labels = cv2.distanceTransformWithLabels(
        seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # DIST_LABEL_PIXEL numbers the seed pixels 1, 2, ... in raster order (two sites on one
    # pixel are one seed).
    raster = np.unique(sy * width + sx)
    where = np.zeros((len(raster) + 1, 2))
    where[1:, 0] = raster % width
    where[1:, 1] = raster // width
    # CV_32S labels: astype only states the type, it copies nothing.
    warped = _warp_labels(labels.astype(np.int32, copy=False), mean_diameter=mean_diameter, rng=rng)
    return warped, where


def _warp_labels(
    labels: NDArray[np.int32], *, mean_diameter: float, rng: np.random.Generator
) -> NDArray[np.int32]:
    h, w = labels.shape
    step = max(2.0, 0.9 * mean_diameter)
    gh, gw = int(h / step) + 2, int(w / step) + 2
    amp = np.float32(WARP_AMPLITUDE * mean_diameter)
    noise = rng.standard_normal((2, gh, gw)).astype(np.float32) * amp
    # Where each pixel takes its label from: itself, displaced (added in place, so no
    # full-size coordinate grids are made).
    map_x = cv2.resize(noise[0], (w, h), interpolation=cv2.INTER_CUBIC)
    map_y = cv2.resize(noise[1], (w, h), interpolation=cv2.INTER_CUBIC)
    map_x += np.arange(w, dtype=np.float32)[None, :]
    map_y += np.arange(h, dtype=np.float32)[:, None]
    # Labels travel as float32 (exact below 2**24) because remap has no int32 path.
    warped = cv2.remap(
        labels.astype(np.float32),
        map_x,
        map_y,
        interpolation=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return warped.astype(np.int32)
