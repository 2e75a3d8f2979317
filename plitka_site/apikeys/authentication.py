"""DRF authentication for `Authorization: Api-Key <key>`."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from plitka_site.apikeys.models import ApiKey
from plitka_site.apikeys.services import api_key_verify

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a storefront client; request.user stays anonymous, request.auth is the key."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _space, value = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        value = value.strip()
        if not value:
            raise exceptions.AuthenticationFailed(_("The Api-Key header has no key after it."))
        api_key = api_key_verify(plaintext=value)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("The API key is unknown or revoked."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes the Api-Key header in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Send `Authorization: Api-Key <key>`; keys come from "
            "`python manage.py create_api_key NAME`.",
        }
