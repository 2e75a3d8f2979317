"""Webhook endpoints: an API key registers, lists and removes its callback URLs, and reads
what was sent to them. Signing and delivery: renders/services/webhooks.py."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from plitka_site.api.permissions import IsStaffOrApiKey
from plitka_site.apikeys.models import ApiKey
from renders.models import Webhook, WebhookDelivery
from renders.services.webhooks import webhook_register, webhook_remove

DELIVERIES_SHOWN = 50


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=2000,
        help_text="http(s) URL that receives a POST when a render this key asked for "
        "finishes. Outside DEBUG it must resolve to public addresses only.",
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "created_at"]
        read_only_fields = ["id", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (see the README). Shown only in this answer: keep it.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    job = serializers.UUIDField(source="job_id")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "job",
            "state",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "finished_at",
        ]


def _api_key(request: Request) -> ApiKey:
    api_key = request.auth
    if not isinstance(api_key, ApiKey):
        raise PermissionDenied("Webhooks belong to API keys: call with `Authorization: Api-Key`.")
    return api_key


class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The calling API key's webhooks (at most WEBHOOKS_PER_KEY)."""

    serializer_class = WebhookSerializer
    permission_classes = [IsStaffOrApiKey]
    pagination_class = None
    filter_backends: list[type] = []
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> QuerySet[Webhook]:
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return Webhook.objects.filter(api_key=_api_key(self.request), removed_at=None)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        api_key = _api_key(request)
        payload = WebhookSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            webhook = webhook_register(
                api_key=api_key,
                url=payload.validated_data["url"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValueError as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Webhook) -> None:
        webhook_remove(webhook=instance)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The webhook's latest deliveries, newest first."""
        webhook = self.get_object()
        shown = WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at")
        return Response(WebhookDeliverySerializer(shown[:DELIVERIES_SHOWN], many=True).data)
