"""Colour analyses of photos: `POST /api/v1/analyses/` with a picture (multipart `image`, or
`image_url` naming a picture this shop stored), optionally a recipe to check against; the
answer is 202 and the analysis to poll, measured on a worker (renders/worker/analysis.py).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.recipes import RecipeError
from catalog.selectors import recipe_validate
from plitka_site.api.media import media_name_url, media_url
from plitka_site.api.parsers import StrictJSONParser, StrictMultiPartParser
from plitka_site.api.permissions import caller_is_staff
from plitka_site.api.schema import ErrorEnvelopeSerializer
from renders.api.poll import wait_asked, wait_for_change, wait_parameter
from renders.api.serializers import api_datetime
from renders.api.views import RenderRequestRefused, requester_of
from renders.errors import QuotaExceeded
from renders.image_uploads import MAX_BYTES, CheckedImage, ImageRefused, image_upload_check
from renders.models import ColourAnalysis
from renders.services.analyses import colour_analysis_submit

# Pictures this shop stored, named by their content: the only ones `image_url` may name.
OWN_MEDIA = re.compile(
    r"(renders/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.png"
    r"|analyses/[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp))"
)


class AnalysisRequestSerializer(serializers.Serializer):
    image = serializers.FileField(
        required=False, help_text="The photo: JPEG, PNG or WebP, up to 12 MiB and 24 Mpx."
    )
    image_url = serializers.CharField(
        required=False,
        max_length=500,
        help_text="Instead of `image`: the URL of a picture this shop serves (a render's "
        "`result.image`, or an analysis's `image`).",
    )
    recipe = serializers.CharField(
        required=False,
        max_length=1000,
        help_text="A recipe to check the photo against, e.g. RED:60,BLACK:40.",
    )
    tolerance_pp = serializers.FloatField(
        required=False,
        min_value=0.5,
        max_value=50.0,
        default=3.0,
        help_text="The largest share error (percentage points) that still passes.",
    )


class AnalysisSerializer(serializers.ModelSerializer):
    """The analysis as a client reads it (documents `analysis_body`)."""

    image = serializers.CharField()
    recipe = serializers.CharField(source="recipe_canonical")
    result = serializers.JSONField(
        allow_null=True,
        help_text="Once succeeded: `colours` (code, percent, confidence, runner_up), `shares`, "
        "`tile_fraction`, `granules`, `warnings`, `nearest_stock_mix`, `nearest_recipes`; "
        "`pictures` with the URLs of the `tile_mask` (WebP) and the `colour_map` (PNG, each "
        "counted pixel in its stock colour); told a recipe, `check` (shares told the recipe, "
        "`max_share_error_pp`, `passed`).",
    )
    error = serializers.JSONField(allow_null=True)

    class Meta:
        model = ColourAnalysis
        fields = [
            "id",
            "status",
            "image",
            "width",
            "height",
            "recipe",
            "tolerance_pp",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "result",
            "telemetry",
            "error",
        ]


def analysis_body(analysis: ColourAnalysis, request: Request) -> dict[str, Any]:
    return {
        "id": str(analysis.pk),
        "status": analysis.status,
        "image": media_url(request, analysis.image),
        "width": analysis.width,
        "height": analysis.height,
        "recipe": analysis.recipe_canonical,
        "tolerance_pp": analysis.tolerance_pp,
        "attempts": analysis.attempts,
        "created_at": api_datetime(analysis.created_at),
        "started_at": api_datetime(analysis.started_at),
        "finished_at": api_datetime(analysis.finished_at),
        "result": _pictures_as_urls(analysis.result, request),
        "telemetry": analysis.telemetry,
        "error": (
            {"code": analysis.error_code, "message": analysis.error_message}
            if analysis.error_code
            else None
        ),
    }


def _pictures_as_urls(result: dict[str, Any] | None, request: Request) -> dict[str, Any] | None:
    """The result with its pictures (stored by name) as URLs a client can fetch."""
    if not result or not result.get("pictures"):
        return result
    pictures = {kind: media_name_url(request, name) for kind, name in result["pictures"].items()}
    return {**result, "pictures": pictures}


def _stored_picture(value: str) -> bytes:
    """The bytes of a picture this shop stored, named by its URL; never a path given."""
    path = urlsplit(value.strip()).path
    prefix = urlsplit(settings.MEDIA_URL).path
    name = path.removeprefix(prefix) if path.startswith(prefix) else ""
    if not OWN_MEDIA.fullmatch(name):
        raise ValidationError(
            {"image_url": ["give the URL of a render's result.image or of an analysed photo"]}
        )
    if not default_storage.exists(name):
        raise ValidationError({"image_url": ["no picture is stored at that URL"]})
    if default_storage.size(name) > MAX_BYTES:
        raise ValidationError({"image_url": ["the picture is larger than 12 MiB"]})
    with default_storage.open(name, "rb") as stored:
        return bytes(stored.read())


class AnalysisViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Colour analyses: which stock colours a photo holds, and whether it passes a recipe."""

    serializer_class = AnalysisSerializer
    parser_classes = [StrictMultiPartParser, StrictJSONParser]
    filter_backends: list[type] = []
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> QuerySet[ColourAnalysis]:
        if getattr(self, "swagger_fake_view", False):
            return ColourAnalysis.objects.none()
        analyses = ColourAnalysis.objects.all()
        if caller_is_staff(self.request):
            return analyses
        return analyses.filter(client_id=requester_of(self.request).client_id)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([analysis_body(a, request) for a in page or []])

    @extend_schema(
        parameters=[wait_parameter("the analysis's status changes (queued, running, done)")]
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wait = wait_asked(request)
        analysis = self.get_object()
        headers = {}
        if wait and not analysis.is_terminal:
            status_now = analysis.status

            def unchanged() -> bool:
                now = ColourAnalysis.objects.filter(pk=analysis.pk).values_list("status", flat=True)
                return now.first() == status_now

            # Woken on the analysis's own channel, as a render's poll on its job's.
            if wait_for_change(job_id=str(analysis.pk), seconds=wait, unchanged=unchanged):
                analysis = self.get_object()
            else:
                headers["Retry-After"] = "1"  # no waiting slot free: answered now
        return Response(analysis_body(analysis, request), headers=headers)

    @extend_schema(
        request={"multipart/form-data": AnalysisRequestSerializer},
        responses={
            202: AnalysisSerializer,
            413: OpenApiResponse(ErrorEnvelopeSerializer, description="The body is too large."),
            429: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="The key's rate or its daily quota (renders and analyses together) "
                "is used up (Retry-After says until when).",
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = AnalysisRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        upload, url = data.get("image"), data.get("image_url")
        if (upload is None) == (url is None):
            raise ValidationError({"image": ["send either image (a file) or image_url"]})
        if upload is not None:
            raw = upload.read(MAX_BYTES + 1)
            field = "image"
        else:
            raw = _stored_picture(url)
            field = "image_url"
        try:
            picture: CheckedImage = image_upload_check(data=raw)
        except ImageRefused as exc:
            raise ValidationError({field: [exc.message]}) from exc
        recipe = None
        if data.get("recipe"):
            try:
                recipe = recipe_validate(value=data["recipe"])
            except RecipeError as exc:
                raise ValidationError({"recipe": exc.problems}) from exc
        try:
            analysis = colour_analysis_submit(
                image=picture,
                recipe=recipe,
                tolerance_pp=float(data["tolerance_pp"]),
                requester=requester_of(request),
            )
        except QuotaExceeded as exc:
            raise RenderRequestRefused(exc) from exc
        location = request.build_absolute_uri(f"{analysis.pk}/")
        return Response(
            analysis_body(analysis, request),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )
