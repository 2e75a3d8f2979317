"""Writes to the catalog. Every recipe that is stored went through catalog.recipes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import CatalogImage, Color, ColorRecipe, RecipeComponent, TileProduct
from catalog.palette import stock_palette
from catalog.recipes import Recipe
from catalog.selectors import recipe_name_clash, recipe_validate


def color_sync_stock() -> int:
    """Create or update the stock colours from the shipped palette; returns how many."""
    for entry in stock_palette():
        lab_l, lab_a, lab_b = entry["lab"]
        Color.objects.update_or_create(
            code=entry["code"],
            defaults={
                "name_en": entry["name_en"],
                "name_ru": entry["name_ru"],
                "hex": entry["hex"].upper(),
                "lab_l": lab_l,
                "lab_a": lab_a,
                "lab_b": lab_b,
                "lightness_spread": entry["lightness_spread"],
            },
        )
    return len(stock_palette())


def _components_write(*, recipe_row: ColorRecipe, recipe: Recipe) -> None:
    colors = {c.code: c for c in Color.objects.filter(code__in=[x.code for x in recipe.components])}
    recipe_row.components.all().delete()
    RecipeComponent.objects.bulk_create(
        RecipeComponent(recipe=recipe_row, color=colors[c.code], percent=c.percent)
        for c in recipe.components
    )


class RecipeNameTaken(ValueError):
    """Another recipe has this name (ignoring case)."""

    def __init__(self, existing: ColorRecipe) -> None:
        self.existing = existing
        super().__init__(
            f"a recipe named {existing.name!r} exists already (id {existing.pk}); "
            "names are compared ignoring case"
        )


def _name_check(name: str, *, exclude_pk: int | None = None) -> None:
    if (clash := recipe_name_clash(name=name, exclude_pk=exclude_pk)) is not None:
        raise RecipeNameTaken(clash)


def _saved(row: ColorRecipe, *, update_fields: list[str] | None = None) -> None:
    """Save, turning the unique name constraint's refusal (a race with another writer)
    into the same error as the check before it."""
    try:
        with transaction.atomic():
            row.save(update_fields=update_fields)
    except IntegrityError:
        _name_check(row.name, exclude_pk=row.pk)
        raise


@transaction.atomic
def recipe_create(*, name: str, recipe: Recipe, created_by: User | None = None) -> ColorRecipe:
    """Store a recipe that the parser has accepted (the caller parsed it, once).

    Raises RecipeNameTaken when another recipe has the name (ignoring case).
    """
    name = name.strip()
    _name_check(name)
    row = ColorRecipe(name=name, canonical=recipe.canonical, created_by=created_by)
    _saved(row)
    _components_write(recipe_row=row, recipe=recipe)
    return row


@transaction.atomic
def recipe_update(*, recipe_row: ColorRecipe, name: str, recipe: Recipe) -> ColorRecipe:
    """Replace a stored recipe's name and components with a parsed recipe."""
    recipe_row.name = name.strip()
    _name_check(recipe_row.name, exclude_pk=recipe_row.pk)
    recipe_row.canonical = recipe.canonical
    _saved(recipe_row, update_fields=["name", "canonical", "updated_at"])
    _components_write(recipe_row=recipe_row, recipe=recipe)
    return recipe_row


