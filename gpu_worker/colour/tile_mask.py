"""Where the tile is in a product photo: textured granules vs smooth white and shadow."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

# A granule surface has a local L* standard deviation of 8-25 (lit faces against dark
# gaps); paper-white backgrounds, soft shadows and JPEG noise stay under 2-3.
TEXTURE_STD = 4.0


def _window(shape: tuple[int, int]) -> int:
    # About two fine granules at the renderer's scale and at 1280 px photo scale.
    return max(5, (min(shape) // 110) | 1)


def tile_region(lightness: NDArray[np.float32]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(tile, interior): the tile's silhouette, and the same eroded clear of its rim.

    The rim (outline, bevel, the blur of the texture window) is left out of `interior`
    because its pixels mix tile, edge shading and background.
    """
    h, w = lightness.shape
    win = _window((h, w))
    mean = cv2.blur(lightness, (win, win))
    sq = cv2.blur(lightness * lightness, (win, win))
    std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
    textured = (std > TEXTURE_STD).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (win, win))
    closed = cv2.morphologyEx(textured, cv2.MORPH_CLOSE, k)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if n <= 1:
        empty = np.zeros((h, w), bool)
        return empty, empty
    areas = stats[1:, cv2.CC_STAT_AREA]
    # The tile and any big pieces of it (a puzzle tab cut off by the texture window);
    # specks on the background are dropped.
    keep = np.flatnonzero(areas >= 0.05 * areas.max()) + 1
    solid = np.isin(lab, keep).astype(np.uint8)
    # Fill holes (e.g. a patch of white granules read as smooth): flood the background
    # from the border; whatever it cannot reach is tile.
    flood = solid.copy()
    pad = np.zeros((h + 2, w + 2), np.uint8)
    for y, x in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)):
        if flood[y, x] == 0:
            cv2.floodFill(flood, pad, (x, y), 2)
    solid = flood != 2
    # The texture window bleeds half a window past the true edge.
    half = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (win // 2 * 2 + 1, win // 2 * 2 + 1))
    tile = cv2.erode(solid.view(np.uint8), half) > 0
    deep = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * win + 1, 2 * win + 1))
    interior = cv2.erode(solid.view(np.uint8), deep) > 0
    return tile, interior
