"""Shapes of catalog resources on the wire (v1)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import CatalogImage, Color, ColorRecipe, TileProduct
from catalog.recipes import Recipe, RecipeError
from catalog.selectors import recipe_validate
from plitka_site.api.media import media_url


class ColorSerializer(serializers.ModelSerializer):
    lab = serializers.SerializerMethodField()

    class Meta:
        model = Color
        fields = ["code", "name_en", "name_ru", "hex", "lab"]

    def get_lab(self, color: Color) -> list[float]:
        return [round(v, 1) for v in color.lab]


class CatalogImageSerializer(serializers.ModelSerializer):
    """A picture a product shows now, for one recipe, view and angle."""

    recipe = serializers.CharField(source="recipe_canonical")
    # Plain values, as a render's `view` has them: one enum in the schema for both.
    view = serializers.ChoiceField(choices=list(CatalogImage.View.values))
    image = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()
    render_job = serializers.UUIDField(source="render_job_id", allow_null=True)
    fidelity = serializers.JSONField(allow_null=True)

    class Meta:
        model = CatalogImage
        fields = [
            "recipe",
            "view",
            "angle",
            "image",
            "thumbnail",
            "width",
            "height",
            "created_at",
            "render_job",
            "fidelity",
        ]

    def get_image(self, image: CatalogImage) -> str:
        return media_url(self.context.get("request"), image.image) or ""

    def get_thumbnail(self, image: CatalogImage) -> str | None:
        return media_url(self.context.get("request"), image.thumbnail)


class ProductSerializer(serializers.ModelSerializer):
    images = serializers.SerializerMethodField(
        help_text="The pictures the product shows now, one per recipe, view and angle "
        "(?recipe= and ?view= narrow them)."
    )

    class Meta:
        model = TileProduct
        fields = [
            "sku",
            "name",
            "shape",
            "width_mm",
            "height_mm",
            "thickness_mm",
            "granule_size",
            "is_published",
            "images",
        ]

    @extend_schema_field(CatalogImageSerializer(many=True))
    def get_images(self, product: TileProduct) -> list[dict[str, Any]]:
        images = getattr(product, "current_images", None)
        if images is None:
            return []
        return list(CatalogImageSerializer(images, many=True, context=self.context).data)


class ComponentSerializer(serializers.Serializer):
    color = serializers.CharField()
    percent = serializers.IntegerField(min_value=1, max_value=100)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"$ref": "#/components/schemas/Component"}},
            {"type": "string", "example": "RED:60,BLACK:40"},
        ]
    }
)
class RecipeField(serializers.Field):
    """A recipe in list or string form, validated by the one recipe parser."""

    default_error_messages = {"invalid": "{problem}"}

    def to_internal_value(self, data: Any) -> Recipe:
        try:
            return recipe_validate(value=data)
        except RecipeError as exc:
            raise serializers.ValidationError(exc.problems) from exc

    def to_representation(self, value: Recipe) -> list[dict[str, Any]]:
        return value.as_list()


class RecipeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    components = RecipeField()


class RecipeSerializer(serializers.ModelSerializer):
    components = serializers.SerializerMethodField()

    class Meta:
        model = ColorRecipe
        fields = ["id", "name", "canonical", "components", "created_at"]

    @extend_schema_field(ComponentSerializer(many=True))
    def get_components(self, recipe: ColorRecipe) -> list[dict[str, Any]]:
        return [{"color": c.color.code, "percent": c.percent} for c in recipe.components.all()]


class SameMixSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RecipeCreatedSerializer(RecipeSerializer):
    same_mix_as = SameMixSerializer(
        many=True,
        read_only=True,
        help_text="Other recipes of exactly this mix under other names (at most 10).",
    )

    class Meta(RecipeSerializer.Meta):
        fields = [*RecipeSerializer.Meta.fields, "same_mix_as"]
