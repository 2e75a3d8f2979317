"""Who may call the API: staff by session, storefront clients by API key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from plitka_site.apikeys.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


def caller_is_staff(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsStaffOrApiKey(permissions.BasePermission):
    """Reads need any valid key or a staff session; writes need a `render` key or staff."""

    message: Any = _("A staff session or an API key with the right scope is required.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        if caller_is_staff(request):
            return True
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        self.message = _("API key '%(name)s' has scope '%(scope)s'; this needs 'render'.") % {
            "name": api_key.name,
            "scope": api_key.scope,
        }
        return api_key.can_render


class IsStaff(permissions.BasePermission):
    message = _("Only staff may see this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return caller_is_staff(request)
