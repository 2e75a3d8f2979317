"""One render through the runner: engine, overlapped encoding, timings, samples."""

from __future__ import annotations

import hashlib

import numpy as np
from _gw_support import make_spec

from gpu_worker.engines.registry import engine_get
from gpu_worker.imageio import image_decode, png_encode, thumbnail_webp
from gpu_worker.monitor import device_describe
from gpu_worker.runner import _Encoder, render_run


def test_render_run_returns_a_stored_ready_png_with_its_digest():
    spec = make_spec({"RED": 60, "BLACK": 40}, size=256)
    outcome = render_run(spec=spec, device=device_describe())
    image = image_decode(outcome.png)
    assert image.shape == (256, 256, 3)
    assert (outcome.width, outcome.height) == (256, 256)
    assert outcome.digest == hashlib.sha256(outcome.png).hexdigest()
    assert image_decode(outcome.thumbnail_webp).shape[0] <= 256
    assert set(outcome.fidelity) == {
        "shares",
        "max_share_error_pp",
        "delta_e00",
        "appearance_delta_e00",
        "tile_fraction",
    }
    assert {"load", "engine_render", "encode", "inference", "postprocess"} <= set(outcome.timings)
    assert outcome.monitor.samples
    assert "numpy" in outcome.versions


def test_the_second_render_finds_the_engine_loaded():
    spec = make_spec({"BLUE": 100}, size=256)
    render_run(spec=spec, device=device_describe())
    again = render_run(spec=spec, device=device_describe())
    assert again.cache_hit is True


def test_overlapped_encoding_gives_the_same_bytes_as_encoding_afterwards():
    spec = make_spec({"YELLOW": 50, "DKGREEN": 50}, size=256)
    first = render_run(spec=spec, device=device_describe())
    image = image_decode(first.png)
    assert first.png == png_encode(image)
    assert first.thumbnail_webp == thumbnail_webp(image)


def test_an_engine_that_never_hands_over_its_image_is_encoded_afterwards():
    image = np.full((64, 96, 3), 200, dtype=np.uint8)
    png, thumb = _Encoder().result(image)
    assert png == png_encode(image)
    assert thumb == thumbnail_webp(image)


def test_an_image_replaced_after_hand_over_is_the_one_encoded():
    early = np.zeros((32, 32, 3), dtype=np.uint8)
    final = np.full((32, 32, 3), 255, dtype=np.uint8)
    encoder = _Encoder()
    encoder.start(early)
    png, _ = encoder.result(final)
    assert png == png_encode(final)


def test_the_stored_thumbnail_is_the_one_the_engine_drew():
    spec = make_spec({"RED": 60, "BLACK": 40}, size=512)
    outcome = render_run(spec=spec, device=device_describe())
    drawn = engine_get("procedural").render(spec).thumbnail
    assert drawn is not None
    # Drawn at 256 px, not the 512 px picture shrunk.
    assert outcome.thumbnail_webp == thumbnail_webp(drawn)
    assert outcome.thumbnail_webp != thumbnail_webp(image_decode(outcome.png))
