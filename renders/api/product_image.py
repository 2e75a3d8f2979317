"""`GET /api/v1/products/{sku}/image/`: a product's picture in one call. A redirect to it
when the catalog has it; otherwise the render that makes it (asked for now, or shared with
an identical request), answered 202 with the job to follow."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.views import RECIPE_QUERY
from catalog.selectors import catalog_image_current, product_get
from gpu_worker.params import ParamError, render_params_parse
from plitka_site.api.media import media_url
from plitka_site.api.permissions import caller_is_staff
from plitka_site.api.schema import ErrorEnvelopeSerializer
from renders.api.serializers import RenderJobSerializer
from renders.api.views import RenderRequestRefused, requester_of
from renders.errors import RenderRequestError
from renders.selectors import render_job_list
from renders.services import render_job_submit
from renders.services.submit import render_recipe_resolve

# What picks the picture; the rest of a render's parameters take their defaults.
PICTURE_PARAMS = ("view", "angle", "size")


class ProductImageView(APIView):
    @extend_schema(
        operation_id="v1_products_image",
        parameters=[
            OpenApiParameter(
                "recipe",
                {**RECIPE_QUERY, "minLength": 1},
                required=True,
                description="A stored recipe's id, or the mix, e.g. RED:60,BLACK:40.",
            ),
            OpenApiParameter("view", {"type": "string", "enum": ["top", "perspective"]}),
            OpenApiParameter("angle", {"type": "integer", "minimum": 0, "maximum": 359}),
            OpenApiParameter(
                "size",
                {"type": "integer", "minimum": 256, "maximum": 2048},
                description="Only a picture of this width will do (any, when left out).",
            ),
        ],
        responses={
            302: OpenApiResponse(description="The picture exists: Location is its URL."),
            202: OpenApiResponse(
                RenderJobSerializer,
                description="Not yet: the render that makes it (poll the job at Location, "
                "or ask again).",
            ),
            404: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="No such product, or no picture yet and the key may not render.",
            ),
        },
    )
    def get(self, request: Request, sku: str) -> Any:
        product = product_get(sku=sku[:32], include_unpublished=caller_is_staff(request))
        if product is None:
            raise NotFound(f"There is no product with SKU {sku[:32]!r}.")
        raw_recipe = request.query_params.get("recipe", "")
        if not raw_recipe:
            raise ValidationError(
                {"recipe": ["required: a recipe id or a mix like RED:60,BLACK:40"]}
            )
        try:
            choice = render_recipe_resolve(value=raw_recipe)
            asked = {k: v for k in PICTURE_PARAMS if (v := request.query_params.get(k))}
            params = render_params_parse(asked)
        except RenderRequestError as exc:
            raise RenderRequestRefused(exc) from exc
        except ParamError as exc:
            raise ValidationError({k: [v] for k, v in exc.fields.items()}) from exc
        current = catalog_image_current(
            product=product, recipe=choice.recipe, view=params.view, angle=params.angle
        )
        if current is not None and ("size" not in asked or current.width == params.size):
            location = media_url(request, current.image) or ""
            redirect = HttpResponseRedirect(location)
            redirect["Cache-Control"] = "private, max-age=60"
            return redirect
        if not caller_is_staff(request) and not getattr(request.auth, "can_render", False):
            raise NotFound(
                "This product has no picture for that recipe, view and angle yet, and this "
                "key's scope may not ask for a render."
            )
        requester = requester_of(request)
        try:
            result = render_job_submit(
                product_sku=product.sku, recipe=choice, params=params, requester=requester
            )
        except RenderRequestError as exc:
            raise RenderRequestRefused(exc) from exc
        client = None if caller_is_staff(request) else requester.client_id
        job = render_job_list(client_id=client).get(pk=result.job.pk)
        body = RenderJobSerializer(job, context={"request": request}).data
        headers = {
            "Location": request.build_absolute_uri(f"/api/v1/renders/{job.pk}/"),
            "Retry-After": "1",
        }
        return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)
