"""The status poll's fast path: ETags, finished jobs remembered, and the long poll.

Storefronts poll a job in a loop, and many shoppers read the same finished job (identical
requests share one render). So:
- every answer carries an ETag of what decides its body (status, progress, attempts,
  finish time, what was expanded); `If-None-Match` with it is answered 304, bodiless;
- a finished job never changes, so its body is remembered in the process for a little
  while and answered without touching the database;
- `?wait=SECONDS` (at most 30) holds the request until the job's status or progress
  changes, woken through Redis (renders.services.notify), so a storefront follows a render
  with a handful of requests. Each waiting request holds one server thread, so a process
  lets at most LONG_POLL_WAITERS wait at once; others are answered at once, as a plain poll.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from plitka_site.redis_client import REDIS_FAILURES, redis_client
from plitka_site.web_turns import turn_give_back
from renders.models import RenderJob
from renders.services.notify import job_channel

FINISHED_TTL_S = 10.0  # how long a finished job's body is reused (retention may delete it)
FINISHED_MAX = 4096  # bodies remembered per process
LONG_POLL_MAX_S = 30
LONG_POLL_RECHECK_S = 2.0  # the row is read again this often even without a message


# (job id, what was expanded and for whom, base URL, the client reading it or "" for staff)
FinishedKey = tuple[str, str, str, str]


def job_etag(job: RenderJob, *, expand: str) -> str:
    """A strong validator of the job's JSON: everything its body depends on that changes."""
    finished = job.finished_at.timestamp() if job.finished_at else 0
    parts = f"{job.pk}|{job.status}|{job.progress}|{job.attempts}|{job.worker}|{finished}|{expand}"
    return '"' + hashlib.blake2b(parts.encode(), digest_size=12).hexdigest() + '"'


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match: a list of ETags (weak ones compare equal), or *."""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header[:1000].split(",")}
    return etag in tags or "*" in tags


class FinishedJobs:
    """Bodies of finished jobs by FinishedKey, for a few seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: OrderedDict[FinishedKey, tuple[float, str, Any]] = OrderedDict()

    def get(self, key: FinishedKey) -> tuple[str, Any] | None:
        with self._lock:
            found = self._bodies.get(key)
            if found is None:
                return None
            if time.monotonic() - found[0] > FINISHED_TTL_S:
                del self._bodies[key]
                return None
            return found[1], found[2]

    def put(self, key: FinishedKey, etag: str, body: Any) -> None:
        with self._lock:
            self._bodies[key] = (time.monotonic(), etag, body)
            while len(self._bodies) > FINISHED_MAX:
                self._bodies.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()


finished_jobs = FinishedJobs()
_waiters = threading.BoundedSemaphore(max(0, settings.API_LONG_POLL_WAITERS))


def wait_seconds(raw: str | None) -> int:
    """`?wait=` as whole seconds, 0..LONG_POLL_MAX_S; ValueError names a bad one."""
    if raw is None:
        return 0
    if not raw or len(raw) > 2 or not raw.isascii() or not raw.isdigit():
        raise ValueError(f"wait must be a whole number of seconds, 0..{LONG_POLL_MAX_S}")
    seconds = int(raw)
    if seconds > LONG_POLL_MAX_S:
        raise ValueError(f"wait must be a whole number of seconds, 0..{LONG_POLL_MAX_S}")
    return seconds


def wait_asked(request: Request) -> int:
    """The request's `?wait=` in seconds (0 without one); a 400 names a bad one."""
    try:
        return wait_seconds(request.query_params.get("wait"))
    except ValueError as exc:
        raise ValidationError({"wait": [str(exc)]}) from exc


def wait_parameter(what_changes: str) -> OpenApiParameter:
    """`?wait=` in the schema, for a resource whose `what_changes` wakes it."""
    return OpenApiParameter(
        "wait",
        {"type": "integer", "minimum": 0, "maximum": LONG_POLL_MAX_S},
        description=f"Long poll: hold the answer up to this many seconds (0-{LONG_POLL_MAX_S}) "
        f"until {what_changes}.",
    )


def wait_for_change(*, job_id: str, seconds: float, unchanged: Callable[[], bool]) -> bool:
    """Return once `unchanged()` is false, or after `seconds`; False if no waiting slot was
    free or Redis is away (the caller answers at once)."""
    if not _waiters.acquire(blocking=False):
        return False
    pubsub = None
    try:
        pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(job_channel(job_id))
        deadline = time.monotonic() + seconds
        # Subscribed first, then looked: a change between the two is not missed.
        while unchanged():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            turn_give_back()  # only waiting now: the process serves other requests meanwhile
            pubsub.get_message(timeout=min(left, LONG_POLL_RECHECK_S))
        return True
    except REDIS_FAILURES:
        return False
    finally:
        if pubsub is not None:
            with contextlib.suppress(*REDIS_FAILURES):
                pubsub.close()
        _waiters.release()
