"""Catalog endpoints: thin views that parse, authorise and call selectors/services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api.filters import ProductFilter
from catalog.api.serializers import (
    ColorSerializer,
    ProductSerializer,
    RecipeCreatedSerializer,
    RecipeInputSerializer,
    RecipeSerializer,
)
from catalog.models import CatalogImage, Color, ColorRecipe, TileProduct
from catalog.recipes import RecipeError
from catalog.selectors import (
    color_list,
    product_list_with_images,
    recipe_list,
    recipe_validate,
    recipes_with_same_mix,
)
from catalog.services import RecipeNameTaken, recipe_create
from plitka_site.api.permissions import caller_is_staff
from plitka_site.api.schema import ErrorEnvelopeSerializer


class ColorViewSet(viewsets.ReadOnlyModelViewSet):
    """The stock granule palette (active colours)."""

    serializer_class = ColorSerializer
    lookup_field = "code"
    ordering_fields = ["code", "name_en"]
    pagination_class = None  # 29 colours: the storefront wants them in one go

    def get_queryset(self) -> QuerySet[Color]:
        return color_list()


# A recipe in a query string: printable ASCII, short enough that a URL carrying it stays
# well inside the 4 KB request line gunicorn reads (past it, its own HTML 414).
RECIPE_QUERY = {"type": "string", "maxLength": 300, "pattern": "^[ -~]*$"}

# Which of its pictures a product answer carries (each product, all of them by default).
IMAGE_FILTERS = [
    OpenApiParameter(
        "recipe",
        RECIPE_QUERY,
        description="Only the pictures of this recipe, e.g. RED:60,BLACK:40 (any order).",
    ),
    OpenApiParameter(
        "view",
        {"type": "string", "enum": list(CatalogImage.View.values)},
        description="Only the pictures from this view.",
    ),
]


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Tile products; storefront keys see published products only."""

    serializer_class = ProductSerializer
    lookup_field = "sku"
    filterset_class = ProductFilter
    ordering_fields = ["sku", "name", "width_mm", "created_at"]

    @extend_schema(parameters=IMAGE_FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=IMAGE_FILTERS)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[TileProduct]:
        if getattr(self, "swagger_fake_view", False):
            return TileProduct.objects.none()
        params = self.request.query_params
        recipe = None
        if raw := params.get("recipe", ""):
            try:
                recipe = recipe_validate(value=raw)
            except RecipeError as exc:
                raise ValidationError({"recipe": exc.problems}) from exc
        view = params.get("view", "")
        if view and view not in CatalogImage.View.values:
            raise ValidationError({"view": [f"one of: {', '.join(CatalogImage.View.values)}"]})
        return product_list_with_images(
            include_unpublished=caller_is_staff(self.request), recipe=recipe, view=view
        )


class RecipeNameConflict(APIException):
    """409: the name is another recipe's; `fields.name` says which."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "name_taken"

    def __init__(self, error: RecipeNameTaken) -> None:
        super().__init__(detail=str(error), code="name_taken")
        self.fields = {"name": [str(error)]}


class RecipeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Colour recipes; `components` is a list of {color, percent} or 'RED:60,BLACK:40'."""

    serializer_class = RecipeSerializer
    # ASCII digits only: Django would read "٣" as 3; 18 digits fit a bigint.
    lookup_value_regex = "[0-9]{1,18}"
    ordering_fields = ["name", "created_at"]
    filterset_fields = ["canonical"]

    def get_queryset(self) -> QuerySet[ColorRecipe]:
        return recipe_list()

    @extend_schema(
        request=RecipeInputSerializer,
        responses={
            201: RecipeCreatedSerializer,
            409: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="Another recipe has this name (compared ignoring case).",
            ),
        },
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        payload = RecipeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        try:
            recipe = recipe_create(
                name=payload.validated_data["name"],
                recipe=payload.validated_data["components"],
                created_by=user,
            )
        except RecipeNameTaken as exc:
            raise RecipeNameConflict(exc) from exc
        recipe = recipe_list().get(pk=recipe.pk)
        body = RecipeSerializer(recipe, context=self.get_serializer_context()).data
        body["same_mix_as"] = [
            {"id": other.pk, "name": other.name}
            for other in recipes_with_same_mix(canonical=recipe.canonical, exclude_pk=recipe.pk)
        ]
        location = request.build_absolute_uri(f"{recipe.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})
