import io

import numpy as np
import pytest
from PIL import Image

from gpu_worker.imageio import image_decode, png_encode, thumbnail_webp


def test_png_round_trip_and_determinism():
    img = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    data = png_encode(img)
    assert data == png_encode(img)
    np.testing.assert_array_equal(image_decode(data), img)


def test_thumbnail_is_small_webp():
    img = np.zeros((600, 300, 3), np.uint8)
    with Image.open(io.BytesIO(thumbnail_webp(img, max_side=128))) as im:
        assert im.format == "WEBP" and max(im.size) == 128


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\nbroken"])
def test_decode_rejects_garbage(data):
    with pytest.raises(ValueError, match="image"):
        image_decode(data)


def test_decode_rejects_huge(monkeypatch):
    import gpu_worker.imageio as mod

    monkeypatch.setattr(mod, "MAX_DECODE_PIXELS", 100)
    with pytest.raises(ValueError, match="too large"):
        image_decode(png_encode(np.zeros((20, 20, 3), np.uint8)))
