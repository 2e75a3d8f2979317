"""What the operations dashboard shows, read from the database and the broker.

Every read is bounded: the charts cover DAYS days, and the percentile and fidelity reads
take at most SAMPLE_LIMIT rows each (the newest), so the page stays fast however much
history is kept.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import redis
from django.conf import settings
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate
from django.utils import timezone

from renders.models import RenderJob, RenderTelemetry, WebhookDelivery, Worker

DAYS = 14
PERCENTILE_DAYS = 7
SAMPLE_LIMIT = 20_000
TOP_ERRORS = 5
BROKER_TIMEOUT_S = 0.5


@dataclass(frozen=True, slots=True)
class QueueDepth:
    queue: str
    waiting: int  # rows the database says are queued
    messages: int | None  # what the broker holds (None: Redis did not answer)


@dataclass(frozen=True, slots=True)
class EngineDurations:
    engine: str
    jobs: int
    p50_s: float
    p95_s: float
    queue_wait_p50_s: float


@dataclass(frozen=True, slots=True)
class WorkerState:
    name: str
    device: str
    memory_used_mb: float | None
    memory_total_mb: float | None
    memory_budget_mb: float | None
    rss_mb: float | None
    current_job_id: str | None
    heartbeat_age_s: float
    alive: bool


@dataclass(slots=True)
class Overview:
    days: list[date]
    per_day: dict[str, list[int]]  # status -> count per day
    durations: list[EngineDurations]
    queues: list[QueueDepth]
    finished: int = 0
    failed: int = 0
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    fidelity_per_day: list[float | None] = field(default_factory=list)
    workers: list[WorkerState] = field(default_factory=list)
    last_hour: int = 0

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.finished if self.finished else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def queue_depths() -> list[QueueDepth]:
    """Per queue (render queues and webhooks): what waits in the database and the broker."""
    waiting = dict(
        RenderJob.objects.filter(status=RenderJob.Status.QUEUED)
        .values_list("queue")
        .annotate(n=Count("pk"))
    )
    waiting[settings.WEBHOOK_QUEUE] = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING
    ).count()
    keys = {**settings.RENDER_QUEUES, settings.WEBHOOK_QUEUE: settings.WEBHOOK_QUEUE}
    messages: dict[str, int] = {}
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_timeout=BROKER_TIMEOUT_S,
            socket_connect_timeout=BROKER_TIMEOUT_S,
        )
        for queue, key in keys.items():
            messages[queue] = int(client.llen(key))
    except redis.RedisError:
        pass
    return [QueueDepth(queue, waiting.get(queue, 0), messages.get(queue)) for queue in keys]


def _durations(since: datetime) -> list[EngineDurations]:
    rows = (
        RenderTelemetry.objects.filter(job__finished_at__gte=since, total_s__isnull=False)
        .annotate(engine=KeyTextTransform("engine", "job__params"))
        .order_by("-job__finished_at")
        .values_list("engine", "total_s", "queue_wait_s")[:SAMPLE_LIMIT]
    )
    totals: dict[str, list[float]] = defaultdict(list)
    waits: dict[str, list[float]] = defaultdict(list)
    for engine, total_s, wait_s in rows:
        if total_s is None:
            continue
        totals[engine or "unknown"].append(float(total_s))
        if wait_s is not None:
            waits[engine or "unknown"].append(float(wait_s))
    return [
        EngineDurations(
            engine=engine,
            jobs=len(values),
            p50_s=_percentile(values, 0.5),
            p95_s=_percentile(values, 0.95),
            queue_wait_p50_s=_percentile(waits[engine], 0.5) if waits[engine] else 0.0,
        )
        for engine, values in sorted(totals.items())
    ]


def _fidelity_per_day(days: list[date], since: datetime) -> list[float | None]:
    """The median of each day's largest share error (pp) over its succeeded renders."""
    rows = (
        RenderJob.objects.filter(status=RenderJob.Status.SUCCEEDED, finished_at__gte=since)
        .annotate(
            error=KeyTextTransform("max_share_error_pp", "fidelity"), day=TruncDate("finished_at")
        )
        .filter(error__isnull=False)
        .order_by("-finished_at")
        .values_list("day", "error")[:SAMPLE_LIMIT]
    )
    per_day: dict[date, list[float]] = defaultdict(list)
    for day, error in rows:
        try:
            per_day[day].append(float(error))
        except (TypeError, ValueError):
            continue
    return [statistics.median(per_day[day]) if per_day[day] else None for day in days]


def _workers(now: datetime) -> list[WorkerState]:
    return [
        WorkerState(
            name=worker.name,
            device=worker.device,
            memory_used_mb=worker.device_memory_used_mb,
            memory_total_mb=worker.device_memory_total_mb,
            memory_budget_mb=worker.memory_budget_mb,
            rss_mb=worker.rss_mb,
            current_job_id=str(worker.current_job_id) if worker.current_job_id else None,
            heartbeat_age_s=(now - worker.last_heartbeat).total_seconds(),
            alive=(now - worker.last_heartbeat).total_seconds()
            < 3 * settings.RENDER_HEARTBEAT_STALE_S,
        )
        for worker in Worker.objects.order_by("name")
    ]


def operations_overview(*, now: datetime | None = None) -> Overview:
    """The dashboard's numbers: the last DAYS days by UTC date."""
    now = now or timezone.now()
    today = now.date()
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=now.tzinfo)
    per_day: dict[str, list[int]] = {status: [0] * DAYS for status in RenderJob.Status.values}
    index = {day: i for i, day in enumerate(days)}
    counted = (
        RenderJob.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
    )
    for day, status, n in counted:
        if day in index and status in per_day:
            per_day[status][index[day]] += n
    week = now - timedelta(days=PERCENTILE_DAYS)
    terminal = RenderJob.objects.filter(finished_at__gte=week, status__in=RenderJob.TERMINAL)
    errors = Counter(
        dict(
            terminal.filter(status=RenderJob.Status.FAILED)
            .values_list("error_code")
            .annotate(n=Count("pk"))
        )
    )
    return Overview(
        days=days,
        per_day=per_day,
        durations=_durations(week),
        queues=queue_depths(),
        finished=terminal.count(),
        failed=sum(errors.values()),
        top_errors=errors.most_common(TOP_ERRORS),
        fidelity_per_day=_fidelity_per_day(days, since),
        workers=_workers(now),
        last_hour=RenderJob.objects.filter(finished_at__gte=now - timedelta(hours=1)).count(),
    )
