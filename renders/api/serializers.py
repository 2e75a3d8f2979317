"""Render jobs on the wire (v1). Shapes only: the services validate values."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gpu_worker.params import RenderParams, render_param_declarations
from renders.api.params import render_param_fields
from renders.models import RenderJob, RenderTelemetry, Worker


class RenderSubmitSerializer(serializers.Serializer):
    """Product and recipe, plus one field per render parameter (see gpu_worker.params)."""

    product = serializers.CharField(max_length=32, help_text="Product SKU, e.g. SQ-500-30")
    recipe = serializers.JSONField(
        help_text="A recipe id, a list of {color, percent}, or 'RED:60,BLACK:40'"
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **render_param_fields()}

    def render_params(self) -> RenderParams:
        """The parsed parameters; those left out or null take their defaults."""
        names = {name for name, _ in render_param_declarations()}
        values = {k: v for k, v in self.validated_data.items() if k in names and v is not None}
        return RenderParams(**values)


class TelemetrySerializer(serializers.ModelSerializer):
    class Meta:
        model = RenderTelemetry
        exclude = ["id", "job"]


def _url(request: Any, field: Any) -> str | None:
    if not field:
        return None
    url = field.url
    return request.build_absolute_uri(url) if request is not None else url


class RenderJobSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.sku")
    recipe = serializers.SerializerMethodField()
    recipe_canonical = serializers.CharField(read_only=True)
    params = serializers.SerializerMethodField()
    engine = serializers.CharField(source="render_params.engine", read_only=True)
    result = serializers.SerializerMethodField()
    telemetry = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = RenderJob
        fields = [
            "id",
            "status",
            "progress",
            "product",
            "recipe",
            "recipe_canonical",
            "params",
            "render_key",
            "engine",
            "engine_version",
            "model_revision",
            "queue",
            "source",
            "attempts",
            "worker",
            "device",
            "created_at",
            "started_at",
            "finished_at",
            "result",
            "fidelity",
            "telemetry",
            "error",
        ]

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"color": {"type": "string"}, "percent": {"type": "integer"}},
            },
        }
    )
    def get_recipe(self, job: RenderJob) -> list[dict[str, Any]]:
        return job.recipe_rendered.as_list()

    @extend_schema_field(
        {
            "type": "object",
            "description": "The normalised request: product geometry, canonical recipe and "
            "every render parameter (defaults included, seed resolved).",
        }
    )
    def get_params(self, job: RenderJob) -> dict[str, Any]:
        return {**job.params, **job.render_params.as_dict()}

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "image": {"type": "string"},
                "thumbnail": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
            },
        }
    )
    def get_result(self, job: RenderJob) -> dict[str, Any] | None:
        if job.status != RenderJob.Status.SUCCEEDED or not job.result_image:
            return None
        request = self.context.get("request")
        return {
            "image": _url(request, job.result_image),
            "thumbnail": _url(request, job.result_thumbnail),
            "width": job.result_width,
            "height": job.result_height,
        }

    @extend_schema_field(TelemetrySerializer(allow_null=True))
    def get_telemetry(self, job: RenderJob) -> dict[str, Any] | None:
        telemetry = getattr(job, "telemetry", None)
        return TelemetrySerializer(telemetry).data if telemetry is not None else None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    )
    def get_error(self, job: RenderJob) -> dict[str, str] | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}


class WorkerSerializer(serializers.ModelSerializer):
    current_job = serializers.UUIDField(source="current_job_id", allow_null=True)
    alive = serializers.SerializerMethodField()

    class Meta:
        model = Worker
        fields = [
            "name",
            "hostname",
            "pid",
            "device",
            "device_memory_total_mb",
            "device_memory_used_mb",
            "memory_budget_mb",
            "loaded_pipelines",
            "current_job",
            "cpu_percent",
            "rss_mb",
            "started_at",
            "last_heartbeat",
            "alive",
        ]

    def get_alive(self, worker: Worker) -> bool:
        return worker.alive
