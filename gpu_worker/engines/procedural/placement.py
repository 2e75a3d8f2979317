"""Blue-noise granule centres with per-granule diameters."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# Jitter of each site inside its hexagonal lattice cell, as a fraction of the spacing.
# A jittered hexagonal lattice is a cheap blue-noise sampler: a minimum distance of
# (1 - 2 * JITTER) * spacing like Poisson-disk sampling, no clumps, and at 0.3 no visible
# rows once the cells are warped. True dart throwing costs ~10x more in numpy.
JITTER = 0.3


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


def granule_diameters(
    *, count: int, low_px: float, high_px: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Diameters drawn uniformly from the grade's range (already in pixels)."""
    return rng.uniform(low_px, high_px, count)
