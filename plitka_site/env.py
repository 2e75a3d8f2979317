"""Typed readers for settings that come from the environment."""

from __future__ import annotations

import os


class ConfigError(RuntimeError):
    """A setting in the environment is present but unusable."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from exc


# The web process's shape (plitka_site/gunicorn.conf.py, plitka_site/web_worker.py): each
# process works on WEB_REQUESTS_AT_ONCE requests at once and holds GUNICORN_THREADS threads,
# the others for long polls that only wait; the long poll's waiting slots
# (settings.API_LONG_POLL_WAITERS) are counted from the difference.
WEB_THREADS_ENV = "GUNICORN_THREADS"
WEB_THREADS_DEFAULT = 8
WEB_REQUESTS_AT_ONCE_ENV = "GUNICORN_REQUESTS_AT_ONCE"
WEB_REQUESTS_AT_ONCE_DEFAULT = 2


def web_threads() -> int:
    threads = env_int(WEB_THREADS_ENV, WEB_THREADS_DEFAULT)
    if not 1 <= threads <= 256:
        raise ConfigError(f"{WEB_THREADS_ENV}={threads} must be 1..256")
    return threads


def web_requests_at_once() -> int:
    """Requests one web process works on at once (at most its threads; by default 2, or
    fewer when the threads are fewer)."""
    threads = web_threads()
    at_once = env_int(WEB_REQUESTS_AT_ONCE_ENV, min(WEB_REQUESTS_AT_ONCE_DEFAULT, threads))
    if not 1 <= at_once <= threads:
        raise ConfigError(
            f"{WEB_REQUESTS_AT_ONCE_ENV}={at_once} must be 1..{WEB_THREADS_ENV} ({threads})"
        )
    return at_once


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
