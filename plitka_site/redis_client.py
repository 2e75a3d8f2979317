"""The web process's own Redis connection pool: job notifications, rate-limit counters.

Every call has a short connect and socket timeout: Redis that accepts connections but never
answers costs a request half a second, never minutes. Callers treat a RedisError as
"Redis is away" and carry on without it (a late wake-up, an unthrottled request).
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings

SOCKET_TIMEOUT_S = 0.5


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
    )


def redis_client() -> redis.Redis:
    """This process's pool on the broker's Redis (REDIS_URL)."""
    return _client(settings.CELERY_BROKER_URL)
