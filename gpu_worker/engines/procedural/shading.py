"""Light and shadow, kept apart from the albedo: every function returns a multiplier map.

The lit top face of a granule has a multiplier of 1.0, so the colour a photo would show on
a lit face is exactly the granule's albedo, which is how the palette was measured (median
of the lit faces).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

# Light from the upper left and above, in picture axes (x right, y down, z to the viewer).
LIGHT = np.array([-0.5, -0.6, 1.0]) / np.linalg.norm([-0.5, -0.6, 1.0])
GAP_LEVEL = 0.2  # what little light reaches the binder between granules
EDGE_OCCLUSION = 0.2  # darkening where a granule dips into its neighbours
# Granule profile, as fractions of the mean diameter. Pressed EPDM crumb shows broad, flat,
# evenly lit tops with narrow rounded rims and thin binder gaps; broad flat tops are also
# what a colour measurement (the palette's, the analyzer's) reads as "the lit face".
GAP_FRACTION = 0.07
RIM_FRACTION = 0.2
RIM_HEIGHT = 0.3  # rim rise over its width: slopes light 0.75-1.1x, never glare
MAX_LIT = 1.1
SHADOW_OPACITY = 0.32

F32 = NDArray[np.float32]


def _smoothstep(x: F32) -> F32:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def granule_boundaries(labels: NDArray[np.int32]) -> NDArray[np.bool_]:
    """One-pixel lines where the label changes (marked on the left/upper pixel)."""
    b = np.zeros(labels.shape, bool)
    b[:, :-1] = labels[:, :-1] != labels[:, 1:]
    b[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return b


def granule_shading(
    labels: NDArray[np.int32], *, mean_diameter: float
) -> tuple[F32, NDArray[np.bool_]]:
    """(multiplier, face mask): rounded lit granule tops and dark gaps between them.

    Each granule's height rises with the distance to its cell boundary and levels off into
    a flat top; the light falls on the slopes (brighter facing the light, darker away) and
    the gaps get almost none.
    """
    edge = granule_boundaries(labels)
    dist = cv2.distanceTransform((~edge).view(np.uint8), cv2.DIST_L2, 3)
    gap_px = np.float32(max(0.5, GAP_FRACTION * float(mean_diameter)))
    face = dist >= gap_px
    rim = np.float32(max(1.2, RIM_FRACTION * float(mean_diameter)))
    ramp = _smoothstep((dist - gap_px) / rim)
    height = ramp * (RIM_HEIGHT * rim)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    # n = (-gx, -gy, 1) / |n|; shade relative to a flat top so the top reads 1.0.
    lit = (-gx * LIGHT[0] - gy * LIGHT[1] + LIGHT[2]) / (
        LIGHT[2] * np.sqrt(1.0 + gx * gx + gy * gy)
    )
    # Soft-box light: a slope facing the lamp is a little brighter than a flat top, never
    # glaring (which would also clip the colour to white).
    shade = np.minimum(lit, np.float32(MAX_LIT)) * (1.0 - EDGE_OCCLUSION + EDGE_OCCLUSION * ramp)
    shade = np.where(face, shade, np.float32(GAP_LEVEL)).astype(np.float32)
    return shade, face


def bevel_shading(mask: NDArray[np.uint8], *, width_px: float) -> F32:
    """Multiplier for the rounded edge of the tile: lit on the edges facing the light."""
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    gx = cv2.Sobel(dist, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(dist, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    t = np.clip(1.0 - dist / width_px, 0.0, 1.0)
    # The bevel slopes down outwards, so its normal leans against the inward gradient.
    facing = -(gx * LIGHT[0] + gy * LIGHT[1])
    return (1.0 + t * (0.55 * facing - 0.25 * t)).astype(np.float32)


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
