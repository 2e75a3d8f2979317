"""Per-key request rate limits, at a constant cost per request.

DRF's SimpleRateThrottle keeps every request's time within the window and reads and
writes that whole list on each request: a key allowed 10,000 a minute that uses them pays
for 10,000 timestamps on every call. This counts per window instead (two counters), and
estimates the sliding window's count from them: the current window's count plus the
previous window's, weighted by how much of it still lies inside the sliding window.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from plitka_site.apikeys.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
        current_key = f"throttle:key:{api_key.pk}:{window}"
        previous_key = f"throttle:key:{api_key.pk}:{window - 1}"
        counts = cache.get_many([current_key, previous_key])
        into = (now % period) / period
        estimate = counts.get(previous_key, 0) * (1.0 - into) + counts.get(current_key, 0)
        if estimate >= limit:
            # When enough of the previous window has slid out for one more request.
            previous = counts.get(previous_key, 0)
            if previous:
                free_at = 1.0 - (limit - counts.get(current_key, 0) - 1) / previous
                self.retry_after = max(1.0, (free_at - into) * period)
            else:
                self.retry_after = max(1.0, (1.0 - into) * period)
            return False
        # Two windows' life, so the previous window's count is there while it is needed.
        if cache.add(current_key, 1, timeout=math.ceil(2 * period)) is False:
            try:
                cache.incr(current_key)
            except ValueError:  # expired between add and incr
                cache.add(current_key, 1, timeout=math.ceil(2 * period))
        return True

    def wait(self) -> float | None:
        return self.retry_after
