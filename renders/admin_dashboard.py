"""The operations dashboard: staff only, linked from the admin index, drawn on the server."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext

from renders.admin import SHARE_TARGET_PP
from renders.dashboard import operations_overview
from renders.models import RenderJob
from renders.plots import BarSeries, line_svg, stacked_bars_svg

REFRESH_S = 30
STATUS_COLOURS = {
    RenderJob.Status.SUCCEEDED: "#2e7d32",
    RenderJob.Status.FAILED: "#c62828",
    RenderJob.Status.CANCELED: "#9e9e9e",
    RenderJob.Status.RUNNING: "#1565c0",
    RenderJob.Status.QUEUED: "#f9a825",
}


def operations_dashboard(request: HttpRequest) -> HttpResponse:
    overview = operations_overview(now=timezone.now())
    labels = [day.strftime("%d %b") for day in overview.days]
    per_day = stacked_bars_svg(
        gettext("Renders per day by status (UTC, by submission)"),
        labels,
        [
            BarSeries(str(RenderJob.Status(status).label), colour, overview.per_day[status])
            for status, colour in STATUS_COLOURS.items()
        ],
        unit=gettext("jobs"),
    )
    fidelity = line_svg(
        gettext("Fidelity: median of each day's largest share error"),
        labels,
        overview.fidelity_per_day,
        unit="pp",
        target=SHARE_TARGET_PP,
    )
    context = {
        **admin.site.each_context(request),
        "title": gettext("Operations"),
        "overview": overview,
        "per_day_chart": per_day,
        "fidelity_chart": fidelity,
        "refresh_s": REFRESH_S,
        "queued_now": sum(q.waiting for q in overview.queues if q.queue != "webhooks"),
        "workers_alive": sum(1 for w in overview.workers if w.alive),
    }
    return TemplateResponse(request, "admin/operations.html", context)
