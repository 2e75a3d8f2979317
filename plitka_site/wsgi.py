"""WSGI entry point for the web process."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plitka_site.settings")
application = get_wsgi_application()

from plitka_site.startup import static_files_check  # noqa: E402  (needs settings loaded)

static_files_check()
