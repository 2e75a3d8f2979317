"""`?ordering=`: the fields a list may be sorted by, named in the schema, and a 400 for any
other (DRF's own filter ignores unknown fields, so a typo sorted nothing and said nothing)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

MAX_ORDERING_TEXT = 200


def ordering_choices(view: Any) -> list[str]:
    fields = list(getattr(view, "ordering_fields", None) or [])
    return [term for name in fields for term in (name, f"-{name}")]


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = ordering_choices(view)
        terms = [term.strip() for term in raw[: MAX_ORDERING_TEXT + 1].split(",")]
        unknown = [term for term in terms if term not in allowed]
        if len(raw) > MAX_ORDERING_TEXT or unknown or not terms:
            shown = ", ".join(allowed) or "nothing: this list has a fixed order"
            raise ValidationError({self.ordering_param: [f"sort by one or more of: {shown}"]})
        return terms

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "string", "enum": ordering_choices(view)}
            parameter["description"] = (
                "Sort by this field (a leading - for descending); several, comma-separated."
            )
        return parameters
