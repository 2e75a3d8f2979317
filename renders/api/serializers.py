"""Render jobs on the wire (v1). Shapes only: the services validate values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.recipes import MAX_COMPONENTS, MAX_RECIPE_TEXT
from gpu_worker.params import RenderParams, render_param_declarations
from plitka_site.api.fields import CheckedJSONField
from plitka_site.api.media import media_url
from plitka_site.api.permissions import caller_is_staff
from renders.api.params import render_param_fields
from renders.models import RenderJob, RenderTelemetry, Worker


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "description": "A stored recipe's id"},
            {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_RECIPE_TEXT,
                "pattern": r"\S",
                "description": "COLOR:PERCENT pairs, e.g. RED:60,BLACK:40",
            },
            {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_COMPONENTS,
                "items": {
                    "type": "object",
                    "required": ["color", "percent"],
                    "properties": {
                        "color": {"type": "string", "minLength": 1, "maxLength": 60},
                        "percent": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                },
            },
        ]
    }
)
class RecipeValueField(CheckedJSONField):
    """A recipe as a render request names it: a stored recipe's id, or the recipe itself."""


class RenderSubmitSerializer(serializers.Serializer):
    """Product and recipe, plus one field per render parameter (see gpu_worker.params)."""

    product = serializers.CharField(max_length=32, help_text="Product SKU, e.g. SQ-500-30")
    recipe = RecipeValueField(
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


def api_datetime(moment: datetime | None) -> str | None:
    """As DRF writes a datetime: ISO 8601, UTC as Z."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


TELEMETRY_FIELDS = [
    f.attname for f in RenderTelemetry._meta.concrete_fields if f.name not in {"id", "job"}
]


def _telemetry(telemetry: RenderTelemetry | None, *, timeline: bool) -> dict[str, Any] | None:
    if telemetry is None:
        return None
    found = {name: getattr(telemetry, name) for name in TELEMETRY_FIELDS}
    found["created_at"] = api_datetime(telemetry.created_at)
    if not timeline:
        del found["timeline"]
    return found


# A Celery worker's name, "render1@gpu-host-3", as error messages quote it. Matches only
# from the start of a run of name characters, without backtracking: linear in the text.
_WORKER_NAME = re.compile(r"(?:worker )?(?<![\w.-])[\w.-]++@[\w.-]++")


WITHDRAWN_MESSAGE = "Canceled at your request."


def expanded_fields(request: Any) -> set[str]:
    """What `?expand=a,b` asks to include (the job's view and its JSON read it the same)."""
    raw = request.query_params.get("expand", "") if hasattr(request, "query_params") else ""
    return {part.strip() for part in raw[:100].split(",")}


class RenderJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent done.")
    attempts = serializers.IntegerField(
        min_value=0, help_text="Times a worker took the job (more after a worker was lost)."
    )
    product = serializers.CharField(source="product.sku", help_text="The product's SKU.")
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

    def to_representation(self, instance: RenderJob) -> dict[str, Any]:
        """The job as one plain dict, built directly: the status poll is the API's hottest
        path, and DRF's per-field machinery cost more than the rest of the request. The
        declared fields above still describe it in the schema. The telemetry's sample
        timeline only with `?expand=telemetry`."""
        job = instance
        request = self.context.get("request")
        expand = request is not None and "telemetry" in expanded_fields(request)
        # Internal only (issue 11): a storefront sees no worker host names and no library
        # versions, which say where and on what the backend runs.
        staff = self.context.get("staff")
        if staff is None:
            staff = request is None or caller_is_staff(request)
        # Recorded when a job finishes: a job still on its way has none to look up.
        telemetry = _telemetry(
            getattr(job, "telemetry", None) if job.is_terminal else None, timeline=expand
        )
        error = self.get_error(job)
        if not staff:
            if telemetry is not None:
                telemetry["versions"] = {}
            if error is not None:
                error["message"] = _WORKER_NAME.sub("a worker", error["message"])
        body = {
            "id": str(job.pk),
            "status": job.status,
            "progress": job.progress,
            "product": job.product.sku,
            "recipe": self.get_recipe(job),
            "recipe_canonical": job.recipe_canonical,
            "params": self.get_params(job),
            "render_key": job.render_key,
            "engine": job.render_params.engine,
            "engine_version": job.engine_version,
            "model_revision": job.model_revision,
            "queue": job.queue,
            "source": job.source,
            "attempts": job.attempts,
            "worker": job.worker if staff else "",
            "device": job.device,
            "created_at": api_datetime(job.created_at),
            "started_at": api_datetime(job.started_at),
            "finished_at": api_datetime(job.finished_at),
            "result": self.get_result(job),
            "fidelity": job.fidelity,
            "telemetry": telemetry,
            "error": error,
        }
        withdrawn_at = getattr(job, "request_withdrawn_at", None)
        if withdrawn_at is not None and job.status != RenderJob.Status.CANCELED:
            # The client canceled its request; the shared render may go on for others, but
            # what this client asked for is over.
            body |= {
                "status": RenderJob.Status.CANCELED.value,
                "finished_at": api_datetime(withdrawn_at),
                "result": None,
                "fidelity": None,
                "telemetry": None,
                "error": {"code": "canceled", "message": WITHDRAWN_MESSAGE},
            }
        return body

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
            "image": media_url(request, job.result_image),
            "thumbnail": media_url(request, job.result_thumbnail),
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
