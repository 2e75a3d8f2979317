"""One error envelope everywhere: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from plitka_site.api.envelope import error_body

logger = logging.getLogger(__name__)


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flatten(value)]
    return [str(detail)]


def _summary(fields: dict[str, Any]) -> str:
    parts = []
    for name, detail in fields.items():
        messages = "; ".join(_flatten(detail))
        parts.append(messages if name in {"non_field_errors", "detail"} else f"{name}: {messages}")
    return " | ".join(parts) or "The request is not valid."


DATABASE_RETRY_AFTER_S = 5


class DatabaseUnavailable(exceptions.APIException):
    """The database refused, dropped the connection or cut a statement at its timeout."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "The database did not answer in time; try again in a few seconds."
    wait = DATABASE_RETRY_AFTER_S  # DRF's handler sends it as Retry-After


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError):
        # A database restart, a failover or the statement timeout: the client may try
        # again, so a 503 that says when, not a 500 that says "our bug".
        logger.warning("database unavailable during %s: %s", context.get("view"), exc)
        exc = DatabaseUnavailable()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {name: _flatten(value) for name, value in detail.items()}
        response.data = error_body(code="invalid", message=_summary(fields), fields=fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(
            code=str(code),
            message=" ".join(_flatten(exc.detail)),
            fields=getattr(exc, "fields", None),
        )
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_or_html_404(request: HttpRequest, exception: Exception | None = None) -> Any:
    if _wants_json(request):
        return JsonResponse(
            error_body(code="not_found", message=f"No API endpoint at {request.path}."),
            status=status.HTTP_404_NOT_FOUND,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_or_html_500(request: HttpRequest) -> Any:
    if _wants_json(request):
        return JsonResponse(
            error_body(code="server_error", message="Internal error; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error

    return server_error(request)
