"""Serializer fields shared by the API's apps."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.input_checks import json_problem


def _looks_like_json(text: str) -> bool:
    """Whether a form field's text is meant as JSON (an object, a list, a quoted string, a
    number or a literal) rather than plain text."""
    head = text.lstrip()[:1]
    return (
        head in {"{", "[", '"', "-"} or head.isdigit() or text.strip() in {"true", "false", "null"}
    )


class CheckedJSONField(serializers.JSONField):
    """A JSON value inside a request (a form field's text is parsed here): the same depth
    and text checks as a JSON body, as a 400 on this field."""

    def to_internal_value(self, data: Any) -> Any:
        if getattr(data, "is_json_string", False) and not _looks_like_json(str(data)):
            # A form field with plain text, e.g. recipe=RED:60,BLACK:40: the text itself.
            data = str(data)
        try:
            value = super().to_internal_value(data)
        except RecursionError:
            raise serializers.ValidationError("nested too deeply") from None
        problem = json_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value
