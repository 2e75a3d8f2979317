"""Analyzer round trips on the renderer's own pictures, clean and photo-like."""

import itertools

import cv2
import numpy as np
import pytest
from _gw_support import DISTINCT, PALETTE, make_spec, random_specs, spec_from
from hypothesis import given, settings

from gpu_worker.colour.measure import Fidelity, fidelity_measure
from gpu_worker.engines.procedural.render import render_layers
from gpu_worker.imageio import image_decode, thumbnail_webp

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
        kw.update(width_mm=200, height_mm=100)
    spec = make_spec(recipe, **kw)
    return spec, render_layers(spec).image


def share_error(f: Fidelity) -> float:
    """The largest share error in pp: measured whenever the recipe is given."""
    assert f.max_share_error_pp is not None, f
    return f.max_share_error_pp


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
    decoded = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded[..., ::-1].copy()


def test_fidelity_dict_keys():
    spec, img = _render({"RED": 100}, {"size": 256})
    f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe.components)
    assert isinstance(f, Fidelity)
    assert set(f.to_dict()) == {
        "shares",
        "max_share_error_pp",
        "delta_e00",
        "appearance_delta_e00",
        "tile_fraction",
    }
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
    f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe.components)
    assert share_error(f) <= 3.0, f
    assert max(f.delta_e00.values()) <= 2.0, f


CODES = [c.code for c in PALETTE]


SPECS = random_specs()  # random palette colours, look-alikes included
DISTINCT_SPECS = random_specs(DISTINCT)


# The analyzer alone on a picture file (what `analyze_colors` does): it has to find the
# tile top face and cut the granules apart itself. Measured on 60 random specs of clearly
# different colours (DISTINCT) at 256-512 px (procedural 2.1.0): top views median 0.4 pp,
# 98 % within 3 pp, max 6.9 pp; perspective median 0.7 pp, 100 % within 3 pp, max 2.7 pp;
# every colour of 10 % or more found and true to its palette value. Look-alike colours (GRAY/LTGRAY,
# BEIGE/PEARL/WHITE) are not asked of a picture alone: shading moves a granule further
# than they are apart. The engines report fidelity with the granules they drew (see the
# engine tests below), which meets the target.
# So this test states the bounds that hold today for pictures without their geometry.
@settings(max_examples=40, deadline=None, derandomize=True)
@given(DISTINCT_SPECS)
def test_round_trip_bounds(spec):
    f = fidelity_measure(
        image=render_layers(spec).image, palette=PALETTE, recipe=spec.recipe.components
    )
    assert set(f.shares) == {c.code for c in spec.recipe.components}
    assert share_error(f) <= 8.0, (spec.params.view, spec.params.size, spec.recipe, f)
    # Every colour of 10 % or more is found and measured true to its palette value.
    for c in spec.recipe.components:
        if c.percent >= 10:
            assert f.delta_e00[c.code] <= 3.0, (c, f)


def engine_fidelity(spec) -> Fidelity:
    """What the procedural engine reports for its own render (top face known)."""
    from gpu_worker.engines.registry import engine_get

    return engine_get("procedural").render(spec).fidelity


def meets_target(spec, f: Fidelity) -> bool:
    measured_all = set(f.delta_e00) == {c.code for c in spec.recipe.components}
    return measured_all and share_error(f) <= 1.0 and max(f.delta_e00.values()) <= 2.0


# The target, on the engine's own report: <= 1 pp and every ΔE2000 <= 2. The
# engine gives the analyzer the granules it drew (their colours are still read from the
# pixels). Measured on random specs at 256-1024 px over the whole palette (procedural
# 2.0.0): see ENGINE_SWEEP below. What misses: a colour of one percent beside a look-alike
# that fills the tile (GRAY:1 in LTGRAY:93 at 256 px reads ~4 pp high, and that GRAY
# ΔE ~2.7): a few granules of the big colour, lit a little less, pass for the small one.
@settings(max_examples=25, deadline=None, derandomize=True)
@given(SPECS.filter(lambda s: s.params.view == "top"))
def test_engine_fidelity_is_near_the_target_in_top_views(spec):
    f = engine_fidelity(spec)
    assert set(f.delta_e00) == {c.code for c in spec.recipe.components}, f
    assert share_error(f) <= 5.0, (spec.recipe, spec.params.size, spec.tile.shape, f)
    assert max(f.delta_e00.values()) <= 3.0, (spec.recipe, f)


