"""DRF's parsers, with what they parse checked: nesting refused instead of crashing the
JSON decoder, and no NUL or lone surrogate in any text (see catalog/input_checks.py)."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from catalog.input_checks import MAX_JSON_DEPTH, json_problem, quoted, text_problem


def _checked(data: Any) -> Any:
    problem = json_problem(data)
    if problem:
        raise ParseError(f"JSON parse error - {problem}.")
    return data


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, with nesting refused instead of crashing and text checked."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "JSON parse error - the JSON is nested too deeply; "
                f"at most {MAX_JSON_DEPTH} levels are accepted."
            ) from None
        return _checked(data)


def _checked_form(data: QueryDict) -> None:
    for key, values in data.lists():
        for text in (key, *values):
            if isinstance(text, str) and (problem := text_problem(text)):
                raise ParseError(f"The form field {quoted(key)} {problem}.")


class StrictFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _checked_form(data)
        return data


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        _checked_form(parsed.data)
        return parsed
