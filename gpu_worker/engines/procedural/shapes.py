"""Tile outlines in millimetres: square, brick and puzzle (interlocking tabs).

Outlines are closed polygons centred on the origin, x to the right and y down (picture
axes), traversed clockwise on screen. Curves are sampled densely enough for any output
size up to 2048 px.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from catalog.geometry import TileGeometry

# Puzzle tabs: one slot per ~125 mm of edge, tab depth a fraction of the short side. These
# match the look of the shop's 500 mm puzzle tiles (four tabs per edge, two out, two in).
_SLOT_MM = 125.0
_TAB_DEPTH = 0.06
_ARC_POINTS = 24


def _tab_edge(length: float, outs: list[bool], depth: float) -> NDArray[np.float64]:
    """Points (u along the edge, v outwards) for one edge with a tab in every slot."""
    slots = len(outs)
    radius = 0.45 * depth
    neck = 0.55 * radius
    rise = math.sqrt(radius**2 - neck**2)
    beta = math.atan2(rise, neck)
    pts: list[tuple[float, float]] = [(0.0, 0.0)]
    for j, out in enumerate(outs):
        uc = (j + 0.5) * length / slots
        sign = 1.0 if out else -1.0
        vc = depth - radius
        pts.append((uc - neck, 0.0))
        for a in np.linspace(math.pi + beta, -beta, _ARC_POINTS):
            pts.append((uc + radius * math.cos(a), sign * (vc + radius * math.sin(a))))
        pts.append((uc + neck, 0.0))
    return np.array(pts)


def tile_outline_mm(tile: TileGeometry) -> NDArray[np.float64]:
    """The tile's outline as an (N, 2) array of (x, y) millimetres."""
    w, h = float(tile.width_mm), float(tile.height_mm)
    if tile.shape in ("square", "brick"):
        return np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    if tile.shape != "puzzle":
        raise ValueError(f"unknown tile shape: {tile.shape!r}")
    depth = _TAB_DEPTH * min(w, h)
    nx = max(2, round(w / _SLOT_MM))
    ny = max(2, round(h / _SLOT_MM))
    # Opposite edges are complementary (a tab out faces a tab in at the same place), so
    # identical tiles interlock.
    top_out = [j % 2 == 0 for j in range(nx)]
    right_out = [j % 2 == 1 for j in range(ny)]
    bottom_out = [not o for o in top_out]
    left_out = [not o for o in right_out]
    parts = []
    e = _tab_edge(w, top_out, depth)
    parts.append(np.stack([-w / 2 + e[:, 0], -h / 2 - e[:, 1]], axis=1))
    e = _tab_edge(h, right_out, depth)
    parts.append(np.stack([w / 2 + e[:, 1], -h / 2 + e[:, 0]], axis=1))
    # Bottom and left run backwards along the picture axes; their slot patterns are given
    # in picture order, so reverse them for the traversal.
    e = _tab_edge(w, bottom_out[::-1], depth)
    parts.append(np.stack([w / 2 - e[:, 0], h / 2 + e[:, 1]], axis=1))
    e = _tab_edge(h, left_out[::-1], depth)
    parts.append(np.stack([-w / 2 - e[:, 1], h / 2 - e[:, 0]], axis=1))
    return np.concatenate(parts)
