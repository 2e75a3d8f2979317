"""Analyzer round trips on the renderer's own pictures, clean and photo-like."""

import cv2
import numpy as np
import pytest
from _gw_support import PALETTE, make_spec

from gpu_worker.colour.analyzer import Fidelity, fidelity_measure
from gpu_worker.engines.procedural.render import render_layers

# Recipes of clearly different colours. Look-alike pairs (BLACK/DKGRAY, GRAY/LTGRAY,
# WHITE/PEARL) differ by less than the granule-to-granule lightness spread and cannot be
# told apart granule by granule.
CASES = [
    ({"RED": 60, "BLACK": 40}, {}),
    (
        {"GRNAPL": 50, "YELLOW": 30, "WHITE": 20},
        {"granule": "coarse", "angle": 30, "shape": "puzzle"},
    ),
    ({"LILAC": 34, "SAND": 33, "EMERALD": 33}, {"size": 1024, "angle": 45}),
    ({"ORANGE": 10, "BLACK": 90}, {"size": 256}),
    ({"BLUE": 70, "WHITE": 30}, {"granule": "fine"}),
    ({"BLUE": 70, "WHITE": 30}, {"view": "perspective", "shape": "brick", "granule": "medium"}),
    (
        {"BEIGE": 25, "TERCOT": 25, "SKYBLUE": 25, "DKGREEN": 25},
        {"view": "perspective", "angle": 120, "shape": "puzzle"},
    ),
]


def _render(recipe, kw):
    kw = {"size": 512, **kw}
    if kw.get("shape") == "brick":
        kw.update(width_mm=200.0, height_mm=100.0)
    spec = make_spec(recipe, **kw)
    return spec, render_layers(spec).image


def photo_like(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """Blur, uneven light, deeper shadows, sensor noise, JPEG q=70."""
    rng = np.random.default_rng(seed)
    h, w, _ = img.shape
    x = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.8)
    yy, xx = np.mgrid[0:h, 0:w]
    light = 0.9 + 0.15 * (xx / w) - 0.08 * (yy / h)
    x = x * light[..., None]
    dark = x.mean(axis=2, keepdims=True) < 60
    x = np.where(dark, x * 0.8, x) + rng.normal(0, 3, x.shape)
    x = np.clip(x, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", x[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1].copy()


def test_fidelity_dict_keys():
    spec, img = _render({"RED": 100}, {"size": 256})
    f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe)
    assert isinstance(f, Fidelity)
    assert set(f.to_dict()) == {"shares", "max_share_error_pp", "delta_e00", "tile_fraction"}
    assert f.shares == {"RED": 100.0} and f.max_share_error_pp == 0.0
    assert 0.4 < f.tile_fraction < 0.9


def test_rejects_bad_image():
    with pytest.raises(ValueError, match="uint8"):
        fidelity_measure(image=np.zeros((4, 4), np.uint8), palette=PALETTE)


def test_blank_picture_has_no_tile():
    f = fidelity_measure(image=np.full((300, 300, 3), 255, np.uint8), palette=PALETTE)
    assert f.tile_fraction == 0.0 and f.shares == {}


@pytest.mark.parametrize(("recipe", "kw"), CASES[:4])
def test_round_trip_clean(recipe, kw):
    spec, img = _render(recipe, kw)
    f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe)
    assert f.max_share_error_pp <= 3.0, f
    assert max(f.delta_e00.values()) <= 2.0, f


@pytest.mark.xfail(reason="known gap: bright+dark mixes and perspective side walls", strict=False)
@pytest.mark.parametrize(("recipe", "kw"), CASES)
def test_round_trip_target_1pp(recipe, kw):
    spec, img = _render(recipe, kw)
    f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe)
    assert f.max_share_error_pp <= 1.0, f
    assert max(f.delta_e00.values()) <= 2.0, f


def test_round_trip_photo_like():
    errors = []
    for recipe, kw in CASES[:3]:
        spec, img = _render(recipe, kw)
        f = fidelity_measure(image=photo_like(img), palette=PALETTE, recipe=spec.recipe)
        errors.append(f.max_share_error_pp)
    # Each stays usable; the median is the real-photo target's statistic.
    assert max(errors) <= 10.0, errors
    assert float(np.median(errors)) <= 5.0, errors


def test_without_recipe_finds_the_colours():
    _, img = _render({"RED": 60, "EMERALD": 40}, {})
    f = fidelity_measure(image=img, palette=PALETTE)
    assert f.max_share_error_pp is None
    assert {"RED", "EMERALD"} <= set(f.shares)
    assert f.shares["RED"] + f.shares["EMERALD"] >= 90.0
