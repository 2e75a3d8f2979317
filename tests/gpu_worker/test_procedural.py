import numpy as np
import pytest
from _gw_support import PALETTE, make_spec, recipes, spec_from
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.geometry import TileGeometry
from gpu_worker.engines import RenderCanceled, UnknownEngine, engine_get, engine_names
from gpu_worker.engines.procedural.render import render_layers
from gpu_worker.engines.procedural.shapes import tile_outline_mm
from gpu_worker.imageio import png_encode

CODES = [c.code for c in PALETTE]


def albedo_shares(layers, k, mask=None):
    """Percent of each recipe colour over the top face (each granule's cell, gaps included)."""
    mask = layers.top if mask is None else mask
    comp = layers.component[layers.labels]
    return np.bincount(comp[mask], minlength=k) / mask.sum() * 100


@settings(max_examples=25, deadline=None)
@given(
    recipes(),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["square", "brick", "puzzle"]),
    st.sampled_from(["top", "perspective"]),
    st.integers(0, 359),
    st.sampled_from(["fine", "medium", "coarse"]),
)
def test_albedo_shares_exact(percents, seed, shape, view, angle, granule):
    spec = spec_from(percents, seed, shape, view, angle, granule)
    percents = [c.percent for c in spec.recipe.components]  # in the recipe's (code) order
    layers = render_layers(spec)
    got = albedo_shares(layers, len(percents))
    assert np.abs(got - percents).max() <= 0.5
    # The lit faces alone (binder gaps left out) stay close too: gaps are the same share
    # of every colour's granules.
    faces = albedo_shares(layers, len(percents), layers.top & layers.face)
    assert np.abs(faces - percents).max() <= 1.5


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