def test_engine_fidelity_meets_the_target_on_a_random_sample_of_every_view():
    rng = np.random.default_rng(2026)
    misses = []
    n = 40
    for _ in range(n):
        k = int(rng.integers(1, 9))
        cuts = sorted(int(c) for c in rng.choice(np.arange(1, 100), k - 1, replace=False))
        percents = [b - a for a, b in itertools.pairwise([0, *cuts, 100])]
        spec = spec_from(
            percents,
            int(rng.integers(0, 2**31 - 1)),
            str(rng.choice(["square", "brick", "puzzle"])),
            str(rng.choice(["top", "perspective"])),
            int(rng.integers(0, 360)),
            str(rng.choice(["fine", "medium", "coarse"])),
            int(rng.choice([256, 384, 512])),
        )
        f = engine_fidelity(spec)
        if not meets_target(spec, f):
            misses.append((spec.params.view, spec.tile.shape, spec.params.size, spec.recipe, f))
        # Near misses are look-alike greys or a colour of a few granules; never far off.
        assert share_error(f) <= 3.0, (spec, f)
        assert max(f.delta_e00.values()) <= 3.0, (spec, f)
    # At most 5 %. Measured on procedural 2.0.0 over 150 random specs at 256-1024 px over
    # the whole palette: 145 met the target; the misses were 1.1-2.7 pp among look-alike
    # greys (GRAY/LTGRAY/DKGRAY/BLACK).
    assert len(misses) <= n // 20, misses


def test_round_trip_mostly_within_target():
    """How many top views a picture file alone reads within 3 pp (a regression guard)."""
    hits = 0
    n = 16
    for seed in range(n):
        rng = np.random.default_rng(seed)
        k = int(rng.integers(1, 7))
        cuts = sorted(int(c) for c in rng.choice(np.arange(1, 100), k - 1, replace=False))
        bounds = [0, *cuts, 100]
        percents = [b - a for a, b in itertools.pairwise(bounds)]
        spec = spec_from(
            percents,
            seed,
            str(rng.choice(["square", "brick", "puzzle"])),
            "top",
            int(rng.integers(0, 360)),
            str(rng.choice(["fine", "medium", "coarse"])),
            int(rng.choice([256, 384, 512])),
            colours=DISTINCT,
        )
        img = render_layers(spec).image
        f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe.components)
        hits += share_error(f) <= 3.0 and max(f.delta_e00.values()) <= 2.0
    # 14 of these 16 were within 3 pp when written (procedural 2.0.0), 16 with 2.1.0.
    assert hits >= 14, hits


def _random_thumbnail_specs(n: int, view: str, seed: int):
    """Specs of jobs' thumbnails: any job's thumbnail is its spec drawn at 256 px."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k = int(rng.integers(1, 6))
        cuts = sorted(int(c) for c in rng.choice(np.arange(1, 100), k - 1, replace=False))
        percents = [b - a for a, b in itertools.pairwise([0, *cuts, 100])]
        yield spec_from(
            percents,
            int(rng.integers(0, 2**31 - 1)),
            str(rng.choice(["square", "brick", "puzzle"])),
            view,
            int(rng.integers(0, 360)),
            str(rng.choice(["fine", "medium", "coarse"])),
            256,
            colours=DISTINCT,
        )


def thumbnail_error(spec) -> float:
    """analyze_colors on the job's WebP thumbnail, told the recipe."""
    webp = image_decode(thumbnail_webp(render_layers(spec).image))
    return share_error(fidelity_measure(image=webp, palette=PALETTE, recipe=spec.recipe.components))


