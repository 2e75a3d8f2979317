"""Absolute URLs of stored files, as every API answer gives them."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage


def media_url(request: Any, field: Any) -> str | None:
    """The file's URL (absolute when there is a request to take the host from), or None."""
    if not field:
        return None
    return _absolute(request, str(field.url))


def media_name_url(request: Any, name: str | None) -> str | None:
    """`media_url` of a file in the default storage known by its name."""
    if not name:
        return None
    return _absolute(request, str(default_storage.url(name)))


def _absolute(request: Any, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url
