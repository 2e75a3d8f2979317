"""Checks the web process makes as it starts: refuse to serve a site that cannot work."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# What collectstatic leaves for the manifest storage that DEBUG=0 uses.
STATIC_MANIFEST = "staticfiles.json"


def static_files_check() -> None:
    """With DEBUG=0, static files are served from STATIC_ROOT as collectstatic left them;
    without them every admin and API docs page is a 500, so the process refuses to start."""
    if settings.DEBUG:
        return
    manifest = Path(settings.STATIC_ROOT) / STATIC_MANIFEST
    if not manifest.is_file():
        raise ImproperlyConfigured(
            f"DEBUG=0 but {manifest} is missing: run `python manage.py collectstatic "
            "--noinput` once per release (see the README's Production section)."
        )
