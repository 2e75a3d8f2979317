"""ControlNet experiments in the admin: start a grid, watch its contact sheet, adopt it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from gpu_worker.params import QUALITIES, VIEWS
from renders.errors import RenderRequestError
from renders.models import Experiment, ModelProfile, RenderJob
from renders.selectors import cells_best_per_angle, experiment_results
from renders.services import Requester
from renders.services.experiments import (
    CONTROLS,
    Grid,
    experiment_adopt,
    experiment_check,
    experiment_create,
    experiment_grid_parse,
)


class ExperimentForm(forms.ModelForm):
    angles = forms.CharField(
        initial="0,45,90", max_length=200, help_text="Tile rotations in degrees, comma-separated."
    )
    controls = forms.MultipleChoiceField(
        choices=[(c, c) for c in CONTROLS],
        initial=["off", "canny"],
        widget=forms.CheckboxSelectMultiple,
        help_text="Each ControlNet type is tried at every scale; off is one cell per angle.",
    )
    scales = forms.CharField(
        initial="0.4,0.8", max_length=200, required=False, help_text="Conditioning scales."
    )
    view = forms.ChoiceField(choices=[(v, v) for v in VIEWS], initial="perspective")
    quality = forms.ChoiceField(choices=[(q, q) for q in QUALITIES], initial="standard")

    class Meta:
        model = Experiment
        fields = ["profile", "product", "recipe", "view", "size", "quality", "seed"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.grid = experiment_grid_parse(
                angles=data["angles"],
                controls=",".join(data["controls"]),
                scales=data.get("scales") or "",
            )
            experiment_check(
                profile=data["profile"],
                grid=self.grid,
                view=data["view"],
                size=data["size"],
                quality=data["quality"],
                seed=data["seed"],
            )
        except RenderRequestError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


SHOWN = ["profile", "product", "recipe", "view", "size", "quality", "seed"]


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """Experiments are evidence once started: added here, then only looked at (and adopted)."""

    form = ExperimentForm
    change_form_template = "admin/renders/experiment/change_form.html"
    list_display = ["__str__", "cells_done", "created_by", "created_at", "adopted_at"]
    list_filter = ["profile"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [*SHOWN[:3], "angles", "controls", "scales", *SHOWN[3:]]
        return [*SHOWN, "created_by", "created_at", "adopted_at", "contact_sheet"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.get_fields(request, obj)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change or not isinstance(request.user, User):
            raise PermissionDenied
        grid: Grid = form.grid
        data = form.cleaned_data
        try:
            return experiment_create(
                profile=data["profile"],
                product=data["product"],
                recipe=data["recipe"],
                grid=grid,
                requester=Requester.staff(request.user),
                view=data["view"],
                size=data["size"],
                quality=data["quality"],
                seed=data["seed"],
            )
        except RenderRequestError as exc:  # checked in the form; a race may still refuse
            raise PermissionDenied(exc.message) from exc

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """experiment_create (save_form) saved it with its cells."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related is edited here: the cells are the service's."""

    @admin.display(description=_("Cells done"))
    def cells_done(self, experiment: Experiment) -> str:
        cells = experiment.cells.all()
        done = cells.filter(job__status__in=RenderJob.TERMINAL).count()
        return f"{done} / {cells.count()}"

    @admin.display(description=_("Contact sheet"))
    def contact_sheet(self, experiment: Experiment) -> SafeString:
        results = experiment_results(experiment=experiment)
        winners = {id(r) for r in cells_best_per_angle(results).values()}
        # Columns: off first (the baseline), then each type by scale.
        settings = sorted(
            {(r.cell.control, r.cell.scale) for r in results}, key=lambda s: (s[0] != "off", s)
        )
        rows = []
        for angle in sorted({r.cell.angle for r in results}):
            by_setting = {
                (r.cell.control, r.cell.scale): r for r in results if r.cell.angle == angle
            }
            rows.append(
                (
                    angle,
                    [(by_setting.get(s), id(by_setting.get(s)) in winners) for s in settings],
                )
            )
        html = render_to_string(
            "admin/renders/experiment/contact_sheet.html",
            {
                "settings": settings,
                "rows": rows,
                "running": any(r.status in RenderJob.ACTIVE for r in results),
            },
        )
        return html  # a SafeString: the template engine escaped what it filled in

    def get_urls(self) -> list[URLPattern]:
        adopt = self.admin_site.admin_view(self.adopt_view)
        return [
            path("<int:pk>/adopt/", adopt, name="renders_experiment_adopt"),
            *super().get_urls(),
        ]

    def adopt_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST: the winners become the profile's ControlNet-per-angle table."""
        if request.method != "POST":
            raise PermissionDenied
        if not request.user.has_perm("renders.change_modelprofile"):
            raise PermissionDenied
        experiment = get_object_or_404(Experiment, pk=pk)
        back = reverse("admin:renders_experiment_change", args=[pk])
        try:
            profile: ModelProfile = experiment_adopt(experiment=experiment)
        except RenderRequestError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(back)
        table = ", ".join(
            f"≤{row['up_to']}°: {row['type']}" + (f" {row['scale']:g}" if "scale" in row else "")
            for row in profile.control_by_angle
        )
        messages.success(request, f"Profile {profile.name} now picks {table}.")
        return HttpResponseRedirect(back)
