"""Camera geometry: where the tile lands in the picture for the `top` and `perspective` views.

Everything is expressed as homographies from the tile's local texture canvas (pixels,
axis-aligned with the tile) to the output canvas, plus projected outlines for masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from catalog.geometry import TileGeometry

from .shapes import tile_outline_mm

# White margin around the tile's bounding box, per side, as a fraction of the picture:
# the shop's product photos leave about this much.
MARGIN = 0.09
# Camera distance in tile diagonals: a normal lens on a product table, mild convergence.
CAMERA_DISTANCE = 2.6
# Light for side walls, world axes (x right, y away from the camera, z up).
_WORLD_LIGHT = np.array([-0.45, -0.55, 1.0]) / np.linalg.norm([-0.45, -0.55, 1.0])


@dataclass(frozen=True, slots=True)
class SideFace:
    quad: NDArray[np.float64]  # (4, 2) output pixels
    brightness: float
    depth: float


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    size: int  # working canvas side in pixels (output size times supersampling)
    local_shape: tuple[int, int]  # (height, width) of the tile texture canvas
    local_px_per_mm: float
    out_px_per_mm: float  # nominal scale of the tile's top face in the picture
    local_to_out: NDArray[np.float64]  # 3x3, top face plane
    side_local_to_out: NDArray[np.float64] | None  # 3x3, plane halfway down the sides
    outline_out: NDArray[np.float64]  # (N, 2) top face outline
    bottom_out: NDArray[np.float64] | None  # (N, 2) bottom outline (perspective only)
    sides: tuple[SideFace, ...]
    is_affine: bool


def _local_frame(
    outline: NDArray[np.float64], px_per_mm: float, pad_px: int
) -> tuple[NDArray[np.float64], tuple[int, int]]:
    """Affine mm -> local px (3x3) and the local canvas shape, with padding all round."""
    lo = outline.min(axis=0)
    hi = outline.max(axis=0)
    w = math.ceil((hi[0] - lo[0]) * px_per_mm) + 2 * pad_px
    h = math.ceil((hi[1] - lo[1]) * px_per_mm) + 2 * pad_px
    mm_to_local = np.array(
        [
            [px_per_mm, 0.0, pad_px - lo[0] * px_per_mm],
            [0.0, px_per_mm, pad_px - lo[1] * px_per_mm],
            [0.0, 0.0, 1.0],
        ]
    )
    return mm_to_local, (h, w)


def _apply(h: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.c_[pts, np.ones(len(pts))] @ h.T
    return p[:, :2] / p[:, 2:3]


def top_view(*, tile: TileGeometry, size: int, angle: int, pad_px: int) -> ViewGeometry:
    """Orthographic view from above, tile turned `angle` degrees anticlockwise on screen."""
    outline = tile_outline_mm(tile)
    t = math.radians(angle % 360)
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    turned = outline @ rot.T
    span = (turned.max(axis=0) - turned.min(axis=0)).max()
    scale = size * (1.0 - 2.0 * MARGIN) / span
    centre_mm = (turned.max(axis=0) + turned.min(axis=0)) / 2.0
    mm_to_out = np.eye(3)
    mm_to_out[:2, :2] = scale * rot
    mm_to_out[:2, 2] = size / 2.0 - scale * centre_mm
    mm_to_local, shape = _local_frame(outline, scale, pad_px)
    local_to_out = mm_to_out @ np.linalg.inv(mm_to_local)
    return ViewGeometry(
        size=size,
        local_shape=shape,
        local_px_per_mm=scale,
        out_px_per_mm=scale,
        local_to_out=local_to_out,
        side_local_to_out=None,
        outline_out=_apply(mm_to_out, outline),
        bottom_out=None,
        sides=(),
        is_affine=True,
    )


def perspective_view(
    *, tile: TileGeometry, size: int, angle: int, tilt_deg: float, pad_px: int
) -> ViewGeometry:
    """Pinhole camera looking down at `tilt_deg` from vertical at the tile turned `angle`."""
    outline = tile_outline_mm(tile)
    thick = float(tile.thickness_mm)
    t = math.radians(angle % 360)
    c, s = math.cos(t), math.sin(t)
    diag = float(np.hypot(*(outline.max(axis=0) - outline.min(axis=0))))
    dist = CAMERA_DISTANCE * diag
    tilt = math.radians(tilt_deg)  # bounded by the tilt parameter's declaration
    cam = np.array([0.0, -dist * math.sin(tilt), dist * math.cos(tilt)])
    fwd = -cam / np.linalg.norm(cam)
    right = np.array([1.0, 0.0, 0.0])
    down = np.cross(fwd, right)

    def world(pts: NDArray[np.float64], z: float) -> NDArray[np.float64]:
        # Picture y runs down the tile, world y runs away from the camera.
        x, y = pts[:, 0], -pts[:, 1]
        return np.stack([c * x - s * y, s * x + c * y, np.full_like(x, z)], axis=1)

    def project(p: NDArray[np.float64]) -> NDArray[np.float64]:
        rel = p - cam
        zc = rel @ fwd
        return np.stack([(rel @ right) / zc, (rel @ down) / zc], axis=1)

    top_w = world(outline, 0.0)
    bot_w = world(outline, -thick)
    top_p = project(top_w)
    bot_p = project(bot_w)
    both = np.concatenate([top_p, bot_p])
    lo, hi = both.min(axis=0), both.max(axis=0)
    fit = size * (1.0 - 2.0 * MARGIN) / (hi - lo).max()
    offset = size / 2.0 - fit * (lo + hi) / 2.0

    def to_out(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return fit * p + offset

    # Local texture at the scale of the nearest (largest) part of the face, so the warp
    # only ever shrinks the texture and nearest-neighbour labels do not repeat pixels.
    top_out = to_out(top_p)
    span_mm = (outline.max(axis=0) - outline.min(axis=0)).max()
    px_per_mm = float((top_out.max(axis=0) - top_out.min(axis=0)).max() / span_mm)
    px_per_mm *= 1.15
    # The side walls are textured from a plane halfway down the tile, which the camera
    # sees beyond the top outline: pad the canvas to cover it.
    pad_px += math.ceil(1.6 * thick * px_per_mm)
    mm_to_local, shape = _local_frame(outline, px_per_mm, pad_px)
    corners_mm = np.array(
        [
            outline.min(axis=0),
            [outline.max(axis=0)[0], outline.min(axis=0)[1]],
            outline.max(axis=0),
            [outline.min(axis=0)[0], outline.max(axis=0)[1]],
        ]
    )
    corners_local = _apply(mm_to_local, corners_mm).astype(np.float32)

    def plane(z: float) -> NDArray[np.float64]:
        dst = to_out(project(world(corners_mm, z))).astype(np.float32)
        return cv2.getPerspectiveTransform(corners_local, dst).astype(np.float64)

    sides = []
    bot_out = to_out(bot_p)
    n = len(outline)
    for i in range(n):
        j = (i + 1) % n
        d = outline[j] - outline[i]
        normal_pic = np.array([d[1], -d[0]])
        norm = np.linalg.norm(normal_pic)
        if norm == 0:
            continue
        nx, ny = normal_pic / norm
        n_world = np.array([c * nx + s * ny, s * nx - c * ny, 0.0])
        mid = (top_w[i] + top_w[j]) / 2.0
        if n_world @ (cam - mid) <= 0:
            continue  # faces away from the camera
        lit = max(0.0, float(n_world @ _WORLD_LIGHT))
        quad = np.array([top_out[i], top_out[j], bot_out[j], bot_out[i]])
        # A wall gets skylight and a little of the lamp: clearly darker than the top face,
        # as a tile's sides are in a product photo.
        sides.append(SideFace(quad, 0.2 + 0.25 * lit, float(np.linalg.norm(mid - cam))))
    sides.sort(key=lambda f: -f.depth)
    return ViewGeometry(
        size=size,
        local_shape=shape,
        local_px_per_mm=px_per_mm,
        out_px_per_mm=px_per_mm / 1.15,
        local_to_out=plane(0.0),
        side_local_to_out=plane(-thick / 2.0),
        outline_out=top_out,
        bottom_out=bot_out,
        sides=tuple(sides),
        is_affine=False,
    )
