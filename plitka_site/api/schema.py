"""The OpenAPI schema documents every error an operation can answer, with the envelope.

drf-spectacular documents the success responses it can see; the errors come from code
every operation shares (authentication, permissions, throttling, the request guards, the
parsers, the exception handler), so they are added here, once, to every /api/ operation.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: invalid, not_found, ...")
    message = serializers.CharField(help_text="What was wrong and what would be right.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # "fields" is the envelope's name, and also a Serializer attribute: added here.
        return {
            **super().get_fields(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="Each input that was wrong, with its problems.",
            ),
        }


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_EVERY_OPERATION = {
    400: "The request is malformed: a bad parameter, filter, header or body (the message "
    "names it).",
    401: "No API key or session, or the key is unknown or revoked.",
    403: "The key's scope (or the caller) may not do this.",
    406: "The Accept header asks for a format other than JSON.",
    429: "Too many requests for this key (see Retry-After).",
    503: "The database did not answer in time (a restart, a failover, the statement "
    "timeout); try again after Retry-After seconds.",
}
_WITH_A_BODY = {
    413: "The body is larger than the API accepts (64 KiB by default).",
    415: "The body is not JSON, a form or multipart.",
}


class EnvelopeAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/v1/"):
            return responses
        errors = dict(_EVERY_OPERATION)
        errors[404] = (
            "No such object, or not one this caller may see."
            if "{" in self.path
            else "No such page of the list (?page= past its end)."
        )
        if self.method in {"POST", "PUT", "PATCH"}:
            errors.update(_WITH_A_BODY)
        for code, description in errors.items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorEnvelopeSerializer, description=description),
                    str(code),
                    direction=direction,
                )
        return responses


# Query parameters that are not filters: an empty value is no value for them.
_NOT_FILTERS = {"page", "page_size", "ordering", "wait", "expand"}


def filters_allow_empty_values(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A list filter left empty (`?status=`, as an HTML filter form sends it) filters
    nothing; the schema says so, so a client generator or a fuzzer does not take it for
    an invalid value."""
    for methods in result.get("paths", {}).values():
        operation = methods.get("get")
        if operation is None:
            continue
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and parameter["name"] not in _NOT_FILTERS:
                parameter["allowEmptyValue"] = True
    return result
