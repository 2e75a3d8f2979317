"""Side walls: the dim band above a tile's lower outline, found by depth."""

import numpy as np

from gpu_worker.colour.walls import depth_above_outline, walls_band


def test_depth_counts_rows_down_to_the_outline():
    interior = np.zeros((6, 3), bool)
    interior[1:5, 1] = True  # a column of four
    interior[0:6, 2] = True  # a column to the picture's bottom edge
    depth = depth_above_outline(interior)
    assert depth[1:5, 1].tolist() == [4, 3, 2, 1]
    assert depth[:, 2].tolist() == [6, 5, 4, 3, 2, 1]
    assert not depth[~interior].any()


def _tile(wall_px: int, *, seed: int = 0, wall_light: float = 0.3):
    """A 200 x 160 px tile with grainy granule light, its lowest `wall_px` rows in shade."""
    rng = np.random.default_rng(seed)
    interior = np.zeros((240, 240), bool)
    interior[20:180, 20:220] = True
    light = np.exp(rng.normal(0.0, 0.3, interior.shape)).astype(np.float32)
    if wall_px:
        light[180 - wall_px : 180] *= np.float32(wall_light)
    return interior, np.log(light).astype(np.float32)


def test_a_shaded_band_along_the_lower_outline_is_wall():
    interior, log_light = _tile(12)
    band = walls_band(log_luma=log_light, implied=log_light, interior=interior)
    rows = np.flatnonzero(band.any(axis=1))
    # Every column, from the outline up to about the wall's height (the smoothing of the
    # depth profile may take a row more or less).
    assert band[179, 20:220].all()
    assert 166 <= rows[0] <= 170, rows[0]


def test_a_top_view_has_no_wall():
    for seed in range(5):
        interior, log_light = _tile(0, seed=seed)
        assert not walls_band(log_luma=log_light, implied=log_light, interior=interior).any()


def test_dark_granules_along_one_side_of_the_outline_are_no_wall():
    # The picture's luminance dips where dark granules crowd the left half of a top view's
    # edge; their implied light (colour for colour) does not, and the right half is lit.
    interior, log_light = _tile(0)
    luma = log_light.copy()
    luma[168:180, 20:120] -= np.float32(2.5)  # a row of BLACK among BEIGE
    assert not walls_band(log_luma=luma, implied=log_light, interior=interior).any()


def test_a_wall_of_dim_granules_read_as_a_darker_colour_is_still_found():
    # Dim GRAY on the wall passes for BLACK, so its implied light is not dim; the picture's
    # luminance is, along the whole outline.
    interior, log_light = _tile(0)
    luma = log_light.copy()
    luma[168:180] += np.float32(np.log(0.3))
    band = walls_band(log_luma=luma, implied=log_light, interior=interior)
    assert band[170:180, 20:220].all()
    assert not band[:160].any()
