"""Filter sets whose choice filters name their choices when given another value (Django's
own message only says the value is not one of them)."""

from __future__ import annotations

from typing import Any

import django_filters


def invalid_choice_message(choices: Any) -> str:
    names = ", ".join(str(value) for value, _ in choices)
    return f"%(value)s is not one of: {names}"


class NamedChoicesFilterSet(django_filters.FilterSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            choices = filter_.extra.get("choices")
            kinds = (django_filters.ChoiceFilter, django_filters.TypedChoiceFilter)
            if isinstance(filter_, kinds) and choices and not callable(choices):
                messages = filter_.extra.setdefault("error_messages", {})
                messages.setdefault("invalid_choice", invalid_choice_message(choices))
