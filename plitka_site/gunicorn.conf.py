"""gunicorn settings of the web process, for `make run` and for production.

    .venv/bin/gunicorn -c plitka_site/gunicorn.conf.py plitka_site.wsgi

A few processes (one per core, at least two, so one crash or slow request never stops the
site), each working on GUNICORN_REQUESTS_AT_ONCE requests at once and leaving the rest in
the listen queue they share, with spare threads for long polls that only wait: see
plitka_site/web_worker.py. Every value can be set from the environment.
"""

from __future__ import annotations

import os

from plitka_site.env import web_requests_at_once, web_threads


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
worker_class = "plitka_site.web_worker.TurnWorker"
workers = _int("WEB_CONCURRENCY", max(2, min(os.cpu_count() or 1, 8)))
threads = web_threads()
web_requests_at_once()  # a bad GUNICORN_REQUESTS_AT_ONCE stops the start here, named
# A request that runs longer than this is killed with its worker (every request is bounded
# well below it; the API never holds a client longer than 30 s).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Fresh processes after this many requests (0: never). Off by default: a restart re-imports
# Django and stalls that process's requests for about half a second, and at a thousand
# status polls a second a small number would restart a process every few seconds.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The proxies whose X-Forwarded-* headers are believed (the reverse proxy's address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
