"""The Celery app shared by the web (to enqueue), the workers and beat."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plitka_site.settings")

app = Celery("plitka")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The render tasks live with the rest of the worker side, in renders/worker/.
app.autodiscover_tasks(["renders.worker"])
