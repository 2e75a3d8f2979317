import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.palette import hex_to_rgb
from gpu_worker.colour.convert import lab_to_srgb8, srgb8_to_lab


def test_white_and_black():
    np.testing.assert_allclose(srgb8_to_lab([255, 255, 255]), [100.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(srgb8_to_lab([0, 0, 0]), [0.0, 0.0, 0.0], atol=1e-6)


def test_palette_hex_matches_lab(palette):
    # palette.json's hex is its Lab converted to sRGB: the round trip holds to 1 step.
    for c in palette:
        back = lab_to_srgb8(c.lab)
        assert np.abs(back.astype(int) - np.array(c.rgb)).max() <= 1, c.code


@settings(max_examples=60, deadline=None)
@given(st.tuples(*(st.integers(0, 255) for _ in range(3))))
def test_srgb_lab_round_trip(rgb):
    assert tuple(lab_to_srgb8(srgb8_to_lab(rgb))) == rgb


def test_hex_to_rgb():
    assert hex_to_rgb("#D05042") == (208, 80, 66)
