"""Reads of the catalog. Callers decide visibility; selectors only apply it."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Length

from catalog.models import CatalogImage, Color, ColorRecipe, TileProduct
from catalog.palette import PaletteColor
from catalog.recipes import ColorName, Recipe, recipe_parse


def color_list(*, include_inactive: bool = False) -> QuerySet[Color]:
    colors = Color.objects.all()
    return colors if include_inactive else colors.filter(is_active=True)


def color_names() -> list[ColorName]:
    """Names under which active colours may be written in a recipe."""
    return [
        ColorName(code=code, name_en=en, name_ru=ru)
        for code, en, ru in color_list().values_list("code", "name_en", "name_ru")
    ]


def palette_current(*, include_inactive: bool = False) -> list[PaletteColor]:
    """The stock colours as measured today, as the engines and the analyzer take them."""
    return [
        PaletteColor.measured(
            code=c.code, lab=c.lab, hex_code=c.hex, lightness_spread=c.lightness_spread
        )
        for c in color_list(include_inactive=include_inactive)
    ]


def palette_snapshot(*, recipe: Recipe) -> dict[str, dict[str, Any]]:
    """The recipe's colours as measured now, keyed by code: what a render job keeps."""
    codes = {c.code for c in recipe.components}
    return {
        c.code: c.as_snapshot() for c in palette_current(include_inactive=True) if c.code in codes
    }


def recipe_validate(*, value: object) -> Recipe:
    """Parse a recipe against the active stock colours (raises catalog.recipes.RecipeError)."""
    return recipe_parse(value=value, colors=color_names())


def product_list(*, include_unpublished: bool) -> QuerySet[TileProduct]:
    products = TileProduct.objects.all()
    return products if include_unpublished else products.filter(is_published=True)


def product_list_with_images(
    *, include_unpublished: bool, recipe: Recipe | None = None, view: str = ""
) -> QuerySet[TileProduct]:
    """Products, each with `current_images`: the pictures it shows now (one per recipe, view
    and angle), narrowed to one recipe and view when given."""
    images = CatalogImage.objects.filter(is_current=True).order_by(
        "recipe_canonical", "view", "angle"
    )
    if recipe is not None:
        images = images.filter(recipe_canonical=recipe.canonical)
    if view:
        images = images.filter(view=view)
    return product_list(include_unpublished=include_unpublished).prefetch_related(
        Prefetch("images", queryset=images, to_attr="current_images")
    )


def catalog_image_current(
    *, product: TileProduct, recipe: Recipe, view: str, angle: int
) -> CatalogImage | None:
    """The picture the product shows now for this recipe, view and angle, if any."""
    return CatalogImage.objects.filter(
        product=product, recipe_canonical=recipe.canonical, view=view, angle=angle, is_current=True
    ).first()


def products_with_cover(queryset: QuerySet[TileProduct]) -> QuerySet[TileProduct]:
    """Each product with `cover_thumbnail`: the file name of its newest current picture's
    thumbnail (one subquery, not one query per row of a list)."""
    newest = CatalogImage.objects.filter(product=OuterRef("pk"), is_current=True).order_by(
        "-created_at"
    )
    return queryset.annotate(cover_thumbnail=Subquery(newest.values("thumbnail")[:1]))


def catalog_images_of(*, product: TileProduct, current: bool, limit: int) -> list[CatalogImage]:
    """A product's pictures: those it shows now, or those it showed before (newest first)."""
    images = CatalogImage.objects.filter(product=product, is_current=current)
    order = ("recipe_canonical", "view", "angle") if current else ("-superseded_at",)
    return list(images.order_by(*order)[:limit])


def product_get(*, sku: str, include_unpublished: bool) -> TileProduct | None:
    return product_list(include_unpublished=include_unpublished).filter(sku=sku).first()


def recipe_list() -> QuerySet[ColorRecipe]:
    return ColorRecipe.objects.prefetch_related("components__color")


SAME_MIX_SHOWN = 10


def recipe_name_clash(*, name: str, exclude_pk: int | None = None) -> ColorRecipe | None:
    """The recipe that already has this name, ignoring case, if any."""
    # Compared in Python: SQLite's lower() knows only ASCII ("Осень" and "осень").
    wanted = name.strip().casefold()
    same_length = ColorRecipe.objects.annotate(name_length=Length("name")).filter(
        name_length=len(name.strip())
    )
    if exclude_pk is not None:
        same_length = same_length.exclude(pk=exclude_pk)
    return next((r for r in same_length.only("pk", "name") if r.name.casefold() == wanted), None)


def recipes_with_same_mix(*, canonical: str, exclude_pk: int | None = None) -> list[ColorRecipe]:
    """Other recipes of exactly this mix (staff are told: one mix, two names)."""
    found = ColorRecipe.objects.filter(canonical=canonical)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return list(found.order_by("name")[:SAME_MIX_SHOWN])


def recipe_of(*, recipe: ColorRecipe) -> Recipe:
    """The stored recipe as the parser's value object (already validated on the way in)."""
    return recipe_parse(
        value=[{"color": c.color.code, "percent": c.percent} for c in recipe.components.all()],
        colors=[ColorName(code=c.color.code) for c in recipe.components.all()],
    )
