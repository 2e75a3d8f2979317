"""Webhooks: registering callback URLs, and delivering "a render finished" to them.

When a job finishes (succeeded, failed or canceled), every API key that asked for it and
still waits for it gets one delivery per active webhook: a row holding the exact JSON the
key would read from `GET /renders/{id}/`, made in the job's own transaction and sent once
it commits. A delivery is sent by `renders.deliver_webhook` on the webhooks queue:
claimed for one attempt (so two senders never post at once and a redelivered message
does nothing), posted (renders/webhook_transport.py), and recorded. 2xx is delivered;
5xx, 429, 408, timeouts and connection errors are tried again with exponential backoff
(and Retry-After, when longer); anything else fails at once. The reconciler's sweep sends
again any due delivery whose message was lost.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from plitka_site.apikeys.models import ApiKey
from renders.models import RenderJob, RenderRequest, Webhook, WebhookDelivery
from renders.services.dispatch import task_send
from renders.webhook_transport import Attempt, webhook_post, webhook_url_check

logger = logging.getLogger(__name__)

DELIVER_TASK = "renders.deliver_webhook"
EVENT_FINISHED = "render.finished"
RETRY_CAP_S = 3600.0
LEASE_MARGIN_S = 30  # a claim outlives its attempt's deadline by this much
SWEEP_GRACE_S = 30  # a due delivery unclaimed for this long has lost its message
SWEEP_RESEND_S = 60  # and is sent again at most this often
SWEEP_LIMIT = 200


class WebhookRefused(ValueError):
    """A webhook that cannot be registered; the message says why."""


def webhook_register(*, api_key: ApiKey, url: str, base_url: str) -> Webhook:
    """A new webhook for the key (its secret is in the returned row, shown once).

    Raises WebhookRefused (or its parent ValueError, WebhookUrlRefused) with the reason.
    """
    webhook_url_check(url)
    with transaction.atomic():
        # The key's row lock makes "at most WEBHOOKS_PER_KEY" hold against parallel calls.
        ApiKey.objects.select_for_update().filter(pk=api_key.pk).first()
        active = Webhook.objects.filter(api_key=api_key, removed_at=None).count()
        if active >= settings.WEBHOOKS_PER_KEY:
            raise WebhookRefused(
                f"this key has {active} webhooks, the most it may have; remove one first"
            )
        return Webhook.objects.create(
            api_key=api_key,
            url=url,
            secret="whsec_" + secrets.token_urlsafe(32),
            base_url=base_url[:300],
        )


def webhook_remove(*, webhook: Webhook) -> None:
    """Stop sending to the webhook; deliveries still pending fail, their log is kept."""
    now = timezone.now()
    with transaction.atomic():
        Webhook.objects.filter(pk=webhook.pk, removed_at=None).update(removed_at=now)
        WebhookDelivery.objects.filter(webhook=webhook, state=WebhookDelivery.State.PENDING).update(
            state=WebhookDelivery.State.FAILED, finished_at=now, last_error="webhook removed"
        )


class _BaseUrl:
    """Stands in for the request when the job's JSON is built for a webhook: the URLs in
    it are absolute, on the host the client registered the webhook through."""

    query_params: dict[str, str] = {}

    def __init__(self, base_url: str) -> None:
        self._base = base_url

    def build_absolute_uri(self, location: str) -> str:
        return urljoin(self._base, location)


def _job_body(job: RenderJob, *, base_url: str) -> str:
    from renders.api.serializers import RenderJobSerializer

    data = RenderJobSerializer(job, context={"request": _BaseUrl(base_url), "staff": False}).data
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def webhook_deliveries_create(*, job: RenderJob) -> list[uuid.UUID]:
    """One delivery of the finished job per active webhook of each key still waiting for it.

    Called in the transaction that finishes the job; the deliveries are sent after it
    commits. Safe to call twice: a delivery that exists is not made again.
    """
    key_ids = [
        int(client_id.removeprefix("key:"))
        for client_id in RenderRequest.objects.filter(
            job=job, withdrawn_at=None, client_id__startswith="key:"
        ).values_list("client_id", flat=True)
        if client_id.removeprefix("key:").isdigit()
    ]
    if not key_ids:
        return []
    now = timezone.now()
    made: list[WebhookDelivery] = []
    for webhook in Webhook.objects.filter(
        api_key_id__in=key_ids, removed_at=None, api_key__revoked_at=None
    ):
        delivery, created = WebhookDelivery.objects.get_or_create(
            webhook=webhook,
            job=job,
            event=EVENT_FINISHED,
            defaults={
                "payload": _job_body(job, base_url=webhook.base_url),
                "next_attempt_at": now,
            },
        )
        if created:
            made.append(delivery)
    ids = [delivery.pk for delivery in made]
    if ids:
        transaction.on_commit(lambda: webhook_deliveries_dispatch(delivery_ids=ids))
    return ids


def webhook_deliveries_dispatch(*, delivery_ids: list[uuid.UUID], countdown: float = 0) -> None:
    """Send each delivery's task; one the broker does not take is left to the sweep."""
    for delivery_id in delivery_ids:
        if task_send(
            DELIVER_TASK, args=[str(delivery_id)], queue=settings.WEBHOOK_QUEUE, countdown=countdown
        ):
            WebhookDelivery.objects.filter(pk=delivery_id).update(dispatched_at=timezone.now())


