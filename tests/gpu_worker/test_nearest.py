"""From a measured mix to recipes (issue 13, item 2): distances in share points and in
appearance, the nearest whole-percent mix, the nearest catalog recipes."""

from __future__ import annotations

import pytest
from _gw_support import PALETTE

from gpu_worker.colour.nearest import (
    appearance_distance,
    recipes_nearest,
    share_distance,
    stock_mix_nearest,
    whole_percents,
)

BY_CODE = {colour.code: colour for colour in PALETTE}


def test_share_distance_is_the_area_that_differs():
    assert share_distance({"RED": 60, "BLACK": 40}, {"BLACK": 40, "RED": 60}) == 0
    assert share_distance({"RED": 100}, {"BLUE": 100}) == 100
    assert share_distance({"RED": 60, "BLACK": 40}, {"RED": 50, "BLACK": 50}) == 10
    assert share_distance({"RED": 60, "BLACK": 40}, {"RED": 60, "DKGRAY": 40}) == 40


def test_appearance_sees_look_alikes_as_near_and_different_colours_as_far():
    same = appearance_distance({"RED": 60, "BLACK": 40}, {"RED": 60, "BLACK": 40}, BY_CODE)
    alike = appearance_distance({"BLACK": 100}, {"DKGRAY": 100}, BY_CODE)
    apart = appearance_distance({"BLACK": 100}, {"YELLOW": 100}, BY_CODE)
    assert same == pytest.approx(0, abs=1e-6) and alike < apart


@pytest.mark.parametrize(
    "measured",
    [
        {"RED": 33.4, "BLUE": 33.3, "WHITE": 33.3},
        {"RED": 72.6, "BLUE": 27.4},
        {"YELLOW": 98.9, "RED": 0.6, "BLUE": 0.5},  # under 1 %: not a recipe colour
        {"RED": 49.5, "BLUE": 49.5, "WHITE": 1.0},
    ],
)
def test_the_whole_percent_mix_sums_to_100_with_every_colour_at_least_1(measured):
    mix = dict(whole_percents(measured))
    assert sum(mix.values()) == 100 and min(mix.values()) >= 1
    assert set(mix) == {code for code, share in measured.items() if share >= 1.0}
    assert all(abs(mix[code] - measured[code]) <= 1.5 for code in mix)


def test_the_nearest_recipes_come_nearest_first_with_both_distances():
    candidates = [
        ("1", "Autumn", [("RED", 60), ("BLACK", 40)]),
        ("2", "Sea", [("BLUE", 70), ("WHITE", 30)]),
        ("3", "Dusk", [("RED", 50), ("BLACK", 50)]),
        ("4", "Retired", [("NOPE", 100)]),
    ]
    found = recipes_nearest(
        measured={"RED": 58.0, "BLACK": 42.0}, candidates=candidates, palette=PALETTE
    )
    assert [m.name for m in found] == ["Autumn", "Dusk", "Sea"]
    assert found[0].distance_pp == 2.0 and found[0].delta_e00 < found[1].delta_e00
    assert found[2].distance_pp == 100.0
    stock = stock_mix_nearest(measured={"RED": 58.4, "BLACK": 41.6}, palette=PALETTE)
    assert stock.name == "RED:58,BLACK:42" and stock.distance_pp == pytest.approx(0.4)
