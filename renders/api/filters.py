"""Query filters of the render list; each choice parameter (engine, view, ...) filters too."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField

from gpu_worker.param_kinds import ChoiceParam
from gpu_worker.params import render_param_declarations
from plitka_site.api.filtersets import NamedChoicesFilterSet
from renders.models import RenderJob
from renders.selectors import render_jobs_with_param


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, passed on in UTC. "0001-01-01T00:00+14:00" parses but lies before
    year 1 in UTC, and PostgreSQL refuses offsets past 15:59 that Python reads ("-17:52"):
    either made the query fail with a 500."""

    def to_python(self, value: Any) -> Any:
        moment = super().to_python(value)
        if moment is None or moment.utcoffset() is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                "Enter a date/time between years 1 and 9999 in UTC.", code="invalid"
            ) from None


class _UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class _RenderJobFilterBase(NamedChoicesFilterSet):
    product = django_filters.CharFilter(field_name="product__sku")
    created_after = _UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = _UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = RenderJob
        fields = ["product", "status", "source", "queue"]


def _param_filter(name: str, param: ChoiceParam) -> django_filters.ChoiceFilter:
    # Parameters live in the job's `params` JSON; a key lookup reads them on SQLite and
    # PostgreSQL alike.
    def method(jobs: QuerySet[RenderJob], _field: str, value: str) -> QuerySet[RenderJob]:
        return render_jobs_with_param(jobs=jobs, name=name, value=value)

    # Its choices in the schema (an enum), and anything else a 400 naming them.
    return django_filters.ChoiceFilter(
        method=method,
        choices=[(choice, choice) for choice in param.options()],
        help_text=param.describe(),
    )


def _param_filters() -> dict[str, Any]:
    return {
        name: _param_filter(name, param)
        for name, param in render_param_declarations()
        if isinstance(param, ChoiceParam)
    }


RenderJobFilter: type[django_filters.FilterSet] = type(
    "RenderJobFilter", (_RenderJobFilterBase,), _param_filters()
)
