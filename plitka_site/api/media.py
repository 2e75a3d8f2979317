"""Absolute URLs of stored files, as every API answer gives them."""

from __future__ import annotations

from typing import Any


def media_url(request: Any, field: Any) -> str | None:
    """The file's URL (absolute when there is a request to take the host from), or None."""
    if not field:
        return None
    url = str(field.url)
    return request.build_absolute_uri(url) if request is not None else url
