"""Requests the API refuses before any view runs: bodies too large, control characters.

Each refusal is a 4xx in the error envelope that says what was wrong; the body's declared
length is checked before any of it is read. (Loaded as middleware, before DRF's settings
are read: nothing here may import rest_framework.views.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from catalog.input_checks import quoted, text_problem
from plitka_site.api.envelope import error_body

# Characters no path, query or header of a real client holds: C0 controls (tab aside) and
# DEL. NUL in particular reaches PostgreSQL as an error, not as a value.
_CONTROL = {chr(c) for c in range(32) if c != 9} | {"\x7f"}
# Headers read by this API, by name as WSGI spells them; a control character in any of
# them is refused in the envelope (gunicorn already refuses NUL in any header).
_HEADERS = (
    "HTTP_AUTHORIZATION",
    "HTTP_IDEMPOTENCY_KEY",
    "HTTP_IF_NONE_MATCH",
    "HTTP_ACCEPT",
    "HTTP_COOKIE",
    "HTTP_X_FORWARDED_PROTO",
    "CONTENT_TYPE",
)


def _has_control(text: str) -> bool:
    return any(ch in _CONTROL for ch in text)


def _refuse(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message), status=status)


class RequestGuardMiddleware:
    """Refuses, for /api/ paths, bodies over API_MAX_BODY_BYTES (413), control characters
    in the path, the query string or the headers the API reads, and a query parameter given
    more than once (400)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> JsonResponse | None:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        if not (raw_length.isascii() and raw_length.isdigit() and len(raw_length) <= 12):
            return _refuse(400, "invalid", "Content-Length is not a whole number of bytes.")
        limit = (
            settings.API_MAX_UPLOAD_BYTES
            if request.path_info in settings.API_UPLOAD_PATHS
            else settings.API_MAX_BODY_BYTES
        )
        if int(raw_length) > limit:
            return _refuse(
                413,
                "payload_too_large",
                f"The request body is {int(raw_length)} bytes; at most {limit} are accepted.",
            )
        if _has_control(request.path_info) or text_problem(request.path_info):
            return _refuse(400, "invalid", "The URL path contains a control character.")
        # Query values arrive percent-decoded; undecodable bytes become U+FFFD, not errors.
        for name, values in request.GET.lists():
            if any(_has_control(text) for text in (name, *values)):
                return _refuse(
                    400, "invalid", f"The query parameter {quoted(name)} has a control character."
                )
            if len(values) > 1:
                # Every parameter of this API takes one value; Django would silently use
                # the last one given (`?wait=abc&wait=` read as no wait at all).
                return _refuse(
                    400,
                    "invalid",
                    f"The query parameter {quoted(name)} is given {len(values)} times; "
                    "give it once (several sort fields go comma-separated in one).",
                )
        for header in _HEADERS:
            if _has_control(request.META.get(header, "")):
                name = header.removeprefix("HTTP_").replace("_", "-").title()
                return _refuse(400, "invalid", f"The {name} header has a control character.")
        return None
