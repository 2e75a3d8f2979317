"""Image bytes in and out: deterministic PNG, WebP thumbnails, validated decoding."""

from __future__ import annotations

import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

# Decoding refuses anything larger: a 2048 px render is 4 Mpx; a photo may be bigger but
# no tile picture needs 40 Mpx, and a decompression bomb would.
MAX_DECODE_PIXELS = 40_000_000


def _check(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError("image must be an (H, W, 3) uint8 RGB array")
    return np.ascontiguousarray(arr)


def png_encode(image: NDArray[np.uint8]) -> bytes:
    """PNG bytes that depend on the pixels only (no time, no text chunks, fixed settings).

    zlib level 1: granule texture barely compresses, so level 6 bought ~9 % smaller files
    for twice the encode time, and encoding is on every job's critical path.
    """
    buf = io.BytesIO()
    Image.fromarray(_check(image), "RGB").save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()


THUMBNAIL_SIDE = 256  # px, the longer side of every stored thumbnail


def thumbnail_webp(image: NDArray[np.uint8], max_side: int = THUMBNAIL_SIDE) -> bytes:
    """A WebP thumbnail whose longer side is at most `max_side` pixels."""
    if max_side < 1:
        raise ValueError("max_side must be positive")
    im = Image.fromarray(_check(image), "RGB")
    # reducing_gap: box-reduce most of the way, then Lanczos on a small image; same look,
    # a fraction of the time of a full-size Lanczos.
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buf = io.BytesIO()
    im.save(buf, format="WEBP", quality=85, method=2)
    return buf.getvalue()


def image_decode(data: bytes) -> NDArray[np.uint8]:
    """Decode PNG/JPEG/WebP bytes to (H, W, 3) uint8 RGB; ValueError if not a sane image."""
    if not data:
        raise ValueError("empty image data")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w * h > MAX_DECODE_PIXELS:
                    raise ValueError(f"image too large: {w}x{h} px (limit {MAX_DECODE_PIXELS} px)")
                if im.format not in {"PNG", "JPEG", "WEBP"}:
                    raise ValueError(f"unsupported image format: {im.format}")
                # A phone's photo says which way up it was held; measure it as seen.
                rgb = (ImageOps.exif_transpose(im) or im).convert("RGB")
                rgb.load()
    except ValueError:
        raise
    except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"not a readable image: {exc}") from None
    return np.asarray(rgb, dtype=np.uint8).copy()
