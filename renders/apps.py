from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RendersConfig(AppConfig):
    name = "renders"
    verbose_name = _("Renders")

    def ready(self) -> None:
        # Connects the worker heartbeat to Celery's worker_ready/worker_shutdown signals.
        from renders.worker import heartbeat  # noqa: F401
