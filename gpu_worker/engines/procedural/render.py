"""The procedural picture, built in layers: labels, albedo, shading, composite."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from catalog.geometry import GRANULE_DIAMETER_MM
from gpu_worker.colour.convert import LINEAR16_TO_SRGB8
from gpu_worker.colour.segmentation import chip_interiors
from gpu_worker.contract import RenderSpec
from gpu_worker.imageio import THUMBNAIL_SIDE

from .camera import ViewGeometry, perspective_view, top_view
from .cells import granule_labels
from .chips import chip_light
from .colouring import granule_albedo
from .placement import blue_noise_sites
from .shading import granule_boundaries, soft_shadow

# Granule scale. Drawn to scale, a 500 mm tile on a 1024 px picture has 2.5 px fine
# granules and at 256 px they would be sub-pixel: a grey mush with no granules to see or
# measure. Product photos crop in for the same reason, so the texture is magnified until a
# fine granule averages FINE_MIN_PX output pixels, and never shrunk below true scale. The
# one zoom factor applies to every grade, so medium and coarse stay 1.7x and 2.3x as big
# as fine, as they are on the real tiles.
FINE_MIN_PX = 8.5
MIN_GRANULES = 400
# A thumbnail (any picture up to THUMBNAIL_SIDE) is a magnified swatch of the tile: about
# 15 chips across instead of 80. At 256 px a chip drawn at FINE_MIN_PX is a few pixels of
# colour between crevices, blurred by WebP's half-resolution colour, and a shopper (or
# analyze_colors) misreads dark chips as gaps; at twice the area each chip reads as itself.
SWATCH_FINE_MIN_PX = 12.0
SWATCH_MIN_GRANULES = 200
# Grades are sieve sizes: a chip passes the sieve on its middle dimension, and pressed into a
# tile it shows its largest face, about this much longer than the grade's size.
CHIP_SCALE = 1.2
# "high" quality draws at twice the size up to here; larger pictures have pixels enough.
SUPERSAMPLE_MAX_PX = 1024
# A chip belongs to the tile when this share of it lies inside the outline, and is drawn
# out to EDGE_OVERHANG granules past it.
EDGE_KEEP = 0.5
EDGE_OVERHANG = 0.35
SOFT_FOCUS_PX = 0.4  # Gaussian sigma of the lens blur, output pixels
FACE_SAMPLE = 200_000  # pixels enough for a colour's brightness percentile
_FINE_MEAN_MM = sum(GRANULE_DIAMETER_MM["fine"]) / 2.0

Stage = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Layers:
    """The separate layers of one render, for the engine and for tests."""

    image: NDArray[np.uint8]  # (size, size, 3) sRGB
    labels: NDArray[np.int32]  # granule id per pixel (working resolution), 0 off the tile
    component: NDArray[np.int64]  # recipe component index per granule id
    granule_lab: NDArray[np.float64]  # albedo Lab per granule id
    face: NDArray[np.bool_]  # the tile: top face and side walls, every pixel on a chip
    shading: NDArray[np.float32]  # light multiplier on the albedo
    supersample: int
    granule_px: float  # mean granule diameter in output pixels
    top: NDArray[np.bool_]  # top face of the tile (working resolution), whole chips


def _granule_range_px(spec: RenderSpec, view: ViewGeometry, ss: int) -> tuple[float, float]:
    lo_mm, hi_mm = GRANULE_DIAMETER_MM[spec.tile.granule_size]
    # Seen at a tilt, granules are squashed by cos(tilt) along the view: the minimum size
    # holds across that direction too, or the far half of the face is 3 px slivers that
    # neither look like granules nor can be measured.
    squash = 1.0
    if spec.params.view == "perspective":
        squash = math.cos(math.radians(spec.params.tilt))
    swatch = spec.params.size <= THUMBNAIL_SIDE
    fine_min_px, min_granules = (
        (SWATCH_FINE_MIN_PX, SWATCH_MIN_GRANULES) if swatch else (FINE_MIN_PX, MIN_GRANULES)
    )
    zoom = max(1.0, fine_min_px / (_FINE_MEAN_MM * squash * view.out_px_per_mm / ss))
    # A 1 % colour needs granules much smaller than 1 % of the tile for its share to come
    # out exact, so small pictures of small, coarse tiles shrink the zoom to keep at
    # least min_granules on the face.
    mean_mm = (lo_mm + hi_mm) / 2.0
    face_mm2 = float(spec.tile.width_mm) * float(spec.tile.height_mm)
    zoom = min(zoom, math.sqrt(face_mm2 / min_granules) / mean_mm)
    k = max(zoom, 1e-6) * view.local_px_per_mm * CHIP_SCALE
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


def _apply(h: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points (x, y) through a homography."""
    p = np.c_[pts, np.ones(len(pts))] @ h.T
    return p[:, :2] / p[:, 2:3]


