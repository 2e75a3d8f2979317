from dataclasses import replace

import numpy as np
import pytest
from _gw_support import PALETTE, make_spec, random_specs
from hypothesis import given, settings

from catalog.geometry import TileGeometry
from gpu_worker.colour.measure import fidelity_measure
from gpu_worker.colour.segmentation import LIN32
from gpu_worker.engines import RenderCanceled, UnknownEngine, engine_get, engine_names
from gpu_worker.engines.procedural.render import _fill, _view, render_layers
from gpu_worker.engines.procedural.shapes import tile_outline_mm
from gpu_worker.imageio import image_decode, png_encode, thumbnail_webp

CODES = [c.code for c in PALETTE]


def albedo_shares(layers, k, mask=None):
    """Percent of each recipe colour over the top face (each granule's cell, gaps included)."""
    mask = layers.top if mask is None else mask
    comp = layers.component[layers.labels]
    return np.bincount(comp[mask], minlength=k) / mask.sum() * 100


@settings(max_examples=25, deadline=None)
@given(random_specs(sizes=(256,)))
def test_albedo_shares_exact(spec):
    percents = [c.percent for c in spec.recipe.components]  # in the recipe's (code) order
    layers = render_layers(spec)
    got = albedo_shares(layers, len(percents))
    assert np.abs(got - percents).max() <= 0.5


def test_albedo_mean_stays_on_palette():
    spec = make_spec({"RED": 60, "BLACK": 40}, size=512)
    layers = render_layers(spec)
    areas = np.bincount(layers.labels[layers.face], minlength=len(layers.component))
    for i, code in enumerate(c.code for c in spec.recipe.components):
        sel = layers.component == i
        mean = np.average(layers.granule_lab[sel], axis=0, weights=areas[sel] + 1e-9)
        np.testing.assert_allclose(mean, spec.palette_by_code()[code].lab, atol=0.05)


@pytest.mark.parametrize("view", ["top", "perspective"])
def test_same_spec_same_png_bytes(view):
    spec = make_spec({"GRNAPL": 50, "YELLOW": 50}, view=view, angle=33, seed=11, shape="puzzle")
    a = png_encode(render_layers(spec).image)
    b = png_encode(render_layers(spec).image)
    assert a == b
    other = png_encode(render_layers(make_spec({"GRNAPL": 50, "YELLOW": 50}, seed=12)).image)
    assert other != a


