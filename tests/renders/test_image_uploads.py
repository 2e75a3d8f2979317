"""Uploaded pictures are bounded and checked before any work (issue 13, item 4)."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from renders.image_uploads import ImageRefused, image_upload_check


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def tile(width: int = 320, height: int = 200) -> Image.Image:
    return Image.new("RGB", (width, height), (200, 60, 50))


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_jpeg_png_and_webp_are_accepted_with_their_size_and_hash(fmt, extension):
    checked = image_upload_check(data=encoded(tile(), fmt))
    assert (checked.format, checked.extension) == (fmt, extension)
    assert (checked.width, checked.height) == (320, 200)
    assert len(checked.sha256) == 64


def test_exif_orientation_gives_the_size_as_seen():
    exif = Image.Exif()
    exif[0x0112] = 6  # taken holding the phone upright: rotate 90° to view
    checked = image_upload_check(data=encoded(tile(), "JPEG", exif=exif.tobytes()))
    assert (checked.width, checked.height) == (200, 320)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb's
    first bytes): refused from the header, before anything is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (b"", "empty", "empty"),
        (b"GIF89a" + bytes(100), "unsupported_format", "JPEG, PNG or WebP"),
        (encoded(tile(), "BMP"), "unsupported_format", "JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "unsupported_format", "JPEG, PNG"),
        (_png_claiming(6000, 5000), "too_many_pixels", "6000x5000 px"),
        (_png_claiming(100_000, 100_000), "too_many_pixels", "too large"),
        (encoded(tile(40, 300), "PNG"), "too_small", "40x300 px"),
        (encoded(tile(), "JPEG")[:-600], "unreadable", "JPEG image cannot be read"),
        (encoded(tile(), "PNG")[:60], "unreadable", "PNG image cannot be read"),
        # The signature of one format and the body of another.
        (b"\xff\xd8\xff" + encoded(tile(), "PNG"), "unreadable", "cannot be read"),
    ],
)
def test_anything_else_is_refused_with_a_code_and_a_reason(data, code, says):
    with pytest.raises(ImageRefused) as refused:
        image_upload_check(data=data)
    assert refused.value.code == code and says in refused.value.message


def test_the_byte_limit_is_checked_before_reading():
    with pytest.raises(ImageRefused, match="at most 100 are accepted") as refused:
        image_upload_check(data=encoded(tile(), "PNG"), max_bytes=100)
    assert refused.value.code == "too_large"


def test_an_animation_is_refused():
    frames = [tile(), Image.new("RGB", (320, 200), (0, 0, 0))]
    data = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageRefused, match="not an animation"):
        image_upload_check(data=data)


def test_the_worker_decodes_a_photo_the_way_up_it_was_seen():
    from gpu_worker.imageio import image_decode

    exif = Image.Exif()
    exif[0x0112] = 6
    assert image_decode(encoded(tile(), "JPEG", exif=exif.tobytes())).shape == (320, 200, 3)