@transaction.atomic
def catalog_image_replace(
    *,
    product: TileProduct,
    recipe_canonical: str,
    view: str,
    angle: int,
    image_name: str,
    width: int,
    height: int,
    render_key: str,
    render_job_id: UUID | None,
    thumbnail_name: str = "",
    fidelity: dict[str, Any] | None = None,
) -> CatalogImage:
    """Make an already stored file the product's current image for this slot.

    The previous current image stays as history. Safe to call twice with the same job: the
    second call returns the row the first made.
    """
    # Two workers publishing to one slot at once: each would lock the old current row,
    # and the second, finding it no longer current, would insert a second current image
    # (the constraint refused it, and the job was left running: found by the fault
    # suite's 1,000-job run). The product's row is one lock both take first.
    list(TileProduct.objects.select_for_update().filter(pk=product.pk).values_list("pk"))
    current = (
        CatalogImage.objects.select_for_update()
        .filter(
            product=product,
            recipe_canonical=recipe_canonical,
            view=view,
            angle=angle,
            is_current=True,
        )
        .first()
    )
    if current is not None and render_job_id is not None and current.render_job_id == render_job_id:
        return current
    if current is not None:
        current.is_current = False
        current.superseded_at = timezone.now()
        current.save(update_fields=["is_current", "superseded_at"])
    image = CatalogImage(
        product=product,
        recipe_canonical=recipe_canonical,
        view=view,
        angle=angle,
        width=width,
        height=height,
        render_key=render_key,
        render_job_id=render_job_id,
        fidelity=fidelity,
    )
    image.image.name = image_name
    image.thumbnail.name = thumbnail_name
    image.save()
    return image


DEMO_PRODUCTS: tuple[dict[str, object], ...] = (
    {
        "sku": "SQ-500-30",
        "name": "Square tile 500x500x30",
        "shape": "square",
        "width_mm": 500,
        "height_mm": 500,
        "thickness_mm": 30,
        "granule_size": "medium",
    },
    {
        "sku": "SQ-500-40",
        "name": "Square tile 500x500x40",
        "shape": "square",
        "width_mm": 500,
        "height_mm": 500,
        "thickness_mm": 40,
        "granule_size": "coarse",
    },
    {
        "sku": "BR-200-100-40",
        "name": "Brick 200x100x40",
        "shape": "brick",
        "width_mm": 200,
        "height_mm": 100,
        "thickness_mm": 40,
        "granule_size": "fine",
    },
    {
        "sku": "BR-300-150-45",
        "name": "Brick 300x150x45",
        "shape": "brick",
        "width_mm": 300,
        "height_mm": 150,
        "thickness_mm": 45,
        "granule_size": "medium",
    },
    {
        "sku": "PZ-500-30",
        "name": "Puzzle tile 500x500x30",
        "shape": "puzzle",
        "width_mm": 500,
        "height_mm": 500,
        "thickness_mm": 30,
        "granule_size": "medium",
    },
    {
        "sku": "PZ-1000-40",
        "name": "Puzzle mat 1000x1000x40",
        "shape": "puzzle",
        "width_mm": 1000,
        "height_mm": 1000,
        "thickness_mm": 40,
        "granule_size": "coarse",
        "is_published": False,
    },
)

DEMO_RECIPES: tuple[tuple[str, str], ...] = (
    ("Autumn", "RED:60,BLACK:40"),
    ("Forest path", "DKGREEN:50,BROWN:30,BEIGE:20"),
    ("Sea", "BLUE:40,SKYBLUE:35,WHITE:25"),
    ("Playground", "YELLOW:25,RED:25,BLUE:25,GRNAPL:25"),
    ("Graphite", "DKGRAY:70,LTGRAY:30"),
    ("Terracotta", "TERCOT:100"),
)


@transaction.atomic
def demo_catalog_load() -> dict[str, int]:
    """Idempotently make the demo products and recipes; returns how many of each exist."""
    color_sync_stock()
    for product in DEMO_PRODUCTS:
        fields = {"is_published": True, **product}
        sku = fields.pop("sku")
        TileProduct.objects.update_or_create(sku=sku, defaults=fields)
    for name, components in DEMO_RECIPES:
        recipe = recipe_validate(value=components)
        # Names are unique ignoring case: staff's "autumn" is the demo's "Autumn".
        existing = recipe_name_clash(name=name)
        if existing is None:
            recipe_create(name=name, recipe=recipe)
        elif existing.canonical != recipe.canonical:
            recipe_update(recipe_row=existing, name=name, recipe=recipe)
    return {"products": len(DEMO_PRODUCTS), "recipes": len(DEMO_RECIPES)}
