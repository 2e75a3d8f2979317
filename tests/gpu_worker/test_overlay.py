"""The pictures of a measurement (`overlay`): they show exactly what the shares counted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _gw_support import PALETTE, make_spec

from catalog.recipes import Component
from gpu_worker.colour.identify import colours_identify
from gpu_worker.colour.measure import ColourMap, fidelity_measure, fidelity_measure_mapped
from gpu_worker.colour.overlay import (
    MAP_BACKGROUND_RGB,
    MAX_SIDE,
    OUTLINE_RGB,
    colour_map_draw,
    tile_mask_draw,
)
from gpu_worker.engines.procedural.render import render_layers

RGB = {c.code: c.rgb for c in PALETTE}


def _decode(data: bytes) -> np.ndarray:
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    return cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)


def _on_paper(image: np.ndarray, margin: int = 80) -> np.ndarray:
    """The render on a wide white sheet: background the tile mask must leave out."""
    return cv2.copyMakeBorder(
        image, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(250, 250, 250)
    )


@pytest.fixture(scope="module")
def mix() -> np.ndarray:
    return _on_paper(render_layers(make_spec({"RED": 60, "SKYBLUE": 40}, size=512, seed=2)).image)


def test_the_map_holds_what_the_shares_counted(mix: np.ndarray) -> None:
    recipe = [Component("RED", 60), Component("SKYBLUE", 40)]
    fidelity, colour_map = fidelity_measure_mapped(image=mix, palette=PALETTE, recipe=recipe)
    assert fidelity == fidelity_measure(image=mix, palette=PALETTE, recipe=recipe)
    assert colour_map.codes == ("RED", "SKYBLUE")
    assert colour_map.colour.shape == colour_map.tile.shape == mix.shape[:2]
    counted = colour_map.colour >= 0
    assert counted.any() and not (counted & ~colour_map.tile).any()  # only tile is counted
    for index, code in enumerate(colour_map.codes):
        share = 100.0 * (colour_map.colour == index).sum() / counted.sum()
        assert share == pytest.approx(fidelity.shares[code], abs=0.06)
    assert not colour_map.tile[:40].any() and not colour_map.tile[:, :40].any()


def test_the_colour_map_paints_each_counted_pixel_its_stock_colour(mix: np.ndarray) -> None:
    found = colours_identify(image=mix, palette=PALETTE)
    assert found.colour_map is not None
    picture = _decode(colour_map_draw(colour_map=found.colour_map, palette=PALETTE))
    assert picture.shape[:2] == mix.shape[:2]  # under MAX_SIDE: not scaled
    pixels = picture.reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    seen = {tuple(int(v) for v in c): int(n) for c, n in zip(colours, counts, strict=True)}
    stock = {RGB[code] for code in found.shares}
    # Nothing but the found colours, the background, the outline and the hatched left-out.
    assert stock <= set(seen)
    assert set(seen) - stock <= {MAP_BACKGROUND_RGB, OUTLINE_RGB, (190, 190, 190)}
    painted = sum(seen[rgb] for rgb in stock)
    for code, percent in found.shares.items():
        assert 100.0 * seen[RGB[code]] / painted == pytest.approx(percent, abs=1.0)
    assert tuple(picture[5, 5]) == MAP_BACKGROUND_RGB


def test_the_tile_mask_outlines_the_tile_and_fades_the_rest(mix: np.ndarray) -> None:
    found = colours_identify(image=mix, palette=PALETTE)
    assert found.colour_map is not None
    picture = _decode(tile_mask_draw(image=mix, colour_map=found.colour_map))
    assert picture.shape[:2] == mix.shape[:2]
    # The white sheet comes out grey: visibly not measured.
    assert 120 < picture[10:30, 10:30].mean() < 200
    inside = picture[mix.shape[0] // 2 - 20 : mix.shape[0] // 2 + 20, mix.shape[1] // 2]
    original = mix[mix.shape[0] // 2 - 20 : mix.shape[0] // 2 + 20, mix.shape[1] // 2]
    assert np.abs(inside.astype(int) - original).mean() < 12  # the tile itself as photographed
    cyan = np.all(np.abs(picture.astype(int) - OUTLINE_RGB) < 40, axis=2)
    rows = np.flatnonzero(cyan.any(axis=1))
    tile_rows = np.flatnonzero(found.colour_map.tile.any(axis=1))
    assert tile_rows.min() > 80 and tile_rows.max() < mix.shape[0] - 80  # not the paper
    assert abs(rows.min() - tile_rows.min()) <= 3 and abs(rows.max() - tile_rows.max()) <= 3


def test_large_pictures_are_drawn_at_most_max_side() -> None:
    tile = np.zeros((3000, 1500), bool)
    tile[100:2900, 100:1400] = True
    colour = np.where(tile, 0, -1).astype(np.int16)
    colour_map = ColourMap(tile=tile, colour=colour, codes=("RED",))
    picture = _decode(colour_map_draw(colour_map=colour_map, palette=PALETTE))
    assert picture.shape[:2] == (MAX_SIDE, MAX_SIDE // 2)
    image = np.full((3000, 1500, 3), 200, np.uint8)
    assert _decode(tile_mask_draw(image=image, colour_map=colour_map)).shape[:2] == (1024, 512)
    with pytest.raises(ValueError, match="the map"):
        tile_mask_draw(image=image[:10], colour_map=colour_map)


def test_a_picture_without_a_tile_still_has_its_pictures() -> None:
    found = colours_identify(image=np.full((200, 200, 3), 255, np.uint8), palette=PALETTE)
    assert found.colours == () and found.colour_map is not None
    picture = _decode(colour_map_draw(colour_map=found.colour_map, palette=PALETTE))
    assert (picture == MAP_BACKGROUND_RGB).all()
