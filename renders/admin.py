"""Render history in the admin: read-only audit, with re-render, cancel and bulk render."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.admin import (
    ReadOnlyAdminMixin,
    mix_strip,
    product_action_register,
    recipe_action_register,
)
from catalog.models import ColorRecipe, TileProduct
from gpu_worker.engines.diffusion.options import OptionError, diffusion_options_parse
from gpu_worker.param_kinds import ChoiceParam
from gpu_worker.params import RenderParams, render_param_declarations
from renders import (
    admin_analyses,  # noqa: F401 (registers the analyses' admin)
    admin_experiments,  # noqa: F401 (registers the experiments' admin)
    admin_webhooks,  # noqa: F401 (registers the webhooks' admin)
)
from renders.admin_forms import BulkParamsForm, BulkRenderForm, RecipeRenderForm
from renders.errors import RenderRequestError
from renders.models import ModelProfile, RenderJob, RenderTelemetry, Worker
from renders.plots import timeline_svg
from renders.selectors import (
    render_jobs_with_param,
    render_requests_of,
    render_telemetry_summary,
)
from renders.services import Requester, SubmitResult, render_job_cancel, render_job_resubmit
from renders.services.bulk import STANDARD_VIEWS, BulkReport, product_render_all_views
from renders.services.profiles import is_profile_name, profile_options


def recipe_swatch(job: RenderJob, *, width_em: int = 10) -> str:
    colours = job.palette_snapshot
    return mix_strip(
        (
            (c.code, c.percent, colours.get(c.code, {}).get("hex", "#888888"))
            for c in job.recipe_rendered.components
        ),
        width_em=width_em,
    )


REFRESH_S = 2  # how often a page showing a job on its way reloads itself


def _rerender(request: HttpRequest, job: RenderJob) -> SubmitResult:
    """The same request as `job`, as a new job on the interactive queue (the job page's
    button and the list's action)."""
    return render_job_resubmit(
        job=job,
        requester=_staff_requester(request),
        queue=RenderJob.Queue.INTERACTIVE,
        force=True,
        follow_catalog=False,
    )


# The colour targets a render is held to (README, "Renders": the fidelity fields).
SHARE_TARGET_PP = 3.0
APPEARANCE_TARGET_DE = 4.0


def _number(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "-"


def _difference(measured: object, percent: int) -> float | None:
    return abs(float(measured) - percent) if isinstance(measured, int | float) else None


def _share_of_picture(fraction: object) -> str:
    return f"{float(fraction) * 100:.0f} %" if isinstance(fraction, int | float) else "-"


def _badge(value: float | None, target: float, unit: str) -> str:
    """The value with a green "pass" or red "over" badge against its target."""
    if value is None:
        return "-"
    passed = value <= target
    return format_html(
        '{} {} <span style="padding:1px 6px;border-radius:8px;color:#fff;'
        'background:{};font-size:10px">{}</span>',
        f"{value:.1f}",
        unit,
        "#2e7d32" if passed else "#c62828",
        "pass" if passed else "over",
    )


def _telemetry_value(name: str, value: Any) -> str:
    """A telemetry value with its unit, as its field's name says it (`_s`, `_mb`, ...)."""
    if value is None or value == {}:
        return "-"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dict):
        return format_html_join(", ", "{} {}", value.items())
    if name.endswith("_s"):
        return f"{value:.3f} s"
    if name.endswith("_mb"):
        return f"{value:,.0f} MB"
    if "util" in name or "percent" in name:
        return f"{value:.0f} %"
    return str(value)


def _staff_requester(request: HttpRequest) -> Requester:
    """The admin lets only signed-in staff reach its actions: the user is a real one."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return Requester.staff(request.user)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _param_filter(name: str, param: ChoiceParam) -> type[admin.SimpleListFilter]:
    """A sidebar filter on one choice parameter, read from the job's params JSON."""

    def lookups(self: Any, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(choice, choice) for choice in param.options()]

    def queryset(self: Any, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return render_jobs_with_param(jobs=queryset, name=name, value=value) if value else queryset

    attrs = {
        "title": name,
        "parameter_name": name,
        "lookups": lookups,
        "queryset": queryset,
    }
    return type(f"{name.title()}ParamFilter", (admin.SimpleListFilter,), attrs)


PARAM_FILTERS = [
    _param_filter(name, param)
    for name, param in render_param_declarations()
    if isinstance(param, ChoiceParam)
]


@admin.register(RenderJob)
class RenderJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Nine short columns: the list fits a 1280 px screen beside the admin's side bar.
    list_display = [
        "preview",
        "status_progress",
        "product_sku",
        "swatch",
        "what",
        "cost",
        "fidelity_error",
        "asked_by_whom",
        "created",
    ]
    list_filter = ["status", "error_code", *PARAM_FILTERS, "source", "queue", "product__shape"]
    search_fields = [
        "id",
        "product__sku",
        "params__recipe",
        "render_key",
        "client_label",
        "worker",
    ]
    list_select_related = ["product", "telemetry"]
    date_hierarchy = "created_at"
    actions = ["rerender", "cancel"]
    fieldsets = [
        (
            _("Result"),
            {
                "fields": [
                    "preview_large",
                    "status",
                    "progress_bar",
                    "fidelity_pretty",
                    "error_code",
                    "error_message",
                ]
            },
        ),
        (
            _("What was rendered"),
            {
                "fields": [
                    "product",
                    "recipe",
                    "recipe_canonical",
                    "swatch",
                    "params_table",
                    "seed_derived",
                    "engine_version",
                    "model_revision",
                    "tile_pretty",
                    "render_key",
                ]
            },
        ),
        (
            _("Who and where"),
            {
                "fields": [
                    "id",
                    "queue",
                    "source",
                    "requested_by",
                    "client_label",
                    "asked_by",
                    "attempts",
                    "cancel_requested",
                    "worker",
                    "device",
                ]
            },
        ),
        (
            _("When"),
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
        (_("Telemetry"), {"fields": ["telemetry_pretty", "timeline_plot"]}),
    ]

    # History is evidence: read-only here; retention is prune_render_history's job.
    readonly_fields = [
        name
        for _, options in fieldsets
        for entry in options["fields"]
        for name in ([entry] if isinstance(entry, str) else entry)
    ]

    # The job page and the list reload themselves while a job they show is on its way.
    change_form_template = "admin/renders/renderjob/change_form.html"
    change_list_template = "admin/renders/renderjob/change_list.html"

    @admin.display(description=_("Status"), ordering="status")
    def status_progress(self, job: RenderJob) -> str:
        if job.status != RenderJob.Status.RUNNING:
            return job.get_status_display()
        return format_html(
            '{}<br><progress value="{}" max="100" style="width:90px">{} %</progress>',
            job.get_status_display(),
            job.progress,
            job.progress,
        )

    @admin.display(description=_("Progress"))
    def progress_bar(self, job: RenderJob) -> str:
        return format_html(
            '<progress value="{}" max="100" style="width:240px">{} %</progress> {} %',
            job.progress,
            job.progress,
            job.progress,
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: RenderJob | None = None,
    ) -> HttpResponse:
        # The job the page already read: whether it is on its way decides the reload.
        context["job_active"] = obj is not None and obj.status in RenderJob.ACTIVE
        context["refresh_s"] = REFRESH_S
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            shown = context["cl"].result_list
            context["refresh_s"] = REFRESH_S
            context["jobs_active"] = any(job.status in RenderJob.ACTIVE for job in shown)
        return response

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/rerender/",
                wrap(self.rerender_one),
                name="renders_renderjob_rerender",
            ),
            path(
                "<path:object_id>/cancel/", wrap(self.cancel_one), name="renders_renderjob_cancel"
            ),
            *super().get_urls(),
        ]

    def rerender_one(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The job page's Re-render button: the same request again, as a new job."""
        job = self._posted_job(request, object_id)
        try:
            result = _rerender(request, job)
        except RenderRequestError as exc:
            messages.error(request, exc.message)
            return redirect("admin:renders_renderjob_change", job.pk)
        messages.success(request, gettext("Queued a new render of the same request."))
        return redirect("admin:renders_renderjob_change", result.job.pk)

    def cancel_one(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The job page's Cancel button (a queued job at once, a running one at its next step)."""
        job = self._posted_job(request, object_id)
        try:
            render_job_cancel(job_id=job.pk)
        except RenderRequestError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Canceled; a running render stops at its next step."))
        return redirect("admin:renders_renderjob_change", job.pk)

    def _posted_job(self, request: HttpRequest, object_id: str) -> RenderJob:
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        job = self.get_object(request, object_id)  # None for an unknown or malformed id
        if job is None:
            raise Http404("no such render job")
        return job

    @admin.display(description="")
    def preview(self, job: RenderJob) -> str:
        if not job.result_thumbnail:
            return "-"
        return format_html('<img src="{}" style="height:56px" alt="">', job.result_thumbnail.url)

    @admin.display(description=_("Image"))
    def preview_large(self, job: RenderJob) -> str:
        if not job.result_image:
            return "-"
        return format_html(
            '<a href="{0}"><img src="{1}" style="max-height:256px" alt=""></a>',
            job.result_image.url,
            job.result_thumbnail.url if job.result_thumbnail else job.result_image.url,
        )

    @admin.display(description=_("Asked for by"))
    def asked_by(self, job: RenderJob) -> str:
        """Every client waiting for (or that withdrew from) this shared render."""
        requests = render_requests_of(job_id=job.pk)
        if not requests:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            "{} <small>since {:%Y-%m-%d %H:%M}{}</small>",
            (
                (
                    r.client_label or r.client_id,
                    r.created_at,
                    f", withdrawn {r.withdrawn_at:%Y-%m-%d %H:%M}" if r.withdrawn_at else "",
                )
                for r in requests
            ),
        )

    @admin.display(description=_("Mix"))
    def swatch(self, job: RenderJob) -> str:
        return recipe_swatch(job, width_em=6)

    @admin.display(description=_("Product"), ordering="product__sku")
    def product_sku(self, job: RenderJob) -> str:
        return job.product.sku

    @admin.display(description=_("Render"))
    def what(self, job: RenderJob) -> str:
        params = job.render_params
        return format_html("{} {}°<br><small>{}</small>", params.view, params.angle, params.engine)

    @admin.display(description=_("Time, memory"))
    def cost(self, job: RenderJob) -> str:
        return format_html(
            "{} s<br><small>{} MB</small>", self.duration(job), self.peak_memory(job)
        )

    @admin.display(description=_("Asked"), ordering="created_at")
    def created(self, job: RenderJob) -> str:
        moment = timezone.localtime(job.created_at)
        return format_html("{}<br><small>{}</small>", f"{moment:%Y-%m-%d}", f"{moment:%H:%M:%S}")

    @admin.display(description=_("Asked by"), ordering="client_label")
    def asked_by_whom(self, job: RenderJob) -> str:
        return format_html("{}<br><small>{}</small>", job.client_label or "-", job.source)

    @admin.display(description=_("Recipe rendered"))
    def recipe_canonical(self, job: RenderJob) -> str:
        return job.recipe_canonical

    @admin.display(description=_("Total s"))
    def duration(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        return f"{telemetry.total_s:.2f}" if telemetry and telemetry.total_s else "-"

    @admin.display(description=_("Peak mem MB"))
    def peak_memory(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        if telemetry is None:
            return "-"
        peak = telemetry.peak_device_memory_mb or telemetry.rss_peak_mb
        return f"{peak:.0f}" if peak else "-"

    @admin.display(description=_("Error pp"))
    def fidelity_error(self, job: RenderJob) -> str:
        value = (job.fidelity or {}).get("max_share_error_pp")
        return "-" if value is None else f"{value:.1f}"

    @staticmethod
    def _pretty(value: Any) -> str:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        return format_html("<pre>{}</pre>", text)

    @admin.display(description=_("Render parameters"))
    def params_table(self, job: RenderJob) -> str:
        values = job.render_params.as_dict()
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td style='color:#666'>{}</td></tr>",
            (
                (name, _shown(values[name]), param.describe())
                for name, param in render_param_declarations()
            ),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description=_("Product geometry as rendered"))
    def tile_pretty(self, job: RenderJob) -> str:
        return self._pretty(job.params["product"])

    @admin.display(description=_("Colour fidelity"))
    def fidelity_pretty(self, job: RenderJob) -> str:
        """Recipe against measurement, colour by colour, with a badge per target."""
        fidelity = job.fidelity or {}
        shares, delta_e = fidelity.get("shares") or {}, fidelity.get("delta_e00") or {}
        if not shares:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} %</td><td>{} %</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    code,
                    percent,
                    _number(shares.get(code)),
                    _badge(_difference(shares.get(code), percent), SHARE_TARGET_PP, "pp"),
                    _number(delta_e.get(code)),
                )
                for code, percent in ((c.code, c.percent) for c in job.recipe_rendered.components)
            ),
        )
        appearance = fidelity.get("appearance_delta_e00")
        return format_html(
            "<table><thead><tr><th>Colour</th><th>Recipe</th><th>Measured</th>"
            "<th>Error (target ≤ {} pp)</th><th>ΔE2000 to its palette colour</th></tr></thead>"
            "<tbody>{}</tbody></table>"
            "<p>Whole face against the recipe's mix: {} (target ≤ {} ΔE2000). The tile covers "
            "{} of the picture.</p>",
            SHARE_TARGET_PP,
            rows,
            _badge(appearance, APPEARANCE_TARGET_DE, "ΔE"),
            APPEARANCE_TARGET_DE,
            _share_of_picture(fidelity.get("tile_fraction")),
        )

    @admin.display(description=_("Telemetry"))
    def telemetry_pretty(self, job: RenderJob) -> str:
        """Each recorded field by its name, with its unit and what it measures."""
        telemetry = getattr(job, "telemetry", None)
        if telemetry is None:
            return "-"
        values = render_telemetry_summary(telemetry)
        rows = format_html_join(
            "",
            "<tr><th><code>{}</code></th><td style='text-align:right'>{}</td>"
            "<td style='color:#666'>{}</td></tr>",
            (
                (field.name, _telemetry_value(field.name, values[field.name]), field.help_text)
                for field in RenderTelemetry._meta.concrete_fields
                if field.name in values and field.name != "created_at"
            ),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description=_("Resource timeline"))
    def timeline_plot(self, job: RenderJob) -> str:
        telemetry = getattr(job, "telemetry", None)
        return timeline_svg(telemetry.timeline) if telemetry else "-"

    @admin.action(description=_("Re-render selected jobs"))
    def rerender(self, request: HttpRequest, queryset: QuerySet[RenderJob]) -> None:
        made = 0
        for job in queryset.select_related("product"):
            try:
                result = _rerender(request, job)
            except RenderRequestError as exc:
                messages.error(request, f"{job.pk}: {exc.message}")
                continue
            made += int(result.created)
        messages.success(request, gettext("Queued %(count)d re-render(s).") % {"count": made})

    @admin.action(description=_("Cancel selected jobs"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[RenderJob]) -> None:
        done = 0
        for job in queryset.filter(status__in=RenderJob.ACTIVE):
            render_job_cancel(job_id=job.pk)
            done += 1
        messages.success(
            request,
            gettext("Canceled %(count)d job(s); running ones stop at their next step.")
            % {"count": done},
        )


def _jobs_link(ids: list[uuid.UUID], text: str) -> str:
    """`text`, linked to the job list showing exactly these jobs (when they fit a URL)."""
    if not ids:
        return text
    if len(ids) > BULK_LINK_MAX:
        return f"{text} (see the job list)"
    url = reverse("admin:renders_renderjob_changelist") + "?id__in=" + ",".join(map(str, ids))
    return format_html('<a href="{}">{}</a>', url, text)


BULK_LINK_MAX = 100  # ids in one link (a UUID is 36 characters)


def _bulk_message(report: BulkReport) -> str:
    return format_html(
        gettext("{} on the batch queue; {}; {}."),
        _jobs_link(
            report.queued, gettext("Queued %(count)d new render(s)") % {"count": len(report.queued)}
        ),
        _jobs_link(
            report.in_progress,
            gettext("%(count)d already being rendered") % {"count": len(report.in_progress)},
        ),
        _jobs_link(
            report.up_to_date,
            gettext("%(count)d already up to date") % {"count": len(report.up_to_date)},
        ),
    )


def _bulk_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    form: BulkParamsForm,
    template: str,
    context: dict[str, Any],
    submit: Callable[[dict[str, Any], RenderParams, Requester], BulkReport],
) -> HttpResponse | None:
    """A bulk render action: the chooser page, then, once it comes back valid, the renders
    and a message that links to them (None sends the admin back to its list)."""
    if "apply" in request.POST and form.is_valid():
        try:
            report = submit(
                form.cleaned_data, RenderParams(**form.render_values()), _staff_requester(request)
            )
        except RenderRequestError as exc:
            messages.error(request, exc.message)
            return None
        messages.success(request, _bulk_message(report))
        return None
    return render(
        request,
        template,
        {
            **modeladmin.admin_site.each_context(request),
            "form": form,
            "opts": modeladmin.model._meta,
            **context,
        },
    )


