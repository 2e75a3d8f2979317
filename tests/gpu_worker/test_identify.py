"""Open-set colour identification (`colours_identify`): renders, and the real photos."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from _gw_support import PALETTE, make_spec

from gpu_worker.colour.identify import Identification, colours_identify
from gpu_worker.engines.procedural.render import render_layers

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"
PRESENT = 3.0  # percent: a colour counts as found (and as in the recipe) from this share


def _found(ident: Identification) -> set[str]:
    return {c.code for c in ident.colours if c.percent >= PRESENT}


def _render(recipe: dict[str, int], seed: int = 0) -> np.ndarray:
    return render_layers(make_spec(recipe, size=512, seed=seed)).image


@pytest.mark.parametrize(
    "recipe",
    [{"RED": 60, "EMERALD": 40}, {"BLACK": 30, "WHITE": 70}, {"BLUE": 50, "YELLOW": 50}],
)
def test_render_mix_is_identified(recipe: dict[str, int]) -> None:
    ident = colours_identify(image=_render(recipe), palette=PALETTE)
    assert _found(ident) == set(recipe), ident
    for code, percent in recipe.items():
        assert abs(ident.shares[code] - percent) <= 5.0, ident
    assert 0.1 < ident.tile_fraction < 1.0
    for c in ident.colours:
        assert 0.0 <= c.confidence <= 1.0
        assert c.runner_up is not None and c.runner_up != c.code
        assert c.runner_up_delta_e00 is not None and c.runner_up_delta_e00 >= c.delta_e00


def test_shares_sum_to_100() -> None:
    ident = colours_identify(image=_render({"ORANGE": 20, "SKYBLUE": 80}, seed=3), palette=PALETTE)
    assert sum(ident.shares.values()) == pytest.approx(100.0, abs=0.5)


def test_blank_picture_finds_nothing() -> None:
    ident = colours_identify(image=np.full((200, 200, 3), 255, np.uint8), palette=PALETTE)
    assert ident.colours == ()


def test_rejects_bad_image() -> None:
    with pytest.raises(ValueError, match="uint8"):
        colours_identify(image=np.zeros((10, 10), np.uint8), palette=PALETTE)


# --- The real photos (development set, ../shared/photos) -----------------------------------


def _photos() -> list[Path]:
    return sorted(PHOTOS.glob("*.jpg")) if PHOTOS.is_dir() else []


def _recipe(stem: str) -> dict[str, float]:
    parts = re.findall(r"([A-Z]+)p(\d+)", stem)
    return {c: float(p) for c, p in parts} if parts else {stem.split("_")[0]: 100.0}


def _identify(path: Path) -> Identification:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return colours_identify(image=np.ascontiguousarray(bgr[..., ::-1]), palette=PALETTE)


needs_photos = pytest.mark.skipif(
    not _photos(), reason=f"no photos at {PHOTOS} (see ../shared/photos/README.md)"
)


@pytest.fixture(scope="module")
def photo_results() -> dict[str, Identification]:
    return {p.stem: _identify(p) for p in _photos()}


@needs_photos
@pytest.mark.slow
def test_every_single_colour_photo_is_named_right(
    photo_results: dict[str, Identification],
) -> None:
    wrong = {
        name: ident.shares
        for name, ident in photo_results.items()
        if len(_recipe(name)) == 1 and _found(ident) != set(_recipe(name))
    }
    assert not wrong, wrong


@needs_photos
@pytest.mark.slow
def test_mix_photos_colour_sets_and_shares(photo_results: dict[str, Identification]) -> None:
    """Where the set is right, the shares are within the told-the-recipe accuracy.

    Measured, not the brief's targets (see benchmarks/photo_identify.py): the four-colour
    photos' DKGREEN batch reads ΔE2000 ~18 from DKGREEN and ~3 from GRNAPL, so open-set it
    is GRNAPL; two BLACK/WHITE photos' white granules read nearer PEARL than WHITE.
    """
    mixes = {n: i for n, i in photo_results.items() if len(_recipe(n)) > 1}
    right = {n: i for n, i in mixes.items() if _found(i) == set(_recipe(n))}
    assert len(right) >= 8, {n: i.shares for n, i in mixes.items()}
    errors = [
        max(abs(i.shares.get(c, 0.0) - p) for c, p in _recipe(n).items()) for n, i in right.items()
    ]
    assert float(np.median(errors)) <= 3.0, errors
    # Every colour of every mix is found at about its share under its own name or under
    # the one stock colour nearest its batch: no colour is split in two.
    for name, ident in mixes.items():
        assert len(_found(ident)) == len(_recipe(name)), (name, ident.shares)
