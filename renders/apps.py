from django.apps import AppConfig


class RendersConfig(AppConfig):
    name = "renders"
    verbose_name = "Renders"

    def ready(self) -> None:
        from renders import signals  # noqa: F401  (connects the worker heartbeat)
