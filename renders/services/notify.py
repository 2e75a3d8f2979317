"""Telling waiting pollers that a job changed: one Redis message per change, best effort.

A long poll (`GET /renders/{id}/?wait=...`) sleeps on its job's channel and re-reads the
row when woken. The message says only "look again"; the row is the truth. A message lost
(Redis away for a moment) costs the poller at most LONG_POLL_RECHECK_S of delay.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)
CHANNEL_PREFIX = "plitka:job:"
SOCKET_TIMEOUT_S = 0.5  # a change is never held up long by a slow Redis


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
    )


def notify_client() -> redis.Redis:
    """This process's Redis connection pool for job notifications (the broker's Redis)."""
    return _client(settings.CELERY_BROKER_URL)


def render_job_notify(*, job_ids: Iterable[uuid.UUID | str]) -> None:
    """Wake whoever waits on these jobs, once the current transaction (if any) commits."""
    channels = [job_channel(job_id) for job_id in job_ids]

    def publish() -> None:
        try:
            pipe = notify_client().pipeline(transaction=False)
            for channel in channels:
                pipe.publish(channel, b"1")
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("could not announce a change of jobs %s: %s", channels, exc)

    if channels:
        transaction.on_commit(publish)