@product_action_register
@admin.action(description=_("Render all views for chosen recipes"))
def render_all_views(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[TileProduct]
) -> HttpResponse | None:
    return _bulk_action(
        modeladmin,
        request,
        form=BulkRenderForm(request.POST if "apply" in request.POST else None),
        template="admin/renders/bulk_render.html",
        context={
            "title": "Render all views",
            "products": queryset,
            "views": STANDARD_VIEWS,
            "action": "render_all_views",
        },
        submit=lambda chosen, params, requester: product_render_all_views(
            products=queryset, recipes=chosen["recipes"], params=params, requester=requester
        ),
    )


@recipe_action_register
@admin.action(description=_("Render for chosen products and views"))
def render_recipes(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ColorRecipe]
) -> HttpResponse | None:
    """ "Render this recipe" (the recipe page's button), or several chosen in the list."""
    form = RecipeRenderForm(request.POST if "apply" in request.POST else None)
    return _bulk_action(
        modeladmin,
        request,
        form=form,
        template="admin/renders/recipe_render.html",
        context={"title": "Render recipes", "recipes": queryset, "action": "render_recipes"},
        submit=lambda chosen, params, requester: product_render_all_views(
            products=chosen["products"],
            recipes=queryset,
            params=params,
            requester=requester,
            views=form.chosen_views(),
        ),
    )


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The render workers as they last reported themselves: device, memory, loaded models."""

    list_display = [
        "name",
        "device",
        "alive",
        "current_job",
        "models_loaded",
        "device_memory",
        "memory_budget_mb",
        "rss_mb",
        "last_heartbeat",
    ]
    search_fields = ["name", "hostname", "device"]

    @admin.display(boolean=True, description=_("Alive"))
    def alive(self, worker: Worker) -> bool:
        return worker.alive

    @admin.display(description=_("Models loaded"))
    def models_loaded(self, worker: Worker) -> str:
        entries = worker.loaded_pipelines or []
        if not entries:
            return "-"
        return format_html_join(
            ", ",
            '<span title="{}">{} ({})</span>',
            (
                (e.get("revision", ""), str(e.get("model", "")).rsplit("/", 1)[-1], e.get("device"))
                for e in entries
            ),
        )

    @admin.display(description=_("Device memory MB (used / total)"))
    def device_memory(self, worker: Worker) -> str:
        used, total = worker.device_memory_used_mb, worker.device_memory_total_mb
        if used is None and total is None:
            return "-"
        return f"{used if used is not None else '?'} / {total if total is not None else '?'}"


PROFILE_FIELDS = {
    "name",
    "base_model",
    "revision",
    "textual_inversions",
    "loras",
    "controlnets",
    "control_by_angle",
    "dtype",
    "scheduler",
    "preset_steps",
    "prompt",
}


class ModelProfileForm(forms.ModelForm):
    class Meta:
        model = ModelProfile
        fields = [*sorted(PROFILE_FIELDS), "is_active", "notes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        profile = ModelProfile(**{k: v for k, v in data.items() if k in PROFILE_FIELDS})
        if not is_profile_name(data.get("name", "")):
            raise forms.ValidationError("A profile's name has no path separators.")
        # Every angle the table can pick, checked the way a job's options are.
        try:
            rows = profile.control_by_angle or []
            angles = sorted({0, *(int(row.get("up_to", 359)) for row in rows)})
        except (TypeError, ValueError, AttributeError) as exc:
            raise forms.ValidationError(
                'Control by angle must be a list of rows like {"up_to": 44, "type": "canny", '
                '"scale": 0.5}.'
            ) from exc
        for angle in angles:
            try:
                options = profile_options(profile=profile, options={"model": "-"}, angle=angle)
                diffusion_options_parse(options)
            except (OptionError, RenderRequestError, TypeError, ValueError, AttributeError) as exc:
                raise forms.ValidationError(f"At {angle} degrees: {exc}") from exc
        return data


@admin.register(ModelProfile)
class ModelProfileAdmin(admin.ModelAdmin):
    """Diffusion model profiles: staff edit them; jobs copy them when they are asked for."""

    form = ModelProfileForm
    list_display = ["name", "base_model", "revision", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "base_model", "notes"]
