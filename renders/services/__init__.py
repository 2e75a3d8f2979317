"""Writes of the renders app, one module per use case."""

from renders.services.cancel import render_job_cancel
from renders.services.dispatch import render_job_dispatch
from renders.services.publish import render_job_publish
from renders.services.reconcile import render_jobs_reconcile
from renders.services.requests import render_request_record, render_request_withdraw
from renders.services.retention import render_history_prune
from renders.services.stale import catalog_rerender_stale
from renders.services.submit import (
    Requester,
    SubmitResult,
    render_job_resubmit,
    render_job_submit,
)

__all__ = [
    "Requester",
    "SubmitResult",
    "catalog_rerender_stale",
    "render_history_prune",
    "render_job_cancel",
    "render_job_dispatch",
    "render_job_publish",
    "render_job_resubmit",
    "render_job_submit",
    "render_jobs_reconcile",
    "render_request_record",
    "render_request_withdraw",
]
