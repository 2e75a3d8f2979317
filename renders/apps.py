from django.apps import AppConfig


class RendersConfig(AppConfig):
    name = "renders"
    verbose_name = "Renders"

    def ready(self) -> None:
        # Connects the worker heartbeat to Celery's worker_ready/worker_shutdown signals.
        from renders.worker import heartbeat  # noqa: F401
