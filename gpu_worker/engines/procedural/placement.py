"""Granule centres: a jittered lattice at the mean granule spacing."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# Jitter of each site inside its hexagonal lattice cell, as a fraction of the spacing. At
# 0.5 the sites cover the lattice cells completely: no rows, no clumps bigger than two, and
# Voronoi cells as uneven as crushed crumb (small fragments beside long chips), with the
# mean size still set by the spacing.
JITTER = 0.5


def blue_noise_sites(
    *, width: int, height: int, spacing: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """(N, 2) array of (x, y) pixel positions covering a width x height canvas."""
    row_h = spacing * math.sqrt(3.0) / 2.0
    rows = math.ceil(height / row_h) + 2
    cols = math.ceil(width / spacing) + 2
    jj, ii = np.meshgrid(np.arange(cols), np.arange(rows))
    x = (jj + 0.5 * (ii % 2) - 0.5) * spacing
    y = (ii - 0.5) * row_h
    x = x + rng.uniform(-JITTER, JITTER, x.shape) * spacing
    y = y + rng.uniform(-JITTER, JITTER, y.shape) * spacing
    pts = np.stack([x.ravel(), y.ravel()], axis=1)
    keep = (pts[:, 0] >= 0) & (pts[:, 0] < width) & (pts[:, 1] >= 0) & (pts[:, 1] < height)
    return pts[keep]
