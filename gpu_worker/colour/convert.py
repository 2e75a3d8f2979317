"""sRGB <-> linear RGB <-> XYZ <-> CIELAB (D65), vectorised over the last axis."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# IEC 61966-2-1 primaries, D65 white; rows give X, Y, Z.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
# The white point is the matrix's own image of RGB white, so white maps to L*=100, a*=b*=0
# exactly (the rounded published D65 figures leave a residue of ~0.01 in a*).
WHITE_D65 = _RGB_TO_XYZ.sum(axis=1)

_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0

FloatArray = NDArray[np.float64]


def srgb_to_linear(srgb: ArrayLike) -> FloatArray:
    """sRGB in 0..1 to linear-light RGB."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: ArrayLike) -> FloatArray:
    """Linear-light RGB to sRGB in 0..1 (not clipped)."""
    c = np.asarray(linear, dtype=np.float64)
    mag = np.abs(c)
    enc = np.where(mag <= 0.0031308, 12.92 * mag, 1.055 * mag ** (1.0 / 2.4) - 0.055)
    return np.sign(c) * enc


# 8-bit sRGB of every 16-bit linear-light code (0..65535): a finished picture in one lookup.
LINEAR16_TO_SRGB8 = np.clip(
    np.rint(linear_to_srgb(np.arange(65536) / 65535.0) * 255.0), 0, 255
).astype(np.uint8)


def linear_to_xyz(linear: ArrayLike) -> FloatArray:
    return np.asarray(linear, dtype=np.float64) @ _RGB_TO_XYZ.T


def xyz_to_linear(xyz: ArrayLike) -> FloatArray:
    return np.asarray(xyz, dtype=np.float64) @ _XYZ_TO_RGB.T


def xyz_to_lab(xyz: ArrayLike) -> FloatArray:
    t = np.asarray(xyz, dtype=np.float64) / WHITE_D65
    f = np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_xyz(lab: ArrayLike) -> FloatArray:
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    f = np.stack([fx, fy, fz], axis=-1)
    t = np.where(f**3 > _EPS, f**3, (116.0 * f - 16.0) / _KAPPA)
    # Y uses L* directly below the knee, as the standard inverse does.
    t[..., 1] = np.where(lab[..., 0] > _KAPPA * _EPS, fy**3, lab[..., 0] / _KAPPA)
    return t * WHITE_D65


def lab_to_linear(lab: ArrayLike) -> FloatArray:
    return xyz_to_linear(lab_to_xyz(lab))


def linear_to_lab(linear: ArrayLike) -> FloatArray:
    return xyz_to_lab(linear_to_xyz(linear))


def srgb8_to_lab(rgb: ArrayLike) -> FloatArray:
    """uint8 sRGB (..., 3) to CIELAB D65.

    Goes through a 256-entry table for the transfer curve, which keeps whole-image
    conversion cheap.
    """
    table = srgb_to_linear(np.arange(256) / 255.0)
    return linear_to_lab(table[np.asarray(rgb, dtype=np.uint8)])


def lab_to_srgb8(lab: ArrayLike) -> NDArray[np.uint8]:
    """CIELAB D65 to uint8 sRGB, clipped to the gamut cube."""
    srgb = linear_to_srgb(np.clip(lab_to_linear(lab), 0.0, 1.0))
    return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)
