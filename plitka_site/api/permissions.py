"""Who may call the API: staff by session, storefront clients by API key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

from plitka_site.apikeys.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


def caller_is_staff(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsStaffOrApiKey(permissions.BasePermission):
    """Reads need any valid key or a staff session; writes need a `render` key or staff."""

    message = "A staff session or an API key with the right scope is required."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if caller_is_staff(request):
            return True
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        self.message = f"API key '{api_key.name}' has scope '{api_key.scope}'; this needs 'render'."
        return api_key.can_render


class IsStaff(permissions.BasePermission):
    message = "Only staff may see this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return caller_is_staff(request)
