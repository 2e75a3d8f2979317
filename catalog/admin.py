from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.admin_forms import (
    COLOR_DATALIST_ID,
    ColorRecipeForm,
    RecipeComponentForm,
    RecipeComponentFormSet,
)
from catalog.models import CatalogImage, Color, ColorRecipe, RecipeComponent, TileProduct
from catalog.selectors import (
    catalog_images_of,
    color_list,
    products_with_cover,
    recipes_with_same_mix,
)
from catalog.services import recipe_update


def swatch(hex_code: str, *, width: str = "2.5em") -> str:
    return format_html(
        '<span style="display:inline-block;width:{};height:1.2em;background:{};'
        'border:1px solid #888;vertical-align:middle"></span>',
        width,
        hex_code,
    )


def mix_strip(parts: Iterable[tuple[str, int, str]], *, width_em: int = 10) -> str:
    """A bar whose segments, given as (code, percent, hex), are as wide as each percent."""
    segments = format_html_join(
        "",
        '<span title="{} {} %" style="display:inline-block;height:1.2em;width:{}%;'
        'background:{}"></span>',
        ((code, percent, percent, hex_code) for code, percent, hex_code in parts),
    )
    return format_html(
        '<span style="display:inline-flex;width:{}em;border:1px solid #888">{}</span>',
        width_em,
        segments,
    )


def recipe_strip(recipe: ColorRecipe) -> str:
    return mix_strip((c.color.code, c.percent, c.color.hex) for c in recipe.components.all())


class ReadOnlyAdminMixin:
    """For records that are evidence: shown in the admin, never added, edited or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Color)
class ColorAdmin(admin.ModelAdmin):
    list_display = ["swatch", "code", "name_en", "name_ru", "hex", "lab_display", "is_active"]
    list_display_links = ["code"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_en", "name_ru"]
    readonly_fields = ["swatch"]

    @admin.display(description="")
    def swatch(self, color: Color) -> str:
        return swatch(color.hex)

    @admin.display(description=_("CIELAB"))
    def lab_display(self, color: Color) -> str:
        return f"{color.lab_l:.1f}, {color.lab_a:.1f}, {color.lab_b:.1f}"


# Actions that other apps contribute (renders adds "render all views" to products and
# "render this recipe" to recipes): they register here, so the catalog never imports the
# apps that build on it.
AdminAction = Callable[[admin.ModelAdmin, HttpRequest, QuerySet[Any]], Any]
_contributed_actions: dict[type[models.Model], list[AdminAction]] = defaultdict(list)


def _action_register(model: type[models.Model]) -> Callable[[AdminAction], AdminAction]:
    def register(action: AdminAction) -> AdminAction:
        """Add an admin action (decorated with @admin.action) to the model's list."""
        if action not in _contributed_actions[model]:
            _contributed_actions[model].append(action)
        return action

    return register


product_action_register = _action_register(TileProduct)
recipe_action_register = _action_register(ColorRecipe)


class ContributedActionsMixin:
    """Lists the actions other apps registered for this admin's model."""

    model: type[models.Model]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        if not actions:  # popups and users without change permission get none
            return actions
        for action in _contributed_actions[self.model]:
            found = self.get_action(action)  # type: ignore[attr-defined]
            if found is not None and self.has_change_permission(request):  # type: ignore[attr-defined]
                func, name, description = found
                actions[name] = (func, name, description)
        return actions


GALLERY_MAX = 60  # pictures on a product's page, current and past each
_GALLERY_CARD = (
    '<figure style="margin:0;width:180px"><a href="{}"><img src="{}" alt="" '
    'style="width:180px;height:180px;object-fit:cover;border-radius:4px"></a>'
    '<figcaption style="font-size:11px;line-height:1.4">{}<br>{} {}°, {} px<br>{}{}'
    "</figcaption></figure>"
)


def _card(image: CatalogImage) -> tuple[object, ...]:
    fidelity = image.fidelity or {}
    error = fidelity.get("max_share_error_pp")
    when = image.superseded_at or image.created_at
    job = (
        format_html(
            '<br><a href="{}">job</a>',
            reverse("admin:renders_renderjob_change", args=[image.render_job_id]),
        )
        if image.render_job_id
        else ""
    )
    return (
        image.image.url,
        (image.thumbnail or image.image).url,
        image.recipe_canonical,
        image.view,
        image.angle,
        image.width,
        f"{when:%Y-%m-%d %H:%M}" + (f", share error {error:.1f} pp" if error is not None else ""),
        job,
    )


def _gallery(images: list[CatalogImage], *, empty: str, faded: bool = False) -> str:
    if not images:
        return empty
    return format_html(
        '<div style="display:flex;flex-wrap:wrap;gap:12px;opacity:{}">{}</div>',
        ".75" if faded else "1",
        format_html_join("", _GALLERY_CARD, (_card(image) for image in images)),
    )


