"""What is waiting in Redis: the job ids that still have a live message."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable

import redis
from django.conf import settings

# kombu's Redis transport keeps delivered-but-unacknowledged messages in this hash.
UNACKED_KEY = "unacked"
SCAN_LIMIT = 50_000


def _job_id(raw: bytes | str) -> str | None:
    with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
        message = json.loads(raw)
        if isinstance(message, list):  # unacked entries are [message, exchange, routing_key]
            message = message[0]
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return str(args[0])
    return None


def _queue_keys(client: redis.Redis, queues: Iterable[str]) -> list[str]:
    # With priorities kombu splits a queue into several lists that share its name.
    keys: list[str] = []
    for queue in queues:
        keys.extend(k.decode() for k in client.scan_iter(match=f"{queue}*", count=1000))
    return keys


def live_job_ids() -> set[str]:
    """Ids of jobs with a message waiting in a render queue or held unacked by a worker."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    found: set[str] = set()
    for key in _queue_keys(client, settings.RENDER_QUEUES.values()):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, SCAN_LIMIT):
            if (job_id := _job_id(raw)) is not None:
                found.add(job_id)
    for raw in client.hvals(UNACKED_KEY):
        if (job_id := _job_id(raw)) is not None:
            found.add(job_id)
    return found
