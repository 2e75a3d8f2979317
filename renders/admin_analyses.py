"""Colour analyses in the admin: the photo, what was found, and the recipe check."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.admin import ReadOnlyAdminMixin, swatch
from catalog.palette import hex_to_rgb
from catalog.recipes import Recipe, RecipeError
from catalog.selectors import color_list, recipe_validate
from renders.errors import RenderRequestError
from renders.image_uploads import MAX_BYTES, ImageRefused, image_upload_check
from renders.models import ColourAnalysis
from renders.services.analyses import colour_analysis_submit, recipe_from_analysis
from renders.services.submit import Requester

REFRESH_S = 2  # an analysis page reloads itself this often until the analysis is done


class PhotoForm(forms.Form):
    """What staff send to be analysed: the same checks as the API."""

    image = forms.FileField(
        label=_("Photo"), help_text=_("JPEG, PNG or WebP of a tile, taken from above.")
    )
    recipe = forms.CharField(
        label=_("Recipe to check"),
        required=False,
        max_length=1000,
        help_text=_("Optional, e.g. RED:60,BLACK:40."),
    )
    tolerance_pp = forms.FloatField(
        label=_("Tolerance, pp"), initial=3.0, min_value=0.5, max_value=50.0
    )

    def clean_image(self) -> Any:
        upload = self.cleaned_data["image"]
        try:
            return image_upload_check(data=upload.read(MAX_BYTES + 1))
        except ImageRefused as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_recipe(self) -> Any:
        text = self.cleaned_data["recipe"].strip()
        if not text:
            return None
        try:
            return recipe_validate(value=text)
        except RecipeError as exc:
            raise forms.ValidationError(exc.problems) from exc


@admin.register(ColourAnalysis)
class ColourAnalysisAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["photo", "status", "found", "recipe_check", "client_label", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["id", "image_sha256", "client_label", "recipe_canonical"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "pictures",
        "status",
        "colours_table",
        "recipe_check",
        "warnings",
        "recipe_canonical",
        "tolerance_pp",
        "width",
        "height",
        "image_format",
        "image_sha256",
        "client_label",
        "source",
        "attempts",
        "worker",
        "error_code",
        "error_message",
        "created_at",
        "started_at",
        "finished_at",
        "telemetry",
    )

    change_list_template = "admin/renders/colouranalysis/change_list.html"

    class Media:
        js = ["plitka/analysis_pictures.js"]
        css = {"all": ["plitka/analysis_pictures.css"]}

    change_form_template = "admin/renders/colouranalysis/change_form.html"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("analyse/", wrap(self.analyse_view), name="renders_colouranalysis_analyse"),
            path(
                "<path:object_id>/make-recipe/",
                wrap(self.make_recipe),
                name="renders_colouranalysis_make_recipe",
            ),
            *super().get_urls(),
        ]

    def analyse_view(self, request: HttpRequest) -> HttpResponse:
        """Staff upload a photo (and a recipe to check), as the API takes them."""
        if not isinstance(request.user, User) or not self.has_view_permission(request):
            raise PermissionDenied
        # Bounded before Django spools the upload to disk, as the API's guard bounds it.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.API_MAX_UPLOAD_BYTES:
            messages.error(
                request,
                gettext("The photo is too large: at most %(limit)d bytes are accepted.")
                % {"limit": settings.API_MAX_UPLOAD_BYTES},
            )
            return redirect("admin:renders_colouranalysis_analyse")
        form = PhotoForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                analysis = colour_analysis_submit(
                    image=form.cleaned_data["image"],
                    recipe=form.cleaned_data["recipe"],
                    tolerance_pp=form.cleaned_data["tolerance_pp"],
                    requester=Requester.staff(request.user),
                )
            except RenderRequestError as exc:
                messages.error(request, exc.message)
            else:
                return redirect("admin:renders_colouranalysis_change", analysis.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Analyse a photo"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/renders/colouranalysis/analyse.html", context)

    def make_recipe(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The analysis page's button: its nearest stock mix as a new recipe, to edit."""
        if request.method != "POST" or not isinstance(request.user, User):
            raise PermissionDenied
        analysis = self.get_object(request, object_id)
        if analysis is None:
            raise Http404("no such analysis")
        try:
            recipe = recipe_from_analysis(analysis=analysis, created_by=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("admin:renders_colouranalysis_change", analysis.pk)
        messages.success(
            request, gettext("Made recipe “%(name)s”: rename it here.") % {"name": recipe.name}
        )
        return redirect("admin:catalog_colorrecipe_change", recipe.pk)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ColourAnalysis | None = None,
    ) -> HttpResponse:
        context["analysis_pending"] = obj is not None and not obj.is_terminal
        context["refresh_s"] = REFRESH_S
        context["can_make_recipe"] = bool(
            obj is not None and (obj.result or {}).get("nearest_stock_mix")
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("Photo"))
    def photo(self, analysis: ColourAnalysis) -> str:
        return format_html(
            '<img src="{}" style="width:72px;height:72px;object-fit:cover;border-radius:4px">',
            analysis.image.url,
        )

    @admin.display(description=_("Pictures"))
    def pictures(self, analysis: ColourAnalysis) -> str:
        """The photo, where the tile was found, and what each granule was counted as."""
        stored = (analysis.result or {}).get("pictures") or {}
        panels = [(_("Photo"), analysis.image.url, "")]
        if stored.get("tile_mask"):
            panels.append((_("Tile mask"), default_storage.url(stored["tile_mask"]), ""))
        if stored.get("colour_map"):
            panels.append(
                (_("Counted as"), default_storage.url(stored["colour_map"]), "data-colour-map")
            )
        figures = format_html_join(
            "",
            '<figure class="analysis-picture"><img src="{}" alt="{}" {}>'
            "<figcaption>{}</figcaption></figure>",
            ((url, caption, mark, caption) for caption, url, mark in panels),
        )
        note = ""
        if len(panels) > 1:
            note = format_html(
                '<p class="help">{}</p>',
                _(
                    "Outlined in cyan: the tile as found. Hatched: tile left out of the count "
                    "(side walls, a rim too blurred to read). Point at a colour in the table "
                    "to see only its granules."
                ),
            )
        return format_html('<div class="analysis-pictures">{}</div>{}', figures, note)

    @admin.display(description=_("Found"))
    def found(self, analysis: ColourAnalysis) -> str:
        shares = (analysis.result or {}).get("shares") or {}
        return ", ".join(f"{code} {share:.0f} %" for code, share in shares.items()) or "-"

    @admin.display(description=_("Recipe check"))
    def recipe_check(self, analysis: ColourAnalysis) -> str:
        check = (analysis.result or {}).get("check")
        if not check:
            return "-"
        passed = bool(check.get("passed"))
        return format_html(
            '{}: {} pp <span style="padding:1px 6px;border-radius:8px;color:#fff;'
            'background:{}">{}</span>',
            check.get("recipe"),
            check.get("max_share_error_pp"),
            "#2e7d32" if passed else "#c62828",
            _("pass") if passed else _("fail"),
        )

    @admin.display(description=_("Colours found"))
    def colours_table(self, analysis: ColourAnalysis) -> str:
        """The colours found, each beside its share in the recipe checked, if one was."""
        result = analysis.result or {}
        colours = result.get("colours") or []
        check = result.get("check") or {}
        recipe = (
            {c.code: c.percent for c in Recipe.from_canonical(analysis.recipe_canonical).components}
            if analysis.recipe_canonical
            else {}
        )
        if not colours and not recipe:
            return "-"
        found = {c["code"]: c for c in colours}
        codes = [c["code"] for c in colours] + [code for code in recipe if code not in found]
        hexes = dict(color_list(include_inactive=True).values_list("code", "hex"))
        rows = format_html_join(
            "",
            '<tr data-rgb="{}" tabindex="0"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td>{}</tr>",
            (
                (
                    _rgb_list(hexes.get(code, "")),
                    swatch(hexes.get(code, "#ffffff"), width="1.5em"),
                    code,
                    f"{found[code]['percent']} %" if code in found else "-",
                    found[code]["confidence"] if code in found else "-",
                    (found[code].get("runner_up") or "-") if code in found else "-",
                    _recipe_cells(code, recipe, check),
                )
                for code in codes
            ),
        )
        recipe_heads = (
            format_html("<th>{}</th><th>{}</th>", _("In the recipe"), _("Told the recipe"))
            if recipe
            else ""
        )
        return format_html(
            '<table class="analysis-colours"><tr><th></th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th>{}</tr>{}</table>",
            _("Colour"),
            _("Share"),
            _("Confidence"),
            _("Could be"),
            recipe_heads,
            rows,
        )

    @admin.display(description=_("Warnings"))
    def warnings(self, analysis: ColourAnalysis) -> str:
        return "; ".join((analysis.result or {}).get("warnings") or []) or "-"


def _rgb_list(hex_code: str) -> str:
    """'#D05042' as '208,80,66': the colour map's pixels of that colour, for its script."""
    return ",".join(str(v) for v in hex_to_rgb(hex_code)) if hex_code else ""


def _recipe_cells(code: str, recipe: dict[str, int], check: dict[str, Any]) -> str:
    """A colour's share in the recipe, and as measured told the recipe (the accurate path)."""
    if not recipe:
        return ""
    told = (check.get("shares") or {}).get(code)
    return format_html(
        "<td>{}</td><td>{}</td>",
        f"{recipe[code]} %" if code in recipe else "-",
        f"{told} %" if told is not None else "-",
    )