def _fill(poly: NDArray[np.float64], size: int, *, antialias: bool) -> NDArray[np.uint8]:
    mask = np.zeros((size, size), np.uint8)
    shift = 4
    pts = np.rint(poly * (1 << shift)).astype(np.int32)
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    cv2.fillPoly(mask, [pts], 255, lineType=line, shift=shift)
    return mask


def _colour_levels(
    seen: NDArray[np.float32],
    faces: NDArray[np.bool_],
    labels: NDArray[np.int32],
    comp: NDArray[np.int64],
    lab: NDArray[np.float64],
) -> NDArray[np.float32]:
    """Per recipe colour: how bright its granule faces come out, relative to its palette.

    The palette was measured on photos as the median of the brightest 70 % of a colour's
    granule pixels (faces, not crevices): the 65th percentile. The same statistic is taken
    here over the pixels a measurement reads (`faces`, with the light as the picture shows
    it, `seen`) and each colour's albedo is divided by it, so that, measured the palette's
    way, every colour shows exactly its palette value, however few granules it has and
    however their facets happen to face the light.
    """
    k = int(comp.max()) + 1
    # Each chip's jitter, as a luminance ratio to its colour's mean: part of the statistic.
    y = ((np.clip(lab[:, 0], 0.0, 100.0) + 16.0) / 116.0) ** 3
    base = np.bincount(comp, weights=y, minlength=k) / np.maximum(np.bincount(comp, minlength=k), 1)
    rel = (y / np.maximum(base[comp], 1e-9)).astype(np.float32)
    pick = np.flatnonzero(faces.ravel())
    pick = pick[:: max(1, len(pick) // FACE_SAMPLE)]
    ids = labels.ravel()[pick]
    values = seen.ravel()[pick] * rel[ids]
    colour = comp[ids]
    levels = np.ones(k, np.float32)
    everyone = _q65(values)
    for c in range(k):
        mine = values[colour == c]
        levels[c] = _q65(mine) if mine.size >= 20 else everyone
    return levels


def _q65(values: NDArray[np.float32]) -> float:
    if values.size == 0:
        return 1.0
    i = int(0.65 * (values.size - 1))
    return max(float(np.partition(values, i)[i]), 1e-3)


def _ragged_top(
    labels: NDArray[np.int32], polygon: NDArray[np.bool_], n_ids: int, granule_px: float
) -> NDArray[np.bool_]:
    """The top face as whole chips: a real tile's edge is ragged at granule scale.

    A chip belongs to the tile when most of it lies inside the outline; it is then drawn
    whole, out to a band a third of a granule past the outline (pressed crumb does not
    stick out further), and chips mostly outside are left off, leaving notches.
    """
    total = np.bincount(labels.ravel(), minlength=n_ids)
    # Counted outside and subtracted: the outline holds most of the picture, so the pixels
    # outside are the fewer to gather.
    inside = total - np.bincount(labels[~polygon], minlength=n_ids)
    keep = inside >= EDGE_KEEP * np.maximum(total, 1)
    keep[0] = False
    r = max(1, round(EDGE_OVERHANG * granule_px))
    band = cv2.dilate(
        polygon.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)
    )
    return keep[labels] & (band > 0)


def render_layers(spec: RenderSpec, *, stage: Stage | None = None) -> Layers:
    """Render `spec`; `stage(name)` is called between the stages (for progress/cancel)."""
    note = stage or (lambda _name: None)
    # Supersampling only on request: the single sample is antialiased by the final soft
    # focus; "high" quality draws twice the size for crisper facets.
    ss = 2 if spec.params.quality == "high" and spec.params.size <= SUPERSAMPLE_MAX_PX else 1
    size = spec.params.size * ss
    palette = spec.palette_by_code()
    seeds = np.random.SeedSequence(int(spec.seed)).spawn(4)
    rng_sites, rng_warp, rng_colour, rng_chips = (np.random.default_rng(s) for s in seeds)

    view = _view(spec, size)
    lo_px, hi_px = _granule_range_px(spec, view, ss)
    mean_local = (lo_px + hi_px) / 2.0
    lh, lw = view.local_shape
    sites = blue_noise_sites(width=lw, height=lh, spacing=mean_local, rng=rng_sites)
    note("placement")
    local, local_sites = granule_labels(
        width=lw, height=lh, sites=sites, mean_diameter=mean_local, rng=rng_warp
    )
    n_ids = int(local.max()) + 1
    note("cells")

    out_scale = view.out_px_per_mm / view.local_px_per_mm
    mean_out = mean_local * out_scale
    polygon = _fill(view.outline_out, size, antialias=False) > 0
    labels = _warp_nearest(local, view.local_to_out, size, view.is_affine)
    top = _ragged_top(labels, polygon, n_ids, mean_out)
    centres = _apply(view.local_to_out, local_sites)
    side = np.zeros((size, size), bool)
    side_shade = np.ones((size, size), np.float32)
    if view.sides:
        side_mask = np.zeros((size, size), np.uint8)
        shift = 4
        for wall in view.sides:
            pts = np.rint(wall.quad * (1 << shift)).astype(np.int32)
            cv2.fillConvexPoly(side_mask, pts, 255, shift=shift)
            cv2.fillConvexPoly(side_shade, pts, float(wall.brightness), shift=shift)
        # Notches in the ragged top edge show the crumb below, as the walls do.
        side = ((side_mask > 0) | polygon) & ~top
        assert view.side_local_to_out is not None
        # Wall chips are other chips than the top's (ids shifted by n_ids): the same crumb
        # cut through, each with its own facets around its own centre on the wall.
        side_labels = _warp_nearest(local, view.side_local_to_out, size, False)
        labels = np.where(side, side_labels + np.int32(n_ids), labels)
        centres = np.vstack([centres, _apply(view.side_local_to_out, local_sites)])
    tile = top | side
    labels[~tile] = 0
    note("warp")

    edges = granule_boundaries(labels)
    edge_distance = cv2.distanceTransform((~edges).view(np.uint8), cv2.DIST_L2, 3).astype(
        np.float32, copy=False
    )
    light = chip_light(
        labels,
        centres=centres,
        edge_distance=edge_distance,
        mean_diameter=mean_out,
        rng=rng_chips,
    )
    # Shares are shares of the top face as a picture shows it, each chip's whole visible
    # area, crevices included. Side walls are not counted: the same granules seen again.
    areas = np.bincount(labels[top], minlength=n_ids).astype(np.int64)
    areas[0] = 0
    note("areas")
    comp, lab, linear = granule_albedo(
        areas=areas, recipe=spec.recipe.components, palette=palette, rng=rng_colour
    )
    seen = cv2.GaussianBlur(light, (0, 0), SOFT_FOCUS_PX * ss + 0.5 * (ss - 1)).astype(
        np.float32, copy=False
    )
    faces = top & chip_interiors(labels, reach=ss)
    linear /= _colour_levels(seen, faces, labels, comp, lab)[comp, None]
    note("albedo")

    if view.sides:  # side walls are cut through the same crumb, in the tile's own shade
        light = np.where(side, light * side_shade, light)
    if view.bottom_out is not None:
        ground = _fill(view.bottom_out, size, antialias=False)
        bg = soft_shadow(ground, offset=(0.004 * size, 0.012 * size), blur_px=0.012 * size)
    else:
        bg = soft_shadow(
            top.view(np.uint8) * np.uint8(255),
            offset=(0.012 * size, 0.018 * size),
            blur_px=0.014 * size,
        )
    note("shading")

    np.copyto(light, bg, where=~tile)
    # Label 0 (off the tile) is the white table, lit by `bg`.
    table = np.vstack([np.ones((1, 3), np.float32), linear[1:]])
    if view.sides:
        table = np.vstack([table, table])  # wall chips wear their top twins' colours
    # Channel by channel: OpenCV blurs and converts one channel several times faster than
    # three interleaved ones, to the same bits (the composite took 0.58x the time).
    # np.take converts any other index type on every call. chip_light converts the labels
    # too: one array shared by both would be held through chip_light, the render's peak.
    chips = labels.astype(np.intp)
    planes = []
    for channel in np.ascontiguousarray(table.T):
        plane = np.take(channel, chips, mode="clip")
        plane *= light
        # A camera's soft focus: it also antialiases every edge (facets, chips, the outline).
        plane = cv2.GaussianBlur(plane, (0, 0), SOFT_FOCUS_PX * ss)
        if ss > 1:
            plane = cv2.resize(plane, (spec.params.size,) * 2, interpolation=cv2.INTER_AREA)
        # cv2 saturates and rounds into uint16 in one pass (its stubs list no scalar operand).
        planes.append(cv2.multiply(plane, 65535.0, dtype=cv2.CV_16U))  # type: ignore[call-overload]
    del chips
    codes = cv2.merge(planes)
    image: NDArray[np.uint8] = LINEAR16_TO_SRGB8[codes]
    note("composite")
    if view.sides:
        labels = np.where(labels >= n_ids, labels - np.int32(n_ids), labels)
    return Layers(
        image=image,
        labels=labels,
        component=comp,
        granule_lab=lab,
        face=tile,
        shading=light,
        supersample=ss,
        granule_px=mean_out / ss,
        top=top,
    )
