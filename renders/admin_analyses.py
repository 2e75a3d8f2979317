"""Colour analyses in the admin: the photo, what was found, and the recipe check."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from catalog.admin import ReadOnlyAdminMixin
from renders.models import ColourAnalysis


@admin.register(ColourAnalysis)
class ColourAnalysisAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["photo", "status", "found", "recipe_check", "client_label", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["id", "image_sha256", "client_label", "recipe_canonical"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "photo_large",
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

    @admin.display(description=_("Photo"))
    def photo(self, analysis: ColourAnalysis) -> str:
        return format_html(
            '<img src="{}" style="width:72px;height:72px;object-fit:cover;border-radius:4px">',
            analysis.image.url,
        )

    @admin.display(description=_("Photo"))
    def photo_large(self, analysis: ColourAnalysis) -> str:
        return format_html('<img src="{}" style="max-width:480px">', analysis.image.url)

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
        colours = (analysis.result or {}).get("colours") or []
        if not colours:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} %</td><td>{}</td><td>{}</td></tr>",
            (
                (c["code"], c["percent"], c["confidence"], c.get("runner_up") or "-")
                for c in colours
            ),
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("Colour"),
            _("Share"),
            _("Confidence"),
            _("Could be"),
            rows,
        )

    @admin.display(description=_("Warnings"))
    def warnings(self, analysis: ColourAnalysis) -> str:
        return "; ".join((analysis.result or {}).get("warnings") or []) or "-"
