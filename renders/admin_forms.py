"""Admin forms whose render-parameter fields come from the declarations in gpu_worker.params."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import ColorRecipe, TileProduct
from gpu_worker.param_kinds import ChoiceParam, Param, ParamProblem, RealParam, WholeParam
from gpu_worker.params import render_param_declaration
from renders.services.bulk import STANDARD_VIEWS


class RenderParamFormField(forms.Field):
    """A form field that parses with the parameter's own declaration (same messages)."""

    def __init__(self, *, param: Param, **kwargs: Any) -> None:
        self.param = param
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", param.describe())
        kwargs.setdefault("initial", param.default)
        kwargs.setdefault("widget", _widget(param))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return self.param.parse(value)
        except ParamProblem as exc:
            raise forms.ValidationError(str(exc)) from exc


def _widget(param: Param) -> forms.Widget:
    if isinstance(param, ChoiceParam):
        return forms.Select(choices=[(name, name) for name in param.options()])
    if isinstance(param, WholeParam):
        return forms.NumberInput(attrs={"min": param.low, "max": param.high, "step": 1})
    if isinstance(param, RealParam):
        return forms.NumberInput(attrs={"min": param.low, "max": param.high, "step": "any"})
    return forms.Textarea(attrs={"rows": 2})


def render_param_form_field(name: str) -> RenderParamFormField:
    return RenderParamFormField(param=render_param_declaration(name))


# The parameters staff choose for a bulk render; the views and angles are the standard set.
BULK_PARAMS = ("size", "engine", "quality")


class BulkParamsForm(forms.Form):
    """The render parameters of a bulk render, as their declarations describe them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in BULK_PARAMS:
            self.fields[name] = render_param_form_field(name)

    def render_values(self) -> dict[str, Any]:
        """The render parameters given (left blank: their defaults)."""
        return {
            name: self.cleaned_data[name]
            for name in BULK_PARAMS
            if self.cleaned_data.get(name) is not None
        }


class BulkRenderForm(BulkParamsForm):
    recipes = forms.ModelMultipleChoiceField(
        label=_("Recipes"),
        queryset=ColorRecipe.objects.all(),
        widget=forms.CheckboxSelectMultiple,
    )


# The (view, angle) pairs staff may pick for "render this recipe"; the standard ones first.
VIEW_OPTIONS: tuple[tuple[str, int], ...] = (
    *STANDARD_VIEWS,
    ("top", 45),
    ("perspective", 90),
    ("perspective", 135),
    ("perspective", 180),
)


def view_option_key(view: str, angle: int) -> str:
    return f"{view}:{angle}"


class RecipeRenderForm(BulkParamsForm):
    """Render chosen recipes for chosen products, in chosen views."""

    products = forms.ModelMultipleChoiceField(
        label=_("Products"),
        queryset=TileProduct.objects.order_by("sku"),
        widget=forms.CheckboxSelectMultiple,
    )
    views = forms.MultipleChoiceField(
        label=_("Views"),
        choices=[(view_option_key(v, a), f"{v} {a}°") for v, a in VIEW_OPTIONS],
        initial=[view_option_key(v, a) for v, a in STANDARD_VIEWS],
        widget=forms.CheckboxSelectMultiple,
    )

    def chosen_views(self) -> list[tuple[str, int]]:
        keys = set(self.cleaned_data["views"])
        return [(v, a) for v, a in VIEW_OPTIONS if view_option_key(v, a) in keys]
