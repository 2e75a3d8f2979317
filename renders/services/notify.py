"""Telling waiting pollers that a job changed: one Redis message per change, best effort.

A long poll (`GET /renders/{id}/?wait=...`, and `GET /analyses/{id}/?wait=...` on its
analysis's id) sleeps on its job's channel and re-reads the row when woken. The message
says only "look again"; the row is the truth. A message lost (Redis away for a moment)
costs the poller at most LONG_POLL_RECHECK_S of delay.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import redis
from django.db import transaction

from plitka_site.redis_client import redis_attempt

CHANNEL_PREFIX = "plitka:job:"


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


def render_job_notify(*, job_ids: Iterable[uuid.UUID | str]) -> None:
    """Wake whoever waits on these jobs, once the current transaction (if any) commits."""
    channels = [job_channel(job_id) for job_id in job_ids]

    def publish(client: redis.Redis) -> None:
        pipe = client.pipeline(transaction=False)
        for channel in channels:
            pipe.publish(channel, b"1")
        pipe.execute()

    # Best effort: a poller re-reads the row every LONG_POLL_RECHECK_S anyway.
    if channels:
        transaction.on_commit(lambda: redis_attempt(publish, what=f"announcing {channels}"))
