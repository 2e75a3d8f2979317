"""Page-numbered lists, with their parameters' bounds in the schema."""

from typing import Any

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from catalog.input_checks import number_from_text


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        """The asked page size; a 400 naming the bounds, where DRF silently used another."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return int(self.page_size or settings.API_MAX_PAGE_SIZE)
        number = number_from_text(raw, exponent=False)
        if number is None or number != int(number) or not 1 <= number <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"a whole number from 1 to {self.max_page_size}"]}
            )
        return int(number)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # DRF documents both as bare integers; a generated client (or a fuzzer) should
        # know that pages count from 1 and that page_size stops at the maximum.
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], **bounds.get(parameter["name"], {})}
        return parameters