@admin.register(TileProduct)
class TileProductAdmin(ContributedActionsMixin, admin.ModelAdmin):
    list_display = [
        "cover",
        "sku",
        "name",
        "shape",
        "size_display",
        "granule_size",
        "is_published",
    ]
    list_display_links = ["sku"]
    list_filter = ["shape", "granule_size", "is_published"]
    search_fields = ["sku", "name"]
    actions = ["publish", "unpublish"]
    readonly_fields = ["gallery", "history"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TileProduct]:
        return products_with_cover(super().get_queryset(request))

    @admin.display(description="")
    def cover(self, product: TileProduct) -> str:
        name = getattr(product, "cover_thumbnail", "")
        if not name:
            return "-"
        return format_html('<img src="{}" style="height:48px" alt="">', default_storage.url(name))

    @admin.display(description=_("Pictures shown now"))
    def gallery(self, product: TileProduct) -> str:
        return _gallery(
            catalog_images_of(product=product, current=True, limit=GALLERY_MAX),
            empty="No pictures yet: render this product from the list's actions.",
        )

    @admin.display(description=_("Shown before"))
    def history(self, product: TileProduct) -> str:
        images = catalog_images_of(product=product, current=False, limit=GALLERY_MAX)
        return _gallery(images, empty="-", faded=True)

    @admin.display(description=_("W x H x T, mm"))
    def size_display(self, product: TileProduct) -> str:
        return f"{product.width_mm} x {product.height_mm} x {product.thickness_mm}"

    @admin.action(description=_("Publish selected products"))
    def publish(self, request: HttpRequest, queryset: QuerySet[TileProduct]) -> None:
        count = queryset.update(is_published=True)
        messages.success(request, gettext("Published %(count)d product(s).") % {"count": count})

    @admin.action(description=_("Unpublish selected products"))
    def unpublish(self, request: HttpRequest, queryset: QuerySet[TileProduct]) -> None:
        count = queryset.update(is_published=False)
        messages.success(request, gettext("Unpublished %(count)d product(s).") % {"count": count})


class RecipeComponentInline(admin.TabularInline):
    model = RecipeComponent
    form = RecipeComponentForm
    formset = RecipeComponentFormSet
    extra = 3
    max_num = 8


@admin.register(ColorRecipe)
class ColorRecipeAdmin(ContributedActionsMixin, admin.ModelAdmin):
    list_display = ["name", "strip", "canonical", "created_by", "created_at"]
    search_fields = ["name", "canonical"]
    form = ColorRecipeForm
    readonly_fields = [
        "canonical",
        "total_percent",
        "strip",
        "same_mix",
        "created_by",
        "created_at",
    ]
    fields = ["name", "canonical", "total_percent", "strip", "same_mix", "created_by", "created_at"]
    inlines = [RecipeComponentInline]
    change_form_template = "admin/catalog/colorrecipe/change_form.html"

    class Media:
        js = ["plitka/words.js", "plitka/recipe_editor.js"]
        css = {"all": ["plitka/recipe_editor.css"]}

    @admin.display(description=_("Same mix as"))
    def same_mix(self, recipe: ColorRecipe) -> str:
        others = recipes_with_same_mix(canonical=recipe.canonical, exclude_pk=recipe.pk)
        if not recipe.pk or not others:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:catalog_colorrecipe_change", args=[other.pk]), other.name)
                for other in others
            ),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ColorRecipe]:
        return super().get_queryset(request).prefetch_related("components__color")

    @admin.display(description=_("Mix"))
    def strip(self, recipe: ColorRecipe) -> str:
        return recipe_strip(recipe) if recipe.pk else "-"

    @admin.display(description=_("Sum of percents"))
    def total_percent(self, recipe: ColorRecipe) -> str:
        return f"{sum(c.percent for c in recipe.components.all())} %" if recipe.pk else "-"

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        colours = color_list()
        extra_context = {
            **(extra_context or {}),
            "color_datalist_id": COLOR_DATALIST_ID,
            "color_choices": colours,
            # The editor's swatches, chips and preview (plitka/recipe_editor.js).
            "palette": [
                {"code": c.code, "name_en": c.name_en, "name_ru": c.name_ru, "hex": c.hex}
                for c in colours
            ],
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: ColorRecipe, form: Any, change: bool) -> None:
        if not change and isinstance(request.user, User):  # always: the admin signs users in
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if isinstance(formset, RecipeComponentFormSet) and formset.parsed is not None:
            # The service writes components and the canonical form in one place.
            recipe_update(recipe_row=form.instance, name=form.instance.name, recipe=formset.parsed)
            others = recipes_with_same_mix(
                canonical=form.instance.canonical, exclude_pk=form.instance.pk
            )
            if others:
                names = ", ".join(f"“{other.name}”" for other in others)
                messages.warning(
                    request,
                    gettext("The same mix (%(mix)s) is also stored as %(names)s.")
                    % {"mix": form.instance.canonical, "names": names},
                )
            # The admin's change message reads these; the service did the writing.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_formset(request, form, formset, change)


@admin.register(CatalogImage)
class CatalogImageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each product shows; history rows are kept and cannot be edited here."""

    list_display = [
        "preview",
        "product",
        "recipe_canonical",
        "view",
        "angle",
        "is_current",
        "created_at",
        "render_job_id",
    ]
    list_filter = ["is_current", "view", "product__shape"]
    search_fields = ["product__sku", "recipe_canonical", "render_key"]
    list_select_related = ["product"]

    @admin.display(description="")
    def preview(self, image: CatalogImage) -> str:
        source = image.thumbnail or image.image
        if not source:
            return "-"
        return format_html('<img src="{}" style="height:64px" alt="">', source.url)
