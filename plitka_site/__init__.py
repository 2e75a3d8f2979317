"""Project package: settings, URLs, the Celery app and cross-cutting API plumbing."""