# The check on what a shopper gets: analyze_colors on a job's WebP thumbnail
# (a 256 px swatch, see render.SWATCH_MIN_GRANULES), told the recipe. Measured on 100
# random specs of clearly different colours each (procedural 2.1.0): top views median
# 0.7 pp, 98 % within 3 pp, max 3.4 pp; perspective median 1.15 pp, 88 % within 3 pp,
# max 5.5 pp (brick walls' edges, dim walls of recipes with BLACK). Over the whole palette,
# look-alikes included: 85 % and 79 % (GRAY/LTGRAY, BLACK/DKGRAY, WHITE/PEARL differ only
# in lightness, which shading moves further, granule by granule).
def test_job_thumbnails_read_within_3_pp_in_top_views():
    errors = [thumbnail_error(spec) for spec in _random_thumbnail_specs(24, "top", 5)]
    assert sum(e > 3.0 for e in errors) <= 1, errors
    assert max(errors) <= 5.0, errors


def test_job_thumbnails_read_within_3_pp_mostly_in_perspective_views():
    errors = [thumbnail_error(spec) for spec in _random_thumbnail_specs(24, "perspective", 5)]
    assert sum(e <= 3.0 for e in errors) >= 19, errors
    assert max(errors) <= 10.0, errors


@pytest.mark.parametrize(
    ("recipe", "kw"),
    [
        ({"RED": 60, "BLACK": 40}, {"size": 1024}),
        ({"BLUE": 50, "WHITE": 30, "YELLOW": 19, "ORANGE": 1}, {"size": 1024, "angle": 17}),
        ({"GRNAPL": 50, "YELLOW": 30, "WHITE": 20}, {"size": 2048, "granule": "coarse"}),
    ],
)
def test_round_trip_large_top(recipe, kw):
    # A picture file alone, large: within 3 pp (1.8 and 2.7 pp for the first two when
    # written; BLACK loses a little area to RED, WHITE to BLUE) and true colours.
    spec, img = _render(recipe, kw)
    f = fidelity_measure(image=img, palette=PALETTE, recipe=spec.recipe.components)
    assert share_error(f) <= 3.0, f
    assert max(f.delta_e00.values()) <= 2.0, f


def test_round_trip_photo_like():
    errors = []
    for recipe, kw in CASES[:3]:
        spec, img = _render(recipe, kw)
        f = fidelity_measure(image=photo_like(img), palette=PALETTE, recipe=spec.recipe.components)
        errors.append(share_error(f))
    # Each stays usable; the median is the real-photo target's statistic.
    assert max(errors) <= 10.0, errors
    assert float(np.median(errors)) <= 5.0, errors


def test_without_recipe_finds_the_colours():
    _, img = _render({"RED": 60, "EMERALD": 40}, {})
    f = fidelity_measure(image=img, palette=PALETTE)
    assert f.max_share_error_pp is None
    assert {"RED", "EMERALD"} <= set(f.shares)
    assert f.shares["RED"] + f.shares["EMERALD"] >= 90.0


def test_appearance_is_the_whole_face_against_the_recipe_mix():
    spec, img = _render({"RED": 60, "BLACK": 40}, {"size": 256})
    recipe = spec.recipe.components
    f = fidelity_measure(image=img, palette=PALETTE, recipe=recipe)
    assert f.appearance_delta_e00 is not None and f.appearance_delta_e00 >= 0.0
    # Half the light on the tile (the white surround stays) is a far darker look.
    darker = np.where(img < 250, img // 2, img).astype(np.uint8)
    dim = fidelity_measure(image=darker, palette=PALETTE, recipe=recipe)
    assert dim.appearance_delta_e00 is not None
    assert dim.appearance_delta_e00 > f.appearance_delta_e00 + 5.0
    assert fidelity_measure(image=img, palette=PALETTE).appearance_delta_e00 is None
