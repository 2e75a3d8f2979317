"""Messages in the caller's language where Django runs (the API and the admin follow the
request's Accept-Language); the English text itself where it does not (the engines' own
tests and tools import the recipe parser without Django)."""

from __future__ import annotations


def gettext(message: str) -> str:
    from django.conf import settings

    if not settings.configured:
        return message
    from django.utils.translation import gettext as django_gettext

    return django_gettext(message)
