"""The photo benchmark's scoring and its stand-ins for other cameras (`--perturb`)."""

from __future__ import annotations

import numpy as np
import pytest
from photo_identify import PERTURBATIONS, _relit, batch_relabel, recipe_of_name, score


def test_recipes_are_read_from_the_file_names() -> None:
    assert recipe_of_name("REDp30_BLUEp70_top") == {"RED": 30.0, "BLUE": 70.0}
    assert recipe_of_name("RED_top") == {"RED": 100.0}


def test_a_set_is_right_only_with_every_colour_from_3_percent() -> None:
    recipe = {"RED": 95.0, "BLUE": 5.0}
    right = score(recipe, {"RED": 94.0, "BLUE": 4.0, "PINK": 2.0})
    assert right.set_right and right.max_error_pp == 2.0
    wrong = score(recipe, {"RED": 60.0, "PINK": 35.0, "BLUE": 5.0})
    assert not wrong.set_right and wrong.max_error_pp == 35.0


def test_only_a_batch_the_measurement_puts_off_the_palette_is_excused() -> None:
    recipe = {"RED": 50.0, "DKGREEN": 50.0}
    found = {"RED": 50.0, "GRNAPL": 50.0}
    assert batch_relabel(recipe, found, {"DKGREEN": 18.0}) == {"RED": 50.0, "DKGREEN": 50.0}
    assert batch_relabel(recipe, found, {"DKGREEN": 4.0}) == found


def test_light_is_scaled_in_linear_light() -> None:
    ramp = np.arange(256, dtype=np.uint8).repeat(3).reshape(16, 16, 3)
    assert np.array_equal(_relit(ramp, (1.0, 1.0, 1.0)), ramp)
    brighter = _relit(ramp, (2.0, 2.0, 2.0)).astype(int)
    assert (brighter >= ramp).all() and brighter[8, 0, 0] > ramp[8, 0, 0] + 20
    # Doubling the light is one stop: mid-grey (sRGB 118, 18 % reflectance) to about 161.
    grey = np.full((2, 2, 3), 118, np.uint8)
    assert int(_relit(grey, (2.0, 2.0, 2.0))[0, 0, 0]) == pytest.approx(161, abs=2)


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_each_perturbation_gives_an_rgb_picture(name: str) -> None:
    image = np.random.default_rng(0).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    out = PERTURBATIONS[name](image)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.flags["C_CONTIGUOUS"]