@pytest.mark.parametrize("size", [256, 600, 2048])
def test_sizes_and_white_surround(size):
    spec = make_spec({"BLUE": 100}, size=size, granule="coarse")
    img = render_layers(spec).image
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    assert (img[:3, :3] == 255).all()  # the margin is white
    assert img[size // 2, size // 2].max() < 250  # the tile is in the middle


def test_rotation_keeps_albedo_pure():
    # Nearest-neighbour labels: every tile pixel's albedo is one granule's colour.
    spec = make_spec({"RED": 50, "WHITE": 50}, angle=27)
    layers = render_layers(spec)
    on_tile = layers.labels > 0
    assert set(np.unique(layers.labels[on_tile])) <= set(range(len(layers.component)))


def test_puzzle_outline_interlocks():
    tile = TileGeometry(
        shape="puzzle", width_mm=500, height_mm=500, thickness_mm=30, granule_size="fine"
    )
    pts = tile_outline_mm(tile)
    # Tabs stick out beyond the 500 mm square on every side, and cut into it too.
    assert pts[:, 0].max() > 250 and pts[:, 0].min() < -250
    assert pts[:, 1].max() > 250 and pts[:, 1].min() < -250
    top = pts[np.abs(pts[:, 1] + 250) > 1e-6]
    assert (top[:, 1] > -250).any()


def test_engine_progress_cancel_and_registry():
    assert "procedural" in engine_names()
    with pytest.raises(UnknownEngine):
        engine_get("nope")
    engine = engine_get("procedural")
    seen: list[int] = []
    spec = make_spec({"RED": 60, "BLACK": 40})
    result = engine.render(spec, progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)
    assert max(np.diff(seen)) <= 20
    assert result.engine == "procedural" and result.model_revision is None
    assert {"inference", "postprocess"} <= set(result.timings)
    assert set(result.fidelity.to_dict()) == {
        "shares",
        "max_share_error_pp",
        "delta_e00",
        "appearance_delta_e00",
        "tile_fraction",
    }
    calls = iter(range(100))
    with pytest.raises(RenderCanceled):
        engine.render(spec, should_stop=lambda: next(calls) >= 2)


def test_the_tilt_parameter_turns_the_camera():
    steep = render_layers(make_spec({"RED": 100}, view="perspective", tilt=20.0))
    flat = render_layers(make_spec({"RED": 100}, view="perspective", tilt=70.0))
    # Looked at from lower down, the top face covers less of the picture.
    assert flat.top.mean() < steep.top.mean()


def _luminance(image: np.ndarray) -> np.ndarray:
    return LIN32[image] @ np.array([0.2126, 0.7152, 0.0722], np.float32)


@pytest.mark.parametrize("granule", ["fine", "coarse"])
def test_no_drawn_outlines(granule):
    # 1.x drew every granule with a near-black outline over 24-39 % of the top face. Now
    # only crevices are dark: few pixels of a single-colour face are far under its lit level.
    layers = render_layers(make_spec({"RED": 100}, size=512, granule=granule))
    y = _luminance(layers.image)[layers.top]
    lit = np.quantile(y, 0.65)
    assert (y < 0.3 * lit).mean() < 0.08
    # ... and the facets are there: light varies across the face, not one flat cell colour.
    assert np.std(y / lit) > 0.1


def test_the_tile_edge_is_ragged_at_granule_scale():
    spec = make_spec({"RED": 100}, size=512)
    layers = render_layers(spec)
    outline = _fill(_view(spec, 512).outline_out, 512, antialias=False) > 0
    # Whole chips stand proud of the outline and leave notches in it.
    assert (layers.top & ~outline).sum() > 500
    assert (outline & ~layers.top).sum() > 50
    # No chip is cut by the outline: the top face is made of whole chips.
    inside = np.bincount(layers.labels[layers.top], minlength=len(layers.component))
    total = np.bincount(layers.labels.ravel(), minlength=len(layers.component))
    cut = (inside > 0) & (inside < total)
    assert not cut.any()


def test_edges_are_antialiased():
    img = render_layers(make_spec({"WHITE": 100}, size=512, angle=17)).image
    y = _luminance(img)
    # Along the silhouette, pixels step between paper and tile through in-between values.
    paper, tile = y[:5, :5].mean(), np.median(y[200:300, 200:300])
    between = (y > tile + 0.2 * (paper - tile)) & (y < paper - 0.2 * (paper - tile))
    assert between[100:400, 40:120].sum() > 50


def test_appearance_is_near_the_palette_mix():
    # The whole visible face, crevices and shading included, against the palette colour:
    # real single-colour photos read 1.6-5.0; the target is <= 4 (WHITE reads a little
    # over: its brightest facets clip at paper white, as in a photo).
    seen = []
    for code in ("RED", "WHITE", "YELLOW", "BLACK", "BLUE"):
        result = engine_get("procedural").render(make_spec({code: 100}, size=512))
        assert result.fidelity.appearance_delta_e00 is not None
        assert result.fidelity.appearance_delta_e00 <= 5.0, (code, result.fidelity)
        seen.append(result.fidelity.appearance_delta_e00)
    assert float(np.median(seen)) <= 4.0, seen


def test_the_thumbnail_is_drawn_at_its_own_size():
    engine = engine_get("procedural")
    spec = make_spec({"BLUE": 70, "RED": 30}, size=1024, granule="fine")
    result = engine.render(spec)
    assert result.thumbnail is not None and result.thumbnail.shape == (256, 256, 3)
    # A swatch of big chips: the stored WebP alone tells the recipe.
    small = replace(spec, params=replace(spec.params, size=256))
    assert np.array_equal(result.thumbnail, render_layers(small).image)
    webp = image_decode(thumbnail_webp(result.thumbnail))
    f = fidelity_measure(image=webp, palette=PALETTE, recipe=spec.recipe.components)
    assert f.max_share_error_pp is not None and f.max_share_error_pp <= 3.0, f
    # A picture that is already thumbnail-sized is its own thumbnail.
    assert engine.render(make_spec({"BLUE": 100}, size=256)).thumbnail is None


def test_the_engine_report_reads_the_chips_it_drew():
    spec = make_spec({"GRAY": 50, "LTGRAY": 50}, size=512)
    layers = render_layers(spec)
    chips = np.where(layers.top, layers.labels, 0)
    f = fidelity_measure(
        image=layers.image, palette=PALETTE, recipe=spec.recipe.components, chips=chips
    )
    # Look-alikes a picture alone cannot split (it reads this one 50 pp off), told apart
    # granule by granule (1.1 pp when written: a few chips tilted from the light).
    assert f.max_share_error_pp is not None and f.max_share_error_pp <= 1.5, f
    # The colours are still read from the pixels: the wrong colours read wrong.
    other = make_spec({"BLUE": 50, "RED": 50}, size=512)
    g = fidelity_measure(
        image=layers.image, palette=PALETTE, recipe=other.recipe.components, chips=chips
    )
    assert max(g.delta_e00.values(), default=99.0) > 10.0
    with pytest.raises(ValueError, match="chips"):
        fidelity_measure(image=layers.image, palette=PALETTE, chips=chips[:10])