def _claim(delivery_id: str, now: datetime) -> datetime | None:
    """Own the delivery for one attempt: its lease's end, or None (not due, done, or taken)."""
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_S + LEASE_MARGIN_S)
    taken = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=lease)
    )
    return lease if taken else None


def _retry_delay(attempts: int, attempt: Attempt) -> float:
    delay = settings.WEBHOOK_RETRY_FIRST_S * 2 ** (attempts - 1)
    delay *= 1 + random.random() * 0.2  # spread retries of one outage apart
    if attempt.retry_after_s is not None:
        delay = max(delay, attempt.retry_after_s)
    return min(delay, RETRY_CAP_S)


def _log_entry(attempt: Attempt, at: datetime) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "url": attempt.url,
        "status": attempt.status,
        "error": attempt.error,
        "response": attempt.excerpt,
        "seconds": attempt.seconds,
    }


def webhook_delivery_attempt(*, delivery_id: str) -> str:
    """Make the delivery's next attempt if it is due and nobody else is making it.

    Returns what happened: delivered, retrying, failed, or skipped.
    """
    now = timezone.now()
    lease = _claim(delivery_id, now)
    if lease is None:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.FAILED, finished_at=now, last_error="webhook removed"
        )
        return "failed"
    attempt = webhook_post(
        url=webhook.url,
        secret=webhook.secret,
        delivery_id=str(delivery.pk),
        event=delivery.event,
        body=delivery.payload.encode(),
    )
    done_at = timezone.now()
    attempts = delivery.attempts + 1
    changes: dict[str, Any] = {
        "attempts": attempts,
        "claimed_until": None,
        "last_status_code": attempt.status,
        "last_error": attempt.error,
        "log": [*delivery.log, _log_entry(attempt, done_at)][-settings.WEBHOOK_MAX_ATTEMPTS * 2 :],
    }
    delay = 0.0
    if attempt.delivered:
        changes |= {"state": WebhookDelivery.State.DELIVERED, "finished_at": done_at}
        outcome = "delivered"
    elif attempt.retryable and attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = _retry_delay(attempts, attempt)
        changes["next_attempt_at"] = done_at + timedelta(seconds=delay)
        outcome = "retrying"
    else:
        changes |= {"state": WebhookDelivery.State.FAILED, "finished_at": done_at}
        outcome = "failed"
    # Only while the claim is still ours (an attempt that overran its lease changes nothing).
    WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=lease).update(**changes)
    if outcome == "retrying":
        webhook_deliveries_dispatch(delivery_ids=[delivery.pk], countdown=delay)
    logger.info("webhook delivery %s to %s: %s", delivery.pk, webhook.url, outcome)
    return outcome


def webhook_deliveries_sweep(*, now: datetime | None = None) -> list[str]:
    """Send again the due deliveries nobody has taken for a while (a lost or unsent message)."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=SWEEP_GRACE_S),
        )
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .filter(
            Q(dispatched_at=None) | Q(dispatched_at__lt=now - timedelta(seconds=SWEEP_RESEND_S))
        )
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    ids = list(due)
    webhook_deliveries_dispatch(delivery_ids=ids)
    return [str(delivery_id) for delivery_id in ids]


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """Staff's "send again": a finished delivery goes back to pending with fresh attempts."""
    if not delivery.webhook.is_active:
        return False
    updated = WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        finished_at=None,
        claimed_until=None,
    )
    if updated:
        transaction.on_commit(lambda: webhook_deliveries_dispatch(delivery_ids=[delivery.pk]))
    return bool(updated)
