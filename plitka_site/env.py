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


# Threads per gunicorn process (plitka_site/gunicorn.conf.py); the long poll's waiting
# slots (settings.API_LONG_POLL_WAITERS) are counted from the same number.
WEB_THREADS_ENV = "GUNICORN_THREADS"
WEB_THREADS_DEFAULT = 8


def web_threads() -> int:
    return env_int(WEB_THREADS_ENV, WEB_THREADS_DEFAULT)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
