"""Per-key request rate limits, at a constant cost per request, shared by every web process.

DRF's SimpleRateThrottle keeps every request's time within the window and reads and
writes that whole list on each request: a key allowed 10,000 a minute that uses them pays
for 10,000 timestamps on every call. This counts per window instead (two counters in
Redis), and estimates the sliding window's count from them: the current window's count
plus the previous window's, weighted by how much of it still lies inside the window.

The count is taken with one atomic INCR before the decision, and given back (DECR) when
the request is refused, so parallel requests on any number of processes can never
together pass the limit. If Redis does not answer, requests pass (and a warning is
logged): the limit protects the service, it is not what lets a caller in.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from plitka_site.apikeys.models import ApiKey
from plitka_site.redis_client import REDIS_FAILURES, redis_attempt, redis_client

if TYPE_CHECKING:
    from rest_framework.views import APIView


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def throttle_counter(api_key: ApiKey, window: int) -> str:
    """The Redis key of one key's count in one window (the prefix keeps two databases'
    key number 1 apart when they share a Redis)."""
    return f"plitka:throttle:{api_key.pk}:{api_key.prefix}:{window}"


def _parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60), as DRF reads rates (the period's first letter counts)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[:1]]


class ApiKeyRateThrottle(BaseThrottle):
    """Limits each API key to its own rate (or the site default); staff are not limited."""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        rate = api_key.rate_limit or settings.API_KEY_DEFAULT_RATE
        limit, period = _parse_rate(rate)
        now = time.time()
        window = int(now // period)
        current_key = throttle_counter(api_key, window)

        def count(client: redis.Redis) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.incr(current_key)
            # Two windows' life, so the previous window's count is there while needed.
            pipe.expire(current_key, math.ceil(2 * period))
            pipe.get(throttle_counter(api_key, window - 1))
            return pipe.execute()

        counted = redis_attempt(count, what="rate limits")
        if counted is None:
            return True
        current, _, previous_raw = counted
        previous = int(previous_raw or 0)
        into = (now % period) / period
        if previous * (1.0 - into) + current <= limit:
            return True
        # A refused request is not counted; if Redis is away now, it is counted once too
        # often until the window's end forgets it.
        with contextlib.suppress(*REDIS_FAILURES):
            redis_client().decr(current_key)
        # When enough of the previous window has slid out for one more request.
        if previous:
            free_at = 1.0 - (limit - (current - 1) - 1) / previous
            self.retry_after = max(1.0, (free_at - into) * period)
        else:
            self.retry_after = max(1.0, (1.0 - into) * period)
        return False

    def wait(self) -> float | None:
        return self.retry_after
