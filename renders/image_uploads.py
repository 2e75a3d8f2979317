"""Pictures people upload (a photo of a tile to analyse), checked in the web process before
any worker spends time on them.

Everything is bounded before it is decoded: the byte count, the format (JPEG, PNG or WebP,
by their signatures and by what Pillow finds), the pixel count from the header (Pillow's
decompression-bomb guard on as an error, not a warning), one frame only; then the picture
is decoded once to prove it is whole. EXIF orientation is read so the size reported is the
size as seen; the worker applies it when it decodes. Only Pillow is used here: the web
process stays free of numpy and OpenCV. Nothing a client sends becomes a path: the bytes
are stored under their SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 12 * 2**20  # a 24 Mpx phone JPEG is 5-10 MB
MAX_PIXELS = 24_000_000  # 6000 x 4000; a tile needs far less, a bomb far more
MIN_SIDE = 64  # px: smaller holds no granules to measure
EXIF_ORIENTATION = 0x0112
ROTATED = {5, 6, 7, 8}  # orientations that swap width and height

# Signatures, checked before Pillow reads anything: a client's Content-Type proves nothing.
SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("JPEG", b"\xff\xd8\xff", 0),
    ("PNG", b"\x89PNG\r\n\x1a\n", 0),
    ("WEBP", b"WEBP", 8),  # after "RIFF" and the size
)
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class ImageRefused(ValueError):
    """Why an upload cannot be analysed; `code` is stable, the message says what is allowed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CheckedImage:
    data: bytes
    format: str  # JPEG, PNG or WEBP
    width: int  # as seen, EXIF orientation applied
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def _signature(data: bytes) -> str | None:
    for name, magic, offset in SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (name != "WEBP" or data[:4] == b"RIFF"):
            return name
    return None


def image_upload_check(
    *, data: bytes, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> CheckedImage:
    """The upload as a checked picture, or ImageRefused naming the problem."""
    if not data:
        raise ImageRefused("empty", "the image is empty")
    if len(data) > max_bytes:
        raise ImageRefused(
            "too_large",
            f"the image is {len(data):,} bytes; at most {max_bytes:,} are accepted",
        )
    expected = _signature(data)
    if expected is None:
        raise ImageRefused("unsupported_format", "send a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; here any excess is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRefused(
                        "too_many_pixels",
                        f"the image is {width}x{height} px; at most {max_pixels:,} pixels "
                        "are accepted",
                    )
                if min(width, height) < MIN_SIDE:
                    raise ImageRefused(
                        "too_small",
                        f"the image is {width}x{height} px; each side needs {MIN_SIDE} px or "
                        "more to show granules",
                    )
                if getattr(image, "n_frames", 1) > 1:
                    raise ImageRefused("animated", "send one still picture, not an animation")
                orientation = image.getexif().get(EXIF_ORIENTATION)
                image.load()  # the whole picture decodes: not truncated, not corrupt
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("too_many_pixels", f"the image is too large to decode: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused("unreadable", f"the {expected} image cannot be read: {exc}") from None
    if orientation in ROTATED:
        width, height = height, width
    return CheckedImage(
        data=data,
        format=expected,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
