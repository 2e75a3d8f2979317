"""Query filters of the catalog lists."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import TileProduct
from plitka_site.api.filtersets import NamedChoicesFilterSet


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """true or false, and a 400 for anything else (django-filter's boolean filter read any
    other word as "no filter")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class ProductFilter(NamedChoicesFilterSet):
    is_published = StrictBooleanFilter()

    class Meta:
        model = TileProduct
        fields = ["shape", "granule_size", "is_published"]
