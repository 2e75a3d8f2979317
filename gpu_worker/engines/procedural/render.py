"""The procedural picture, built in layers: labels, albedo, shading, composite."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from catalog.geometry import GRANULE_DIAMETER_MM
from gpu_worker.colour.convert import linear_to_srgb
from gpu_worker.contract import RenderSpec

from .camera import ViewGeometry, perspective_view, top_view
from .cells import granule_labels
from .colouring import granule_albedo
from .placement import blue_noise_sites, granule_diameters
from .shading import GAP_LEVEL, bevel_shading, granule_shading, soft_shadow

# Granule scale. Drawn to scale, a 500 mm tile on a 1024 px picture has 2.5 px fine
# granules and at 256 px they would be sub-pixel: a grey mush with no granules to see or
# measure. Product photos crop in for the same reason, so the texture is magnified until a
# fine granule averages FINE_MIN_PX output pixels, and never shrunk below true scale. The
# one zoom factor applies to every grade, so medium and coarse stay 1.7x and 2.3x as big
# as fine, as they are on the real tiles.
FINE_MIN_PX = 6.5
MIN_GRANULES = 700
# "high" quality draws at twice the size up to here; larger pictures have pixels enough.
SUPERSAMPLE_MAX_PX = 1024
# Binder albedo (linear); lit at the gap level it reads about sRGB 15: near-black, darker
# than the rims of the darkest granules.
BINDER_LINEAR = 0.025
_FINE_MEAN_MM = sum(GRANULE_DIAMETER_MM["fine"]) / 2.0

_SRGB_LUT = np.clip(np.rint(linear_to_srgb(np.arange(65536) / 65535.0) * 255.0), 0, 255).astype(
    np.uint8
)
Stage = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Layers:
    """The separate layers of one render, for the engine and for tests."""

    image: NDArray[np.uint8]  # (size, size, 3) sRGB
    labels: NDArray[np.int32]  # granule id per pixel (working resolution), 0 off the tile
    component: NDArray[np.int64]  # recipe component index per granule id
    granule_lab: NDArray[np.float64]  # albedo Lab per granule id
    face: NDArray[np.bool_]  # visible granule faces (tile, not gap)
    shading: NDArray[np.float32]  # light multiplier on the albedo
    supersample: int
    granule_px: float  # mean granule diameter in output pixels
    top: NDArray[np.bool_]  # top face of the tile (working resolution); a debug/test output


def _granule_range_px(spec: RenderSpec, view: ViewGeometry, ss: int) -> tuple[float, float]:
    lo_mm, hi_mm = GRANULE_DIAMETER_MM[spec.tile.granule_size]
    # Seen at a tilt, granules are squashed by cos(tilt) along the view: the minimum size
    # holds across that direction too, or the far half of the face is 3 px slivers that
    # neither look like granules nor can be measured.
    squash = 1.0
    if spec.params.view == "perspective":
        squash = math.cos(math.radians(spec.params.tilt))
    zoom = max(1.0, FINE_MIN_PX / (_FINE_MEAN_MM * squash * view.out_px_per_mm / ss))
    # A 1 % colour needs granules much smaller than 1 % of the tile for its share to come
    # out exact, so small pictures of small, coarse tiles shrink the zoom to keep at
    # least MIN_GRANULES on the face.
    mean_mm = (lo_mm + hi_mm) / 2.0
    face_mm2 = float(spec.tile.width_mm) * float(spec.tile.height_mm)
    zoom = min(zoom, math.sqrt(face_mm2 / MIN_GRANULES) / mean_mm)
    k = max(zoom, 1e-6) * view.local_px_per_mm
    return lo_mm * k, hi_mm * k


def _view(spec: RenderSpec, size: int) -> ViewGeometry:
    if spec.params.view == "top":
        return top_view(tile=spec.tile, size=size, angle=spec.params.angle, pad_px=4)
    if spec.params.view == "perspective":
        return perspective_view(
            tile=spec.tile, size=size, angle=spec.params.angle, tilt_deg=spec.params.tilt, pad_px=4
        )
    raise ValueError(f"unknown view: {spec.params.view!r}")


def _warp_nearest(
    labels: NDArray[np.int32], h: NDArray[np.float64], size: int, affine: bool
) -> NDArray[np.int32]:
    src = labels.astype(np.float32)  # exact below 2**24; warps have no int32 path
    flags = cv2.INTER_NEAREST
    if affine:
        out = cv2.warpAffine(src, h[:2], (size, size), flags=flags, borderValue=0)
    else:
        out = cv2.warpPerspective(src, h, (size, size), flags=flags, borderValue=0)
    return out.astype(np.int32)


def _fill(poly: NDArray[np.float64], size: int, *, antialias: bool) -> NDArray[np.uint8]:
    mask = np.zeros((size, size), np.uint8)
    shift = 4
    pts = np.rint(poly * (1 << shift)).astype(np.int32)
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    cv2.fillPoly(mask, [pts], 255, lineType=line, shift=shift)
    return mask


def render_layers(spec: RenderSpec, *, stage: Stage | None = None) -> Layers:
    """Render `spec`; `stage(name)` is called between the stages (for progress/cancel)."""
    note = stage or (lambda _name: None)
    # Supersampling only on request: labels are nearest-neighbour anyway, so the default
    # single sample never blends two granule colours; "high" quality smooths the edges.
    ss = 2 if spec.params.quality == "high" and spec.params.size <= SUPERSAMPLE_MAX_PX else 1
    size = spec.params.size * ss
    palette = spec.palette_by_code()
    seeds = np.random.SeedSequence(int(spec.seed)).spawn(4)
    rng_sites, rng_diam, rng_warp, rng_colour = (np.random.default_rng(s) for s in seeds)

    view = _view(spec, size)
    lo_px, hi_px = _granule_range_px(spec, view, ss)
    mean_local = (lo_px + hi_px) / 2.0
    lh, lw = view.local_shape
    sites = blue_noise_sites(width=lw, height=lh, spacing=mean_local, rng=rng_sites)
    diam = granule_diameters(count=len(sites), low_px=lo_px, high_px=hi_px, rng=rng_diam)
    note("placement")
    local = granule_labels(
        width=lw, height=lh, sites=sites, diameters=diam, mean_diameter=mean_local, rng=rng_warp
    )
    note("cells")

    top_aa = _fill(view.outline_out, size, antialias=True)
    top_hard = top_aa >= 128
    labels = _warp_nearest(local, view.local_to_out, size, view.is_affine)
    side_hard = np.zeros((size, size), bool)
    side_shade = np.ones((size, size), np.float32)
    tile_aa = top_aa
    if view.sides:
        side_aa = np.zeros((size, size), np.uint8)
        shift = 4
        for side in view.sides:
            pts = np.rint(side.quad * (1 << shift)).astype(np.int32)
            cv2.fillConvexPoly(side_aa, pts, 255, lineType=cv2.LINE_AA, shift=shift)
            cv2.fillConvexPoly(side_shade, pts, float(side.brightness), shift=shift)
        side_hard = (side_aa >= 128) & ~top_hard
        assert view.side_local_to_out is not None
        side_labels = _warp_nearest(local, view.side_local_to_out, size, False)
        labels = np.where(side_hard, side_labels, labels)
        tile_aa = np.maximum(top_aa, side_aa)
    tile_hard = top_hard | side_hard
    labels[~tile_hard] = 0
    note("warp")

    out_scale = view.out_px_per_mm / view.local_px_per_mm
    mean_out = mean_local * out_scale
    shade, face = granule_shading(labels, mean_diameter=mean_out)
    # The palette was measured as the median of the brightest 70 % of a colour's granule
    # faces (gaps are binder, not the colour). Scale the light so the same statistic over
    # this tile's top face is 1: measured the palette's way, the render then shows exactly
    # the palette's colours.
    lit = shade[top_hard & face]
    q65 = float(np.quantile(lit[::3], 0.65)) if lit.size else 1.0
    shade *= np.float32(1.0 / max(q65, 1e-3))
    face &= tile_hard
    n_ids = int(local.max()) + 1
    # Shares are shares of the top face as a picture shows it: each granule's whole cell
    # there (its binder gap included, as any measurement splits a gap between the granules
    # on either side). Side walls are not counted: they are the same granules seen again.
    areas = np.bincount(labels[top_hard], minlength=n_ids).astype(np.int64)
    areas[0] = 0
    note("areas")
    comp, lab, linear = granule_albedo(
        areas=areas, recipe=spec.recipe.components, palette=palette, rng=rng_colour
    )
    note("albedo")

    bevel_px = max(1.5, 0.012 * size)
    light = shade * bevel_shading(top_hard.view(np.uint8), width_px=bevel_px)
    # Side walls are in shade and moulded flat: no granule relief, only the wall's light.
    wall = np.where(face, np.float32(1.0), np.float32(GAP_LEVEL)) * np.float32(1.0 / max(q65, 1e-3))
    light = np.where(side_hard, wall * side_shade, light)
    if view.bottom_out is not None:
        ground = _fill(view.bottom_out, size, antialias=False)
        bg = soft_shadow(ground, offset=(0.004 * size, 0.012 * size), blur_px=0.012 * size)
    else:
        bg = soft_shadow(
            top_hard.view(np.uint8) * np.uint8(255),
            offset=(0.012 * size, 0.018 * size),
            blur_px=0.014 * size,
        )
    note("shading")

    alpha = tile_aa.astype(np.float32) * np.float32(1.0 / 255.0)
    # Gaps show the binder deep in the crevice, not the granules' own colour: a dark neutral
    # that every granule, bright or dark, stands out from (as in product photos).
    table = np.concatenate([linear, np.full((1, 3), BINDER_LINEAR, np.float32)])
    albedo_idx = np.where(face | ~tile_hard, labels, np.int32(len(linear)))
    rgb = table[albedo_idx] * (light * alpha)[..., None]
    rgb += ((1.0 - alpha) * bg)[..., None]
    if ss > 1:
        rgb = cv2.resize(rgb, (spec.params.size,) * 2, interpolation=cv2.INTER_AREA)
    idx = np.clip(rgb * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
    image = _SRGB_LUT[idx]
    note("composite")
    return Layers(
        image=image,
        labels=labels,
        component=comp,
        granule_lab=lab,
        face=face,
        shading=light,
        supersample=ss,
        granule_px=mean_out / ss,
        top=top_hard,
    )
