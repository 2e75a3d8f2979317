"""Admin forms for recipes: raw text in, the one recipe parser decides.

The component fields are plain text on purpose: if the admin parsed "0.6" as a number or
offered only a select of colours, staff would see other messages than API clients get.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.translation import gettext_lazy as _

from catalog.models import ColorRecipe, RecipeComponent
from catalog.recipes import Recipe, RecipeError
from catalog.selectors import recipe_name_clash, recipe_validate

COLOR_DATALIST_ID = "plitka-color-codes"


class ColorRecipeForm(forms.ModelForm):
    class Meta:
        model = ColorRecipe
        fields = ["name"]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        clash = recipe_name_clash(name=name, exclude_pk=self.instance.pk)
        if clash is not None:
            raise ValidationError(
                f"“{clash.name}” exists already (names are compared ignoring case); "
                "choose another name or edit that recipe."
            )
        return name


class RecipeComponentForm(forms.ModelForm):
    color_name = forms.CharField(
        label=_("Colour"),
        help_text=_("Code or name, e.g. RED or Красный"),
        widget=forms.TextInput(attrs={"list": COLOR_DATALIST_ID, "size": 14}),
    )
    percent_text = forms.CharField(
        label=_("Percent"), widget=forms.TextInput(attrs={"size": 5, "inputmode": "numeric"})
    )

    class Meta:
        model = RecipeComponent
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("color_name", self.instance.color.code)
            self.initial.setdefault("percent_text", str(self.instance.percent))


class RecipeComponentFormSet(forms.BaseInlineFormSet):
    """Validates the components together; the parsed recipe is kept for the service."""

    parsed: Recipe | None = None

    def clean(self) -> None:
        super().clean()
        rows = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and form.cleaned_data.get(DELETION_FIELD_NAME, False):
                continue
            rows.append(
                {
                    "color": form.cleaned_data["color_name"],
                    "percent": form.cleaned_data["percent_text"],
                }
            )
        try:
            self.parsed = recipe_validate(value=rows)
        except RecipeError as exc:
            raise ValidationError(exc.problems) from exc
