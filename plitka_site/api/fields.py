"""Serializer fields shared by the API's apps."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.input_checks import json_problem


class CheckedJSONField(serializers.JSONField):
    """A JSON value inside a request (a form field's text is parsed here): the same depth
    and text checks as a JSON body, as a 400 on this field."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            value = super().to_internal_value(data)
        except RecursionError:
            raise serializers.ValidationError("nested too deeply") from None
        problem = json_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value
