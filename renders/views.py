"""Pages for people (the API has its own views in catalog/api/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from catalog.models import CatalogImage
from gpu_worker.param_kinds import ChoiceParam, WholeParam
from gpu_worker.params import RenderParams, render_param_declarations

CONFIGURATOR_SIZES = (512, 1024)
VIEW_LABELS = dict(CatalogImage.View.choices)


def _configurator_settings(request: HttpRequest) -> dict[str, object]:
    """What the page's script needs that the API does not list: the render parameters'
    choices and bounds (from their one declaration), and who is asking."""
    declared = dict(render_param_declarations())
    views, angle = declared["view"], declared["angle"]
    assert isinstance(views, ChoiceParam) and isinstance(angle, WholeParam)
    defaults = RenderParams()
    return {
        "api": "/api/v1/",
        # [value, label in the visitor's language]
        "views": [[view, str(VIEW_LABELS.get(view, view))] for view in views.options()],
        "view": "perspective",
        "angle": {"low": angle.low, "high": angle.high, "initial": defaults.angle},
        "sizes": list(CONFIGURATOR_SIZES),
        # A staff session calls the API with its cookie (and the CSRF token); anyone else
        # pastes a storefront API key, as a storefront's own server would send it.
        "session": bool(request.user.is_authenticated and request.user.is_staff),
    }


@ensure_csrf_cookie
def configurator_page(request: HttpRequest) -> HttpResponse:
    return render(request, "configurator.html", {"settings": _configurator_settings(request)})
