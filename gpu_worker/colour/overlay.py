"""Pictures of a measurement, for staff: where the tile was found, and what each granule was
counted as. A share that looks wrong is explained by them at a glance (a shadow read as
BLACK, a wall counted as top face, a background fold taken for tile).

Both come from the `ColourMap` the shares were counted on, so they show exactly what was
counted. The colour map is PNG: its flat palette colours stay exact, so a page can pick one
colour's pixels out of it by value (the admin highlights a colour that way). The tile mask
is mostly photo, so WebP: a tenth of the PNG's bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from catalog.palette import PaletteColor

from .measure import ColourMap

MAX_SIDE = 1024  # px: the long side of both pictures (the admin shows them at ~480)
OUTLINE_RGB = (0, 229, 255)  # the tile's outline: a cyan no stock colour comes near
# Outside the tile the photo fades this far toward grey: still there to see what was
# left out, clearly not part of the measurement.
BACKGROUND_FADE = 0.7
BACKGROUND_GREY = 96
# In the colour map: not tile, and tile that was not counted (side walls, an unreadable rim).
MAP_BACKGROUND_RGB = (255, 255, 255)
MAP_UNCOUNTED_RGB = (190, 190, 190)
HATCH_PERIOD_PX = 12  # diagonal stripes mark tile that was left out of the count
MASK_WEBP_QUALITY = 85


def _fit(shape: tuple[int, ...]) -> tuple[int, int]:
    h, w = shape[:2]
    scale = min(1.0, MAX_SIDE / max(h, w))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _hatch(shape: tuple[int, int]) -> NDArray[np.bool_]:
    yy, xx = np.indices(shape)
    stripes: NDArray[np.bool_] = (xx + yy) % HATCH_PERIOD_PX < HATCH_PERIOD_PX // 4
    return stripes


def _outlined(picture: NDArray[np.uint8], tile: NDArray[np.bool_]) -> NDArray[np.uint8]:
    contours, _ = cv2.findContours(
        tile.view(np.uint8).copy(), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    picture = np.ascontiguousarray(picture)
    cv2.drawContours(picture, contours, -1, OUTLINE_RGB, max(2, max(tile.shape) // 400))
    return picture


def _encoded(rgb: NDArray[np.uint8], ext: str, params: Sequence[int] = ()) -> bytes:
    ok, encoded = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), list(params))
    if not ok:
        raise ValueError(f"the picture could not be encoded as {ext}")
    return encoded.tobytes()


def tile_mask_draw(*, image: NDArray[np.uint8], colour_map: ColourMap) -> bytes:
    """WebP: the photo with the tile outlined, the background faded and the tile that was not
    counted hatched."""
    if image.shape[:2] != colour_map.tile.shape:
        raise ValueError(f"the image is {image.shape[:2]}, the map {colour_map.tile.shape}")
    size = _fit(image.shape)
    photo = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    tile = cv2.resize(colour_map.tile.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    counted = cv2.resize(colour_map.colour, size, interpolation=cv2.INTER_NEAREST) >= 0
    out = photo.copy()
    out[~tile] = out[~tile] * (1 - BACKGROUND_FADE) + BACKGROUND_GREY * BACKGROUND_FADE
    left_out = tile & ~counted & _hatch(tile.shape)
    out[left_out] = out[left_out] * 0.4 + np.array(MAP_UNCOUNTED_RGB) * 0.6
    picture = _outlined(np.clip(out, 0, 255).astype(np.uint8), tile)
    return _encoded(picture, ".webp", (cv2.IMWRITE_WEBP_QUALITY, MASK_WEBP_QUALITY))


def colour_map_draw(*, colour_map: ColourMap, palette: Sequence[PaletteColor]) -> bytes:
    """PNG: every counted pixel in the flat palette colour it was counted as."""
    by_code = {c.code: c.rgb for c in palette}
    size = _fit(colour_map.colour.shape)
    colour = cv2.resize(colour_map.colour, size, interpolation=cv2.INTER_NEAREST)
    tile = cv2.resize(colour_map.tile.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    # Row k of the table is colour k; the last row is for -1 (not counted).
    table = np.array(
        [by_code.get(code, MAP_UNCOUNTED_RGB) for code in colour_map.codes] + [MAP_UNCOUNTED_RGB],
        dtype=np.uint8,
    )
    picture = table[colour]
    uncounted = colour < 0
    picture[uncounted & ~tile] = MAP_BACKGROUND_RGB
    picture[uncounted & tile & ~_hatch(tile.shape)] = MAP_BACKGROUND_RGB
    # Outlined, as WHITE granules would otherwise melt into the background.
    return _encoded(_outlined(picture, tile), ".png")


def pictures_draw(
    *, image: NDArray[np.uint8], colour_map: ColourMap, palette: Sequence[PaletteColor]
) -> dict[str, tuple[bytes, str]]:
    """Both pictures of a measurement: {"tile_mask": (WebP, "webp"), "colour_map": (PNG, "png")}."""
    return {
        "tile_mask": (tile_mask_draw(image=image, colour_map=colour_map), "webp"),
        "colour_map": (colour_map_draw(colour_map=colour_map, palette=palette), "png"),
    }
