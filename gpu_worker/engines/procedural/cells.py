"""Granule cells: a label map (one id per granule) from sites and diameters."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

# Boundary wobble as a fraction of the mean granule diameter: crumb granules are torn
# rubber, not polygons, so the straight Voronoi edges are bent by a smooth random field.
WARP_AMPLITUDE = 0.22


def _disc_offsets(radius: int) -> list[tuple[int, int, float]]:
    out = []
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            out.append((dx, dy, float(np.hypot(dx, dy))))
    return out


def granule_labels(
    *,
    width: int,
    height: int,
    sites: NDArray[np.float64],
    diameters: NDArray[np.float64],
    mean_diameter: float,
    rng: np.random.Generator,
) -> NDArray[np.int32]:
    """Label map (height, width) int32, granule ids 1..N, every pixel labelled.

    Each site is stamped as a small disc whose radius grows with its granule's diameter;
    OpenCV's labelled distance transform then gives each pixel the nearest disc, i.e. an
    additively weighted Voronoi diagram, so bigger granules take bigger cells.
    """
    seeds = np.ones((height, width), np.uint8)
    sx = np.clip(np.rint(sites[:, 0]).astype(np.int64), 0, width - 1)
    sy = np.clip(np.rint(sites[:, 1]).astype(np.int64), 0, height - 1)
    # Weight = half the excess over the smallest diameter, capped so neighbouring discs
    # (at least 0.4 spacing apart) never touch and merge.
    rho = np.minimum((diameters - diameters.min()) / 2.0, 0.18 * mean_diameter)
    for dx, dy, dist in _disc_offsets(int(np.ceil(rho.max()))):
        sel = rho >= dist
        seeds[np.clip(sy[sel] + dy, 0, height - 1), np.clip(sx[sel] + dx, 0, width - 1)] = 0
    _, labels = cv2.distanceTransformWithLabels(
        seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_CCOMP
    )
    # CV_32S labels: astype only states the type, it copies nothing.
    return _warp_labels(labels.astype(np.int32, copy=False), mean_diameter=mean_diameter, rng=rng)


def _warp_labels(
    labels: NDArray[np.int32], *, mean_diameter: float, rng: np.random.Generator
) -> NDArray[np.int32]:
    h, w = labels.shape
    step = max(2.0, 0.9 * mean_diameter)
    gh, gw = int(h / step) + 2, int(w / step) + 2
    amp = np.float32(WARP_AMPLITUDE * mean_diameter)
    noise = rng.standard_normal((2, gh, gw)).astype(np.float32) * amp
    dx = cv2.resize(noise[0], (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(noise[1], (w, h), interpolation=cv2.INTER_CUBIC)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    # Labels travel as float32 (exact below 2**24) because remap has no int32 path.
    warped = cv2.remap(
        labels.astype(np.float32),
        gx + dx,
        gy + dy,
        interpolation=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return warped.astype(np.int32)
