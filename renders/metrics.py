"""Prometheus metrics for operators, read from the database and the broker at scrape time.

Every web process answers the same numbers (they are the installation's, not the
process's), so nothing is lost when gunicorn restarts a worker. The duration histograms
count the render history that is kept (`prune_render_history` lowers them, which
Prometheus reads as a counter reset).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from renders.dashboard import queue_depths
from renders.models import RenderJob, RenderTelemetry, Worker

# Seconds: from a procedural thumbnail to a 40-step SDXL picture on a busy queue.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


def _histogram(name: str, documentation: str, field: str) -> HistogramMetricFamily:
    """Cumulative counts of telemetry rows per engine with `field` at most each bucket."""
    family = HistogramMetricFamily(name, documentation, labels=["engine"])
    aggregates: dict[str, Any] = {
        f"le_{i}": Count("pk", filter=Q(**{f"{field}__lte": bound}))
        for i, bound in enumerate(DURATION_BUCKETS)
    }
    rows = (
        RenderTelemetry.objects.filter(**{f"{field}__isnull": False})
        .annotate(engine=KeyTextTransform("engine", "job__params"))
        .values("engine")
        .annotate(total=Count("pk"), total_sum=Sum(field), **aggregates)
    )
    for found in rows:
        row: dict[str, Any] = dict(found)
        buckets = [(str(b), row[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS)]
        buckets.append(("+Inf", row["total"]))
        family.add_metric([row["engine"] or "unknown"], buckets, row["total_sum"] or 0.0)
    return family


class PlitkaCollector(Collector):
    def collect(self) -> Iterator[Any]:
        yield self._jobs()
        yield from self._queues()
        yield _histogram(
            "plitka_render_duration_seconds",
            "A finished job's time on its worker, claim to stored result.",
            "total_s",
        )
        yield _histogram(
            "plitka_queue_wait_seconds",
            "A job's wait from submission until a worker claimed it.",
            "queue_wait_s",
        )
        yield from self._workers()

    @staticmethod
    def _jobs() -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "plitka_render_jobs",
            "Render jobs kept, by status and engine.",
            labels=["status", "engine"],
        )
        rows = (
            RenderJob.objects.annotate(engine=KeyTextTransform("engine", "params"))
            .values("status", "engine")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            family.add_metric([row["status"], row["engine"] or "unknown"], row["n"])
        return family

    @staticmethod
    def _queues() -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "plitka_queue_jobs_waiting",
            "Queued jobs per queue (the database; webhooks: pending deliveries).",
            labels=["queue"],
        )
        messages = GaugeMetricFamily(
            "plitka_queue_messages",
            "Messages waiting in the broker per queue (absent when Redis does not answer).",
            labels=["queue"],
        )
        for depth in queue_depths():
            waiting.add_metric([depth.queue], depth.waiting)
            if depth.messages is not None:
                messages.add_metric([depth.queue], depth.messages)
        yield waiting
        yield messages

    @staticmethod
    def _workers() -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        age = GaugeMetricFamily(
            "plitka_worker_heartbeat_age_seconds",
            "Seconds since each worker's last heartbeat.",
            labels=["worker", "device"],
        )
        memory = GaugeMetricFamily(
            "plitka_worker_memory_megabytes",
            "Each worker's memory: device used, device total, device budget, process RSS.",
            labels=["worker", "kind"],
        )
        busy = GaugeMetricFamily(
            "plitka_worker_busy", "1 while a worker runs a job.", labels=["worker"]
        )
        for worker in Worker.objects.all():
            age.add_metric(
                [worker.name, worker.device], (now - worker.last_heartbeat).total_seconds()
            )
            for kind, value in (
                ("device_used", worker.device_memory_used_mb),
                ("device_total", worker.device_memory_total_mb),
                ("device_budget", worker.memory_budget_mb),
                ("rss", worker.rss_mb),
            ):
                if value is not None:
                    memory.add_metric([worker.name, kind], value)
            busy.add_metric([worker.name], 1 if worker.current_job_id else 0)
        yield from (age, memory, busy)


def _allowed(request: HttpRequest) -> bool:
    user = request.user
    if user.is_authenticated and user.is_staff:
        return True
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: staff (admin session) or `Authorization: Bearer $METRICS_TOKEN`."""
    if not _allowed(request):
        return HttpResponse(
            "metrics need a staff session or Authorization: Bearer METRICS_TOKEN\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlitkaCollector())
    return HttpResponse(
        generate_latest(registry), content_type="text/plain; version=0.0.4; charset=utf-8"
    )
