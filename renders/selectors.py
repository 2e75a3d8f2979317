"""Reads of render jobs, workers and what the catalog would render today."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, F, FilteredRelation, Q, QuerySet, When
from django.forms.models import model_to_dict
from django.utils import timezone

from gpu_worker.params import render_param_declaration
from renders.models import (
    Experiment,
    ExperimentCell,
    RenderJob,
    RenderRequest,
    RenderTelemetry,
    Worker,
)


def render_job_list(*, client_id: str | None = None) -> QuerySet[RenderJob]:
    """Jobs a caller may see: staff (client_id None) see all, a client the jobs it asked
    for (made or shared), each with `request_withdrawn_at` (its request, if canceled)."""
    return _jobs_of(RenderJob.objects.select_related("product", "telemetry"), client_id)


def _jobs_of(jobs: QuerySet[RenderJob], client_id: str | None) -> QuerySet[RenderJob]:
    if client_id is None:
        return jobs
    # One join, on the client's own request (at most one per job, a constraint says).
    mine = FilteredRelation("requests", condition=Q(requests__client_id=client_id))
    return (
        jobs.alias(mine=mine)
        .filter(mine__isnull=False)
        .annotate(request_withdrawn_at=F("mine__withdrawn_at"))
    )


# What the job's JSON reads of the row and its product: a poll selects only these (the SQL
# of a select with every column of three tables cost more than the rest of the poll).
POLL_FIELDS = (
    "id",
    "status",
    "progress",
    "product__sku",
    "params",
    "render_key",
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
    "result_image",
    "result_thumbnail",
    "result_width",
    "result_height",
    "fidelity",
    "error_code",
    "error_message",
    "client_id",
)


def render_job_for_poll(*, client_id: str | None = None) -> QuerySet[RenderJob]:
    """Jobs as a poll reads one: its own columns the JSON shows, the product's SKU; the
    telemetry (which exists only once the job is finished) is read when it is asked for.
    A client reads only the jobs it asked for, as render_job_list."""
    return _jobs_of(RenderJob.objects.select_related("product").only(*POLL_FIELDS), client_id)


def render_job_active_or_done(*, render_key: str) -> RenderJob | None:
    """A queued/running job with this key, else the newest succeeded one."""
    # One query: active jobs first (at most one, a constraint says), then the newest success.
    return (
        RenderJob.objects.filter(
            render_key=render_key, status__in=[*RenderJob.ACTIVE, RenderJob.Status.SUCCEEDED]
        )
        .alias(later=Case(When(status=RenderJob.Status.SUCCEEDED, then=1), default=0))
        .order_by("later", F("finished_at").desc(nulls_last=True))
        .first()
    )


def render_requests_of(*, job_id: uuid.UUID) -> list[RenderRequest]:
    """The clients' requests for one job, oldest first (at most one per client)."""
    return list(RenderRequest.objects.filter(job_id=job_id).order_by("created_at", "pk")[:100])


def render_jobs_created_today(*, client_id: str) -> int:
    since = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return RenderJob.objects.filter(client_id=client_id, created_at__gte=since).count()


def render_jobs_lost(*, now: datetime) -> QuerySet[RenderJob]:
    """Running jobs whose worker stopped heartbeating."""
    cutoff = now - timedelta(seconds=settings.RENDER_HEARTBEAT_STALE_S)
    return RenderJob.objects.filter(status=RenderJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def render_jobs_waiting_too_long(*, now: datetime) -> QuerySet[RenderJob]:
    """Queued jobs that were never dispatched, or dispatched a while ago."""
    cutoff = now - timedelta(seconds=settings.RENDER_REDISPATCH_AFTER_S)
    return RenderJob.objects.filter(status=RenderJob.Status.QUEUED).filter(
        Q(dispatched_at__isnull=True, created_at__lt=now - timedelta(seconds=5))
        | Q(dispatched_at__lt=cutoff)
    )


def worker_list() -> QuerySet[Worker]:
    return Worker.objects.select_related("current_job")


def render_telemetry_summary(telemetry: RenderTelemetry) -> dict[str, Any]:
    """A job's telemetry as plain values, without the sample timeline (for people)."""
    return model_to_dict(telemetry, exclude=["id", "job", "timeline"])


def render_timings(telemetry: RenderTelemetry) -> dict[str, float | None]:
    """Seconds per phase of one render, keyed by phase."""
    phases = ("load", "inference", "postprocess", "store", "other", "total", "engine_render")
    return {phase: getattr(telemetry, f"{phase}_s") for phase in phases}


def render_jobs_with_param(
    *, jobs: QuerySet[RenderJob], name: str, value: object
) -> QuerySet[RenderJob]:
    """Jobs whose render parameter `name` is `value` (from the API's or the admin's filter).

    A parameter at its default may be absent from `params` (see RenderParams.normalised),
    so asking for the default also finds the jobs that do not have the key.
    """
    if value == render_param_declaration(name).default:
        return jobs.filter(Q(**{f"params__{name}": value}) | ~Q(params__has_key=name))
    return jobs.filter(**{f"params__{name}": value})


@dataclass(frozen=True, slots=True)
class CellResult:
    """One experiment cell as the contact sheet shows it."""

    cell: ExperimentCell
    status: str
    error_pp: float | None  # largest share error after colour correction
    error_before_pp: float | None  # and before it: how well diffusion kept the layout
    appearance_delta_e: float | None
    seconds: float | None  # the engine's render
    peak_memory_mb: float | None  # the device's peak, or the process's on the CPU

    @property
    def finished(self) -> bool:
        return self.status == RenderJob.Status.SUCCEEDED and self.error_pp is not None

    def rank(self) -> tuple[float, float, float]:
        """Smaller is better: error before correction, after it, then time."""
        return (
            self.error_before_pp if self.error_before_pp is not None else self.error_pp or 0.0,
            self.error_pp or 0.0,
            self.seconds or 0.0,
        )


def experiment_results(*, experiment: Experiment) -> list[CellResult]:
    cells = experiment.cells.select_related("job", "job__telemetry").order_by(
        "angle", "control", "scale"
    )
    results = []
    for cell in cells:
        job = cell.job
        fidelity = (job.fidelity if job is not None else None) or {}
        before = fidelity.get("before_correction") or {}
        telemetry = getattr(job, "telemetry", None) if job is not None else None
        peak = None
        if telemetry is not None:
            peak = telemetry.peak_device_memory_mb or telemetry.rss_peak_mb
        results.append(
            CellResult(
                cell=cell,
                status=job.status if job is not None else "deleted",
                error_pp=fidelity.get("max_share_error_pp"),
                error_before_pp=before.get("max_share_error_pp"),
                appearance_delta_e=fidelity.get("appearance_delta_e00"),
                seconds=telemetry.engine_render_s if telemetry is not None else None,
                peak_memory_mb=peak,
            )
        )
    return results


def experiment_winners(*, experiment: Experiment) -> dict[int, CellResult]:
    return cells_best_per_angle(experiment_results(experiment=experiment))


def cells_best_per_angle(results: Sequence[CellResult]) -> dict[int, CellResult]:
    """The best finished cell per angle (CellResult.rank)."""
    best: dict[int, CellResult] = {}
    for result in results:
        if not result.finished:
            continue
        angle = result.cell.angle
        if angle not in best or result.rank() < best[angle].rank():
            best[angle] = result
    return best
