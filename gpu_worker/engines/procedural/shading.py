"""Chip outlines and the tile's shadow on the table: helpers for the composite.

The granules' own light (facets, crevices, contact shadows, grain) is in `chips`.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

SHADOW_OPACITY = 0.32

F32 = NDArray[np.float32]


def granule_boundaries(labels: NDArray[np.int32]) -> NDArray[np.bool_]:
    """One-pixel lines where the label changes (marked on the left/upper pixel)."""
    b = np.zeros(labels.shape, bool)
    b[:, :-1] = labels[:, :-1] != labels[:, 1:]
    b[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return b


def soft_shadow(mask: NDArray[np.uint8], *, offset: tuple[float, float], blur_px: float) -> F32:
    """Background multiplier under a shape: 1 in the open, darker in the shadow.

    Blurred at quarter resolution: a wide Gaussian at full size would cost more than the
    whole granule texture, and a shadow has no detail to lose.
    """
    h, w = mask.shape
    q = 4
    small = cv2.resize(mask, (max(1, w // q), max(1, h // q)), interpolation=cv2.INTER_AREA)
    m = np.array([[1, 0, offset[0] / q], [0, 1, offset[1] / q]], np.float32)
    small = cv2.warpAffine(small.astype(np.float32) / 255.0, m, (small.shape[1], small.shape[0]))
    sigma = max(0.5, blur_px / q)
    small = cv2.GaussianBlur(small, (0, 0), sigma)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return (1.0 - SHADOW_OPACITY * big).astype(np.float32)
