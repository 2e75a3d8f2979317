"""Content-addressed result files in the default storage, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def result_names(digest: str) -> tuple[str, str]:
    """Where a PNG with this sha256 and its thumbnail live."""
    stem = f"renders/{digest[:2]}/{digest[2:4]}/{digest}"
    return f"{stem}.png", f"{stem}.thumb.webp"


def media_put(*, name: str, content: bytes) -> str:
    """Store bytes under exactly `name`; a file already there has the same bytes."""
    if default_storage.exists(name):
        return name
    try:
        target = Path(default_storage.path(name))
    except NotImplementedError:  # remote storage: one PUT is already all or nothing
        return default_storage.save(name, ContentFile(content))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a reader never sees half a file.
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return name
