"""Render parameters on the wire: one serializer field per declaration in gpu_worker.params.

The field parses with the declaration itself (same bounds, same messages as every other
door) and documents it in the OpenAPI schema; nothing here names a parameter.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from gpu_worker.param_kinds import Param, ParamProblem
from gpu_worker.params import render_param_declarations


class RenderParamField(serializers.Field):
    """A render parameter: absent or null means its default."""

    def __init__(self, *, param: Param, **kwargs: Any) -> None:
        self.param = param
        kwargs.setdefault("required", False)
        # Null means "choose for me" only where the default is exactly that (the seed).
        kwargs.setdefault("allow_null", param.default is None)
        kwargs.setdefault("help_text", param.describe())
        super().__init__(**kwargs)
        # drf-spectacular reads this per field instance: the schema says what parse accepts.
        self._spectacular_annotation = {"field": param.schema()}

    def to_internal_value(self, data: Any) -> Any:
        try:
            return self.param.parse(data)
        except ParamProblem as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: Any) -> Any:
        return value


def render_param_fields() -> dict[str, RenderParamField]:
    return {name: RenderParamField(param=param) for name, param in render_param_declarations()}
