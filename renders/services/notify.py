"""Telling waiting pollers that a job changed: one Redis message per change, best effort.

A long poll (`GET /renders/{id}/?wait=...`) sleeps on its job's channel and re-reads the
row when woken. The message says only "look again"; the row is the truth. A message lost
(Redis away for a moment) costs the poller at most LONG_POLL_RECHECK_S of delay.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

import redis
from django.db import transaction

from plitka_site.redis_client import REDIS_FAILURES, redis_away, redis_client, redis_failed

logger = logging.getLogger(__name__)
CHANNEL_PREFIX = "plitka:job:"


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


def notify_client() -> redis.Redis:
    """This process's Redis connection pool for job notifications (short timeouts: a
    change is never held up long by a slow Redis)."""
    return redis_client()


def render_job_notify(*, job_ids: Iterable[uuid.UUID | str]) -> None:
    """Wake whoever waits on these jobs, once the current transaction (if any) commits."""
    channels = [job_channel(job_id) for job_id in job_ids]

    def publish() -> None:
        if redis_away():
            return  # pollers re-read the row every LONG_POLL_RECHECK_S anyway
        try:
            pipe = notify_client().pipeline(transaction=False)
            for channel in channels:
                pipe.publish(channel, b"1")
            pipe.execute()
        except REDIS_FAILURES as exc:
            redis_failed()
            logger.warning("could not announce a change of jobs %s: %s", channels, exc)

    if channels:
        transaction.on_commit(publish)
