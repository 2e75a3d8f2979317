"""The web process's own Redis connection pool: job notifications, rate-limit counters.

Every call has a short connect and socket timeout: Redis that accepts connections but never
answers costs a request a quarter of a second, never minutes. Callers treat a RedisError
as "Redis is away" and carry on without it (a late wake-up, an unthrottled request, a job
left for the reconciler to send), and after one they skip Redis for AWAY_S seconds
(`redis_away`), so an outage does not cost every request its timeout.
"""

from __future__ import annotations

import time
from functools import cache

import redis
from django.conf import settings

SOCKET_TIMEOUT_S = 0.25
AWAY_S = 5.0
_away_until = 0.0


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
    )


def redis_client() -> redis.Redis:
    """This process's pool on the broker's Redis (REDIS_URL)."""
    return _client(settings.CELERY_BROKER_URL)


def redis_away() -> bool:
    """Whether Redis failed in this process within the last AWAY_S seconds."""
    return time.monotonic() < _away_until


def redis_failed() -> None:
    """Note that Redis did not answer: callers skip it for AWAY_S seconds."""
    global _away_until
    _away_until = time.monotonic() + AWAY_S
