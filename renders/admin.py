"""Render history in the admin: read-only audit, with re-render, cancel and bulk render."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html

from catalog.admin import ReadOnlyAdminMixin, TileProductAdmin, mix_strip
from catalog.models import ColorRecipe, TileProduct
from renders.errors import RenderRequestError
from renders.models import RenderJob
from renders.params import STANDARD_VIEWS
from renders.plots import timeline_svg
from renders.services import Requester, render_job_cancel, render_job_submit


def recipe_swatch(job: RenderJob) -> str:
    return mix_strip((e["color"], e["percent"], e["hex"]) for e in job.recipe_snapshot)


@admin.register(RenderJob)
class RenderJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "preview",
        "status",
        "product",
        "swatch",
        "view_angle",
        "engine",
        "duration",
        "peak_memory",
        "fidelity_error",
        "source",
        "client_label",
        "created_at",
    ]
    list_filter = ["status", "engine", "source", "queue", "view", "product__shape"]
    search_fields = [
        "id",
        "product__sku",
        "recipe_canonical",
        "render_key",
        "client_label",
        "worker",
    ]
    list_select_related = ["product", "telemetry"]
    date_hierarchy = "created_at"
    actions = ["rerender", "cancel"]
    fieldsets = [
        (
            "Result",
            {
                "fields": [
                    "preview_large",
                    "status",
                    "progress",
                    "fidelity_pretty",
                    "error_code",
                    "error_message",
                ]
            },
        ),
        (
            "What was rendered",
            {
                "fields": [
                    "product",
                    "recipe",
                    "recipe_canonical",
                    "swatch",
                    "engine",
                    "engine_version",
                    "model_revision",
                    "view",
                    "angle",
                    "size",
                    "seed",
                    "quality",
                    "params_pretty",
                    "render_key",
                ]
            },
        ),
        (
            "Who and where",
            {
                "fields": [
                    "id",
                    "queue",
                    "source",
                    "requested_by",
                    "client_label",
                    "attempts",
                    "cancel_requested",
                    "worker",
                    "device",
                ]
            },
        ),
        (
            "When",
            {
                "fields": [
                    "created_at",
                    "dispatched_at",
                    "started_at",
                    "first_progress_at",
                    "heartbeat_at",
                    "finished_at",
                ]
            },
        ),
        ("Telemetry", {"fields": ["telemetry_pretty", "timeline_plot"]}),
    ]

    # History is evidence: read-only here; retention is prune_render_history's job.
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    @admin.display(description="")
    def preview(self, job: RenderJob) -> str:
        if not job.result_thumbnail:
            return "-"
        return format_html('<img src="{}" style="height:56px" alt="">', job.result_thumbnail.url)

    @admin.display(description="Image")
    def preview_large(self, job: RenderJob) -> str:
        if not job.result_image:
            return "-"
        return format_html(
            '<a href="{0}"><img src="{1}" style="max-height:256px" alt=""></a>',
            job.result_image.url,
            job.result_thumbnail.url if job.result_thumbnail else job.result_image.url,
        )

    @admin.display(description="Mix")
    def swatch(self, job: RenderJob) -> str:
        return recipe_swatch(job)

    @admin.display(description="View")
    def view_angle(self, job: RenderJob) -> str:
        return f"{job.view} {job.angle}°"

    @admin.display(description="Total s")
    def duration(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        return f"{telemetry.total_s:.2f}" if telemetry and telemetry.total_s else "-"

    @admin.display(description="Peak mem MB")
    def peak_memory(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        if telemetry is None:
            return "-"
        peak = telemetry.peak_device_memory_mb or telemetry.rss_peak_mb
        return f"{peak:.0f}" if peak else "-"

    @admin.display(description="Max share error pp")
    def fidelity_error(self, job: RenderJob) -> str:
        value = (job.fidelity or {}).get("max_share_error_pp")
        return "-" if value is None else f"{value:.1f}"

    @staticmethod
    def _pretty(value: Any) -> str:
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))

    @admin.display(description="Parameters")
    def params_pretty(self, job: RenderJob) -> str:
        return self._pretty(job.params)

    @admin.display(description="Colour fidelity")
    def fidelity_pretty(self, job: RenderJob) -> str:
        return self._pretty(job.fidelity) if job.fidelity else "-"

    @admin.display(description="Telemetry")
    def telemetry_pretty(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        if telemetry is None:
            return "-"
        from renders.api.serializers import TelemetrySerializer

        data = dict(TelemetrySerializer(telemetry).data)
        data.pop("timeline", None)
        return self._pretty(data)

    @admin.display(description="Resource timeline")
    def timeline_plot(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        return timeline_svg(telemetry.timeline) if telemetry else "-"

    @admin.action(description="Re-render selected jobs")
    def rerender(self, request: HttpRequest, queryset: QuerySet[RenderJob]) -> None:
        made = 0
        for job in queryset.select_related("product"):
            try:
                result = render_job_submit(
                    product_sku=job.product.sku,
                    recipe=job.recipe_canonical,
                    requester=Requester.staff(request.user),  # type: ignore[arg-type]
                    queue=RenderJob.Queue.INTERACTIVE,
                    force=True,
                    view=job.view,
                    angle=job.angle,
                    size=job.size,
                    seed=job.seed,
                    engine=job.engine,
                    quality=job.quality,
                    options=job.options,
                )
            except RenderRequestError as exc:
                messages.error(request, f"{job.pk}: {exc.message}")
                continue
            made += int(result.created)
        messages.success(request, f"Queued {made} re-render(s).")

    @admin.action(description="Cancel selected jobs")
    def cancel(self, request: HttpRequest, queryset: QuerySet[RenderJob]) -> None:
        done = 0
        for job in queryset.filter(status__in=RenderJob.ACTIVE):
            render_job_cancel(job_id=job.pk)
            done += 1
        messages.success(request, f"Canceled {done} job(s); running ones stop at their next step.")


class BulkRenderForm(forms.Form):
    recipes = forms.ModelMultipleChoiceField(
        queryset=ColorRecipe.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    size = forms.IntegerField(min_value=256, max_value=2048, initial=1024)


class TileProductRenderAdmin(TileProductAdmin):
    """The catalog's product admin plus "render all views", which needs the renders app."""

    actions = [*TileProductAdmin.actions, "render_all_views"]

    @admin.action(description="Render all views for chosen recipes")
    def render_all_views(
        self, request: HttpRequest, queryset: QuerySet[TileProduct]
    ) -> HttpResponse | None:
        form = BulkRenderForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            made = 0
            for product in queryset:
                for recipe in form.cleaned_data["recipes"]:
                    for view, angle in STANDARD_VIEWS:
                        result = render_job_submit(
                            product_sku=product.sku,
                            recipe=recipe.pk,
                            requester=Requester.staff(request.user),  # type: ignore[arg-type]
                            queue=RenderJob.Queue.BATCH,
                            view=view,
                            angle=angle,
                            size=form.cleaned_data["size"],
                        )
                        made += int(result.created)
            messages.success(request, f"Queued {made} render(s) on the batch queue.")
            return None
        return render(
            request,
            "admin/renders/bulk_render.html",
            {
                **self.admin_site.each_context(request),
                "title": "Render all views",
                "products": queryset,
                "form": form,
                "views": STANDARD_VIEWS,
                "action": "render_all_views",
                "opts": self.model._meta,
            },
        )


admin.site.unregister(TileProduct)
admin.site.register(TileProduct, TileProductRenderAdmin)
