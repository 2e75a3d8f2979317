"""The web process's own Redis connection pool: job notifications, rate-limit counters.

Every call has a short connect and socket timeout: Redis that accepts connections but never
answers costs a request half a second, never minutes. Callers treat any of REDIS_FAILURES
as "Redis is away" and carry on without it (a late wake-up, an unthrottled request, a job
left for the reconciler to send), and after one they skip Redis for AWAY_S seconds
(`redis_away`), so an outage does not cost every request its timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import redis
from django.conf import settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

SOCKET_TIMEOUT_S = 0.5
# What a call on this pool may raise when Redis or the connection fails. Besides its own
# errors, redis-py lets OSError and ValueError ("I/O operation on closed file") escape from
# a connection that breaks while several threads use the pool (seen under load in CI).
REDIS_FAILURES: tuple[type[Exception], ...] = (redis.RedisError, OSError, ValueError)
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


def redis_attempt(work: Callable[[redis.Redis], T], *, what: str) -> T | None:
    """`work(client)` on this process's pool; None, without trying, while Redis is away, or
    when it fails now (then logged, and Redis skipped for AWAY_S seconds)."""
    if redis_away():
        return None
    try:
        return work(redis_client())
    except REDIS_FAILURES as exc:
        redis_failed()
        logger.warning("%s: Redis did not answer, skipped for %g s: %s", what, AWAY_S, exc)
        return None
