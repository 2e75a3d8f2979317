"""Shapes of catalog resources on the wire (v1)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Color, ColorRecipe, TileProduct
from catalog.recipes import Recipe, RecipeError
from catalog.selectors import recipe_validate


class ColorSerializer(serializers.ModelSerializer):
    lab = serializers.SerializerMethodField()

    class Meta:
        model = Color
        fields = ["code", "name_en", "name_ru", "hex", "lab"]

    def get_lab(self, color: Color) -> list[float]:
        return [round(v, 1) for v in color.lab]


class ProductSerializer(serializers.ModelSerializer):
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
        ]


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
