"""Per-key request rate limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from plitka_site.apikeys.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Limits each API key to its own rate (or the site default); staff are not limited."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.API_KEY_DEFAULT_RATE

    def allow_request(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        self.rate = api_key.rate_limit or self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        api_key = request.auth
        return f"throttle_api_key_{api_key.pk}" if isinstance(api_key, ApiKey) else None
