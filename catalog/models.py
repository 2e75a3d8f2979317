"""Catalog tables. Validation of recipes lives in catalog.recipes, not here."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from catalog.geometry import GRANULE_SIZE_LABELS, SHAPE_LABELS, TileGeometry


class Color(models.Model):
    """A stock granule colour with its measured appearance (see data/palette.json)."""

    code = models.CharField(
        _("code"),
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]*$", "Codes are upper-case letters/digits.")],
    )
    name_en = models.CharField(_("English name"), max_length=64)
    name_ru = models.CharField(_("Russian name"), max_length=64)
    hex = models.CharField(
        _("hex colour"),
        max_length=7,
        validators=[RegexValidator(r"^#[0-9A-F]{6}$", "Use #RRGGBB.")],
    )
    lab_l = models.FloatField("L*")
    lab_a = models.FloatField("a*")
    lab_b = models.FloatField("b*")
    lightness_spread = models.FloatField(
        _("lightness spread"),
        help_text=_("Inter-quartile range of L* on a photo of a single-colour tile."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("colour")
        verbose_name_plural = _("colours")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name_en})"

    @property
    def lab(self) -> tuple[float, float, float]:
        return (self.lab_l, self.lab_a, self.lab_b)


class TileProduct(models.Model):
    sku = models.CharField(
        "SKU",
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9\-]*$", "Upper-case letters, digits, dash.")],
    )
    name = models.CharField(_("name"), max_length=200)
    shape = models.CharField(_("shape"), max_length=16, choices=list(SHAPE_LABELS.items()))
    width_mm = models.PositiveSmallIntegerField(
        _("width, mm"), validators=[MinValueValidator(50), MaxValueValidator(2000)]
    )
    height_mm = models.PositiveSmallIntegerField(
        _("height, mm"), validators=[MinValueValidator(50), MaxValueValidator(2000)]
    )
    thickness_mm = models.PositiveSmallIntegerField(
        _("thickness, mm"), validators=[MinValueValidator(5), MaxValueValidator(200)]
    )
    granule_size = models.CharField(
        _("granule size"), max_length=8, choices=list(GRANULE_SIZE_LABELS.items())
    )
    is_published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("tile product")
        verbose_name_plural = _("tile products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(width_mm__gte=50, height_mm__gte=50, thickness_mm__gte=5),
                name="product_dimensions_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def geometry(self) -> TileGeometry:
        """The product's shape and size as the engines take them."""
        return TileGeometry.from_dict(
            {
                "shape": self.shape,
                "width_mm": self.width_mm,
                "height_mm": self.height_mm,
                "thickness_mm": self.thickness_mm,
                "granule_size": self.granule_size,
            }
        )


class ColorRecipe(models.Model):
    """A named mix of colours. `canonical` is derived by the parser and stored for lookup."""

    name = models.CharField(_("name"), max_length=200)
    canonical = models.CharField(_("canonical form"), max_length=200, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("colour recipe")
        verbose_name_plural = _("colour recipes")
        ordering = ["name", "id"]
        constraints = [
            # "Autumn" and "autumn" would be two entries staff cannot tell apart in a list.
            models.UniqueConstraint(
                Lower("name"),
                name="recipe_name_unique_ignoring_case",
                violation_error_message="A recipe with this name exists already "
                "(names are compared ignoring case).",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.canonical}]"


class RecipeComponent(models.Model):
    recipe = models.ForeignKey(
        ColorRecipe, related_name="components", on_delete=models.CASCADE, verbose_name=_("recipe")
    )
    color = models.ForeignKey(
        Color, related_name="+", on_delete=models.PROTECT, verbose_name=_("color")
    )
    percent = models.PositiveSmallIntegerField(
        _("percent"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("recipe component")
        verbose_name_plural = _("recipe components")
        ordering = ["color__code"]
        constraints = [
            models.UniqueConstraint(fields=["recipe", "color"], name="recipe_color_once"),
            models.CheckConstraint(
                condition=Q(percent__gte=1, percent__lte=100), name="component_percent_1_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.color.code}:{self.percent}"


class CatalogImage(models.Model):
    """The picture a product shows for one recipe, view and angle.

    Replacing it keeps the old row (is_current=False) so the history of what the shop showed
    stays auditable. `render_job_id` points at the render job that made it; it is a plain
    id rather than a foreign key so the catalog does not depend on the renders app.
    """

    class View(models.TextChoices):
        TOP = "top", _("Top")
        PERSPECTIVE = "perspective", _("Perspective")

    product = models.ForeignKey(
        TileProduct, related_name="images", on_delete=models.CASCADE, verbose_name=_("product")
    )
    recipe_canonical = models.CharField(_("recipe"), max_length=200)
    view = models.CharField(_("view"), max_length=16, choices=View.choices)
    angle = models.PositiveSmallIntegerField(_("angle"), validators=[MaxValueValidator(359)])
    image = models.ImageField(_("image"), upload_to="catalog/", max_length=255)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="catalog/", max_length=255, blank=True)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    render_key = models.CharField(_("render key"), max_length=64, db_index=True)
    render_job_id = models.UUIDField(_("render job id"), null=True, blank=True, db_index=True)
    fidelity = models.JSONField(
        _("fidelity"),
        null=True,
        blank=True,
        help_text=_("The render's measured colour accuracy, as the job has it."),
    )
    is_current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalog image")
        verbose_name_plural = _("catalog images")
        ordering = ["product", "recipe_canonical", "view", "angle", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "recipe_canonical", "view", "angle"],
                condition=Q(is_current=True),
                name="one_current_image_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} {self.recipe_canonical} {self.view}@{self.angle}"
