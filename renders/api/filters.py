"""Query filters of the render list; each choice parameter (engine, view, ...) filters too."""

from __future__ import annotations

from typing import Any

import django_filters

from gpu_worker.param_kinds import ChoiceParam
from gpu_worker.params import render_param_declarations
from renders.models import RenderJob


class _RenderJobFilterBase(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__sku")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = RenderJob
        fields = ["product", "status", "source", "queue"]


def _param_filters() -> dict[str, Any]:
    # Parameters live in the job's `params` JSON; a key lookup reads them on SQLite and
    # PostgreSQL alike.
    return {
        name: django_filters.CharFilter(field_name=f"params__{name}", help_text=param.describe())
        for name, param in render_param_declarations()
        if isinstance(param, ChoiceParam)
    }


RenderJobFilter: type[django_filters.FilterSet] = type(
    "RenderJobFilter", (_RenderJobFilterBase,), _param_filters()
)
